/**
 * Loads the libtorch N-API addon (native/) and declares its raw, handle-based surface. Only this folder talks to
 * it; everything else uses the Tensor API. The addon writes the shape/dtype of each tensor it returns into the
 * shared `META` buffer, so wrapping a result costs no extra native call (tch-rs-style thin binding).
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { DTypeError, DeviceError, LibtorchError, NativeAddonError, ShapeError } from './errors.js';

declare const handleBrand: unique symbol;
/** An opaque native tensor handle (the address of a native Handle owning one at::Tensor, as a Number). */
export type Handle = { readonly [handleBrand]: true };
type H = Handle;
type Opt = Handle | null;

/** The raw addon functions (see native/src/*.cpp for the argument order of each). */
export interface NativeAddon {
  init(meta: Int32Array, errors: (new (message: string) => Error)[]): void;
  // tensor.cpp
  fromData(
    data: ArrayBufferView,
    shape: readonly number[],
    dtype: number,
    device: number,
    requiresGrad: boolean,
  ): H;
  toBytes(a: H): ArrayBuffer;
  toFloat32Bytes(a: H): ArrayBuffer;
  item(a: H): number;
  meta(a: H): void;
  dispose(a: H): void;
  free(a: H): void;
  zeros(shape: readonly number[], dtype: number, device: number, requiresGrad: boolean): H;
  ones(shape: readonly number[], dtype: number, device: number, requiresGrad: boolean): H;
  empty(shape: readonly number[], dtype: number, device: number, requiresGrad: boolean): H;
  randn(shape: readonly number[], dtype: number, device: number, requiresGrad: boolean): H;
  rand(shape: readonly number[], dtype: number, device: number, requiresGrad: boolean): H;
  full(shape: readonly number[], value: number, dtype: number, device: number, requiresGrad: boolean): H;
  arange(start: number, end: number, step: number, dtype: number, device: number): H;
  bernoulli(shape: readonly number[], p: number, dtype: number, device: number): H;
  toDType(a: H, dtype: number): H;
  toDevice(a: H, device: number): H;
  requiresGrad(a: H): boolean;
  setRequiresGrad(a: H, flag: boolean): void;
  grad(a: H): H | null;
  setGrad(a: H, g: Opt): void;
  retainGrad(a: H): void;
  isLeaf(a: H): boolean;
  setGradEnabled(on: boolean): void;
  isGradEnabled(): boolean;
  memoryStats(): { liveTensors: number; nativeBytes: number };
  manualSeed(seed: number): void;
  setDeterministic(on: boolean): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  dataPtrEq(a: H, b: H): boolean;
  isContiguous(a: H): boolean;
  // ops.cpp
  neg(a: H): H;
  abs(a: H): H;
  sqrt(a: H): H;
  rsqrt(a: H): H;
  exp(a: H): H;
  log(a: H): H;
  contiguous(a: H): H;
  clone(a: H): H;
  detach(a: H): H;
  maxAll(a: H): H;
  logicalNot(a: H): H;
  add(a: H, b: H): H;
  sub(a: H, b: H): H;
  mul(a: H, b: H): H;
  div(a: H, b: H): H;
  eq(a: H, b: H): H;
  gt(a: H, b: H): H;
  lt(a: H, b: H): H;
  ge(a: H, b: H): H;
  le(a: H, b: H): H;
  matmul(a: H, b: H): H;
  maximum(a: H, b: H): H;
  minimum(a: H, b: H): H;
  addScalar(a: H, s: number): H;
  subScalar(a: H, s: number): H;
  mulScalar(a: H, s: number): H;
  divScalar(a: H, s: number): H;
  eqScalar(a: H, s: number): H;
  gtScalar(a: H, s: number): H;
  ltScalar(a: H, s: number): H;
  geScalar(a: H, s: number): H;
  leScalar(a: H, s: number): H;
  powScalar(a: H, s: number): H;
  rsubScalar(a: H, s: number): H;
  clamp(a: H, min: number | null, max: number | null): H;
  where(c: H, a: H, b: H): H;
  copy_(a: H, src: H): void;
  setData_(a: H, src: H): void;
  fill_(a: H, v: number): void;
  zero_(a: H): void;
  mulScalar_(a: H, v: number): void;
  addScalar_(a: H, v: number): void;
  add_(a: H, b: H, alpha: number): void;
  mul_(a: H, b: H): void;
  clamp_(a: H, min: number | null, max: number | null): void;
  normal_(a: H, mean: number, std: number): void;
  uniform_(a: H, from: number, to: number): void;
  erfinv_(a: H): void;
  sum(a: H, dims: number[] | null, keepDim: boolean): H;
  mean(a: H, dims: number[] | null, keepDim: boolean): H;
  maxDim(a: H, dim: number, keepDim: boolean): [H, H];
  argmax(a: H, dim: number, keepDim: boolean): H;
  reshape(a: H, shape: readonly number[]): H;
  view(a: H, shape: readonly number[]): H;
  flatten(a: H, start: number, end: number): H;
  permute(a: H, dims: readonly number[]): H;
  transpose(a: H, d0: number, d1: number): H;
  squeeze(a: H, dim: number | null): H;
  unsqueeze(a: H, dim: number): H;
  expand(a: H, shape: readonly number[]): H;
  narrow(a: H, dim: number, start: number, length: number): H;
  select(a: H, dim: number, index: number): H;
  indexSelect(a: H, dim: number, index: H): H;
  cat(ts: H[], dim: number): H;
  stack(ts: H[], dim: number): H;
  split(a: H, sizes: number[], dim: number): H[];
  // nn.cpp
  relu(a: H): H;
  relu_(a: H): void;
  relu6(a: H): H;
  silu(a: H): H;
  gelu(a: H): H;
  sigmoid(a: H): H;
  tanh(a: H): H;
  hardswish(a: H): H;
  hardsigmoid(a: H): H;
  conv2d(x: H, w: H, b: Opt, stride: number[], padding: number[], dilation: number[], groups: number): H;
  linear(x: H, w: H, b: Opt): H;
  batchNorm(x: H, rm: Opt, rv: Opt, w: Opt, b: Opt, training: boolean, momentum: number, eps: number): H;
  layerNorm(x: H, shape: number[], w: Opt, b: Opt, eps: number): H;
  groupNorm(x: H, groups: number, w: Opt, b: Opt, eps: number): H;
  softmax(x: H, dim: number): H;
  logSoftmax(x: H, dim: number): H;
  maxPool2d(x: H, k: number[], s: number[], p: number[], d: number[], ceil: boolean): H;
  avgPool2d(x: H, k: number[], s: number[], p: number[], ceil: boolean, countIncludePad: boolean): H;
  adaptiveAvgPool2d(x: H, size: number[]): H;
  upsampleBilinear2d(
    x: H,
    size: number[],
    alignCorners: boolean,
    scaleH: number | null,
    scaleW: number | null,
  ): H;
  upsampleNearest2d(x: H, size: number[], scaleH: number | null, scaleW: number | null): H;
  affineGrid(theta: H, size: number[], alignCorners: boolean): H;
  gridSample(x: H, grid: H, mode: number, padding: number, alignCorners: boolean): H;
  pad(x: H, pads: number[], mode: number, value: number): H;
  dropout(x: H, p: number, training: boolean): H;
  l1Loss(a: H, b: H, reduction: number): H;
  mseLoss(a: H, b: H, reduction: number): H;
  smoothL1Loss(a: H, b: H, reduction: number, beta: number): H;
  crossEntropy(x: H, t: H, w: Opt, reduction: number, ignoreIndex: number, labelSmoothing: number): H;
  bceWithLogits(x: H, t: H, w: Opt, posWeight: Opt, reduction: number): H;
  // autograd.cpp
  backward(a: H, grad: Opt, retainGraph: boolean | null): void;
  autogradGrad(
    outs: H[],
    ins: H[],
    gradOuts: H[] | null,
    retain: boolean | null,
    create: boolean,
    allowUnused: boolean,
  ): (H | null)[];
  adamwStep(
    ps: H[],
    m: H[],
    v: H[],
    steps: Float64Array,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
  ): void;
  sgdStep(
    ps: H[],
    bufs: H[],
    init: Uint8Array,
    lr: number,
    mom: number,
    damp: number,
    wd: number,
    nesterov: boolean,
  ): void;
  clipGradNorm(ps: H[], maxNorm: number): number;
  // distributed.cpp (the dist* functions other than distBackends exist only when the addon has Gloo)
  distBackends(): string[];
  distInit?(
    rank: number,
    worldSize: number,
    host: string,
    port: number,
    timeoutMs: number,
    backend: string,
    storeTimeoutMs: number,
  ): Promise<NativeGroup>;
  distAllReduce?(g: NativeGroup, ts: H[]): Promise<void>;
  distBroadcast?(g: NativeGroup, ts: H[], root: number): Promise<void>;
  distBarrier?(g: NativeGroup): Promise<void>;
  distInfo?(g: NativeGroup): { rank: number; size: number; backend: string };
  distDestroy?(g: NativeGroup): void;
}

declare const groupBrand: unique symbol;
/** An opaque native c10d process group (a Napi::External owning the store and the group). */
export type NativeGroup = { readonly [groupBrand]: true };

/** Shape/dtype of the most recently returned tensor: [ndim, dtype, device, requiresGrad, size0, size1, …]. */
export const META = new Int32Array(4 + 64);

function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/torch/ (tsx) and dist/torch/ (compiled) both sit two levels below the package root.
  return join(here, '..', '..', 'native', 'build', 'Release', 'physis_torch.node');
}

function load(): NativeAddon {
  const path = addonPath();
  if (!existsSync(path)) {
    throw new NativeAddonError(
      `libtorch addon not built (${path} missing): run \`node scripts/build-native.mjs\` (needs apt-get install libtorch-dev libopenblas0-pthread, or LIBTORCH=/path)`,
    );
  }
  const require = createRequire(import.meta.url);
  const addon = require(path) as NativeAddon;
  addon.init(META, [LibtorchError, ShapeError, DTypeError, DeviceError]);
  return addon;
}

/** The loaded addon (loaded once, on first import of src/torch). */
export const N: NativeAddon = load();
