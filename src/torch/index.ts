/**
 * The tensor engine: libtorch through a thin N-API addon (native/), with an idiomatic TypeScript API modelled on
 * PyTorch. Everything above src/torch imports from here only. Contract: docs/engine-api.md.
 */
export {
  Tensor,
  tensor,
  scalar,
  zeros,
  ones,
  empty,
  full,
  randn,
  rand,
  arange,
  bernoulli,
  noGrad,
  isGradEnabled,
  tidy,
  keep,
  trace,
  memoryStats,
  setDefaultDevice,
  getDefaultDevice,
  type DType,
  type Device,
  type Shape,
  type TypedData,
  type TensorOptions,
  type TracedGraph,
  type TracedNode,
  type TraceValue,
} from './tensor.js';
export {
  F,
  cat,
  stack,
  split,
  where,
  type Pair,
  type Reduction,
  type Conv2dOptions,
  type MaxPool2dOptions,
  type AvgPool2dOptions,
  type InterpolateOptions,
  type GridSampleOptions,
  type CrossEntropyOptions,
} from './functional.js';
export { Module, Sequential, ModuleList, type ForwardHook } from './module.js';
export {
  Conv2d,
  Linear,
  BatchNorm2d,
  LayerNorm,
  GroupNorm,
  ReLU,
  ReLU6,
  SiLU,
  GELU,
  Sigmoid,
  Hardswish,
  Hardsigmoid,
  Tanh,
  Identity,
  Dropout,
  Flatten,
  MaxPool2d,
  AvgPool2d,
  AdaptiveAvgPool2d,
  type Conv2dModuleOptions,
} from './layers.js';
export { init, type KaimingOptions } from './init.js';
export {
  AdamW,
  SGD,
  clipGradNorm,
  type AdamWOptions,
  type SGDOptions,
  type OptimizerState,
} from './optim.js';
export { warmupCosine, oneCycle } from './schedule.js';
export {
  manualSeed,
  setDeterministic,
  setNumThreads,
  getNumThreads,
  cudaIsAvailable,
  autogradGrad,
} from './runtime.js';
export {
  LibtorchError,
  ShapeError,
  DTypeError,
  DeviceError,
  TensorDisposedError,
  StateDictError,
  NativeAddonError,
  DistributedError,
} from './errors.js';
export {
  initProcessGroup,
  allReduce,
  broadcast,
  barrier,
  destroyProcessGroup,
  distributedBackends,
  ProcessGroup,
  GradientAllReducer,
  type DistributedBackend,
  type InitProcessGroupOptions,
  type GradientAllReducerOptions,
} from './distributed.js';
export {
  loadSafetensors,
  readSafetensors,
  saveSafetensors,
  safetensorsBytes,
  rawToTensor,
  tensorToRaw,
} from './safetensors.js';
export {
  parseSafetensors,
  serializeSafetensors,
  rawToFloat16,
  rawToFloat32,
  SafetensorsFormatError,
  type RawTensor,
  type SafetensorsContents,
  type SafetensorsDType,
} from './safetensors-format.js';
export {
  exportOnnx,
  OnnxExportError,
  ONNX_OPSET,
  type ExportableModule,
  type OnnxExportOptions,
  type OnnxExportResult,
  type OnnxInputSpec,
} from './onnx-export.js';
