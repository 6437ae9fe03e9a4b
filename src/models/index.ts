/**
 * The model zoo: torchvision/timm-compatible architectures with radiograph heads, and a registry by name.
 *
 * Every model is a `ZooModel`: `call(x, extra?)` for the output, `forwardFeatures(x)` for the last convolutional
 * feature map (Grad-CAM: call `.retainGrad()` on it, run `forwardHead`, backpropagate, read `.grad`), and
 * state-dict keys identical to the reference implementation's, so its weights load unchanged.
 */
export { FeatureStageError, ModelInputError, ModelOptionsError, ZooModel, headLinearOutputs, headOutputs, resolveModelOptions } from './heads.js';
export type { HeadSpec, ModelOptions, ResolvedModelOptions } from './heads.js';
export {
  ARCHITECTURES,
  UnknownArchitectureError,
  createModel,
  getArchitecture,
  isArchitectureName,
  listArchitectures,
} from './registry.js';
export type { ArchitectureInfo, ArchitectureName } from './registry.js';
export { PretrainedWeightsError, adaptStemWeights, loadPretrained } from './pretrained.js';
export { ConvNeXt, convnextSmall, convnextTiny } from './convnext.js';
export { DenseNet, densenet121 } from './densenet.js';
export { EfficientNet, efficientnetB0, efficientnetB6 } from './efficientnet.js';
export { efficientnetV2M, efficientnetV2S } from './efficientnet-v2.js';
export { InceptionResNetV2, inceptionResnetV2 } from './inception-resnet-v2.js';
export { ResNet, resnet18, resnet18W32, resnet50 } from './resnet.js';
export { LayerNorm2d, NamedSequential, SqueezeExcitation, makeDivisible } from './layers.js';
