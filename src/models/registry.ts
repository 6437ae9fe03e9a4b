/**
 * The model zoo's registry: architecture name → factory and metadata (reference implementation, default input
 * size, feature width, the module whose output is the last feature map). Callers resolve models by name, as the
 * task configs and model cards store them (the pattern of transformers.js' model registry).
 */
import type { ModelOptions, ZooModel } from './heads.js';
import { convnextSmall, convnextTiny } from './convnext.js';
import { densenet121 } from './densenet.js';
import { efficientnetB0, efficientnetB6 } from './efficientnet.js';
import { efficientnetV2M, efficientnetV2S } from './efficientnet-v2.js';
import { inceptionResnetV2 } from './inception-resnet-v2.js';
import { resnet18, resnet18W32, resnet50 } from './resnet.js';

/** Names of the architectures the zoo offers (torchvision's and timm's spelling). */
export type ArchitectureName =
  | 'densenet121'
  | 'efficientnet_b0'
  | 'efficientnet_b6'
  | 'efficientnet_v2_s'
  | 'efficientnet_v2_m'
  | 'convnext_tiny'
  | 'convnext_small'
  | 'resnet18'
  | 'resnet18_w32'
  | 'resnet50'
  | 'inception_resnet_v2';

/** What the registry knows about one architecture. */
export interface ArchitectureInfo {
  readonly name: ArchitectureName;
  /** The implementation whose state dicts load unchanged, e.g. `torchvision 0.14 densenet121`. */
  readonly reference: string;
  /** The paper that defines the architecture. */
  readonly paper: string;
  /** Input side length the reference weights were trained at (square). */
  readonly defaultInputSize: number;
  /** Smallest square input the network accepts. */
  readonly minInputSize: number;
  /** Channels of the last feature map. */
  readonly numFeatures: number;
  /** Dotted module name whose output `forwardFeatures` returns (before DenseNet's final ReLU). */
  readonly featureBlock: string;
  /** Parameter count with the 1000-class head and 3 input channels, as the reference reports it. */
  readonly numParams1000: number;
  /** Builds the model with fresh (reference-style) initialisation. */
  readonly create: (o?: ModelOptions) => ZooModel;
}

/** Every architecture of the zoo, keyed by name. */
export const ARCHITECTURES: Readonly<Record<ArchitectureName, ArchitectureInfo>> = Object.freeze({
  densenet121: {
    name: 'densenet121',
    reference: 'torchvision 0.14 densenet121',
    paper: 'Huang et al. 2017, Densely Connected Convolutional Networks',
    defaultInputSize: 224,
    minInputSize: 29,
    numFeatures: 1024,
    featureBlock: 'features.norm5',
    numParams1000: 7978856,
    create: densenet121,
  },
  efficientnet_b0: {
    name: 'efficientnet_b0',
    reference: 'torchvision 0.14 efficientnet_b0',
    paper: 'Tan & Le 2019, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks',
    defaultInputSize: 224,
    minInputSize: 1,
    numFeatures: 1280,
    featureBlock: 'features.8',
    numParams1000: 5288548,
    create: efficientnetB0,
  },
  efficientnet_b6: {
    name: 'efficientnet_b6',
    reference: 'torchvision 0.14 efficientnet_b6',
    paper: 'Tan & Le 2019, EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks',
    defaultInputSize: 528,
    minInputSize: 1,
    numFeatures: 2304,
    featureBlock: 'features.8',
    numParams1000: 43040704,
    create: efficientnetB6,
  },
  efficientnet_v2_s: {
    name: 'efficientnet_v2_s',
    reference: 'torchvision 0.14 efficientnet_v2_s',
    paper: 'Tan & Le 2021, EfficientNetV2: Smaller Models and Faster Training',
    defaultInputSize: 384,
    minInputSize: 1,
    numFeatures: 1280,
    featureBlock: 'features.7',
    numParams1000: 21458488,
    create: efficientnetV2S,
  },
  efficientnet_v2_m: {
    name: 'efficientnet_v2_m',
    reference: 'torchvision 0.14 efficientnet_v2_m',
    paper: 'Tan & Le 2021, EfficientNetV2: Smaller Models and Faster Training',
    defaultInputSize: 480,
    minInputSize: 1,
    numFeatures: 1280,
    featureBlock: 'features.8',
    numParams1000: 54139356,
    create: efficientnetV2M,
  },
  convnext_tiny: {
    name: 'convnext_tiny',
    reference: 'torchvision 0.14 convnext_tiny',
    paper: 'Liu et al. 2022, A ConvNet for the 2020s',
    defaultInputSize: 224,
    minInputSize: 32,
    numFeatures: 768,
    featureBlock: 'features.7',
    numParams1000: 28589128,
    create: convnextTiny,
  },
  convnext_small: {
    name: 'convnext_small',
    reference: 'torchvision 0.14 convnext_small',
    paper: 'Liu et al. 2022, A ConvNet for the 2020s',
    defaultInputSize: 224,
    minInputSize: 32,
    numFeatures: 768,
    featureBlock: 'features.7',
    numParams1000: 50223688,
    create: convnextSmall,
  },
  resnet18: {
    name: 'resnet18',
    reference: 'torchvision 0.14 resnet18',
    paper: 'He et al. 2016, Deep Residual Learning for Image Recognition',
    defaultInputSize: 224,
    minInputSize: 1,
    numFeatures: 512,
    featureBlock: 'layer4',
    numParams1000: 11689512,
    create: resnet18,
  },
  resnet18_w32: {
    name: 'resnet18_w32',
    reference: 'resnet18 with every width halved (no published weights)',
    paper: 'He et al. 2016, Deep Residual Learning for Image Recognition; Zagoruyko & Komodakis 2016, Wide Residual Networks',
    defaultInputSize: 128,
    minInputSize: 1,
    numFeatures: 256,
    featureBlock: 'layer4',
    numParams1000: 3055880,
    create: resnet18W32,
  },
  resnet50: {
    name: 'resnet50',
    reference: 'torchvision 0.14 resnet50',
    paper: 'He et al. 2016, Deep Residual Learning for Image Recognition',
    defaultInputSize: 224,
    minInputSize: 1,
    numFeatures: 2048,
    featureBlock: 'layer4',
    numParams1000: 25557032,
    create: resnet50,
  },
  inception_resnet_v2: {
    name: 'inception_resnet_v2',
    reference: 'timm inception_resnet_v2',
    paper:
      'Szegedy et al. 2017, Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning',
    defaultInputSize: 299,
    minInputSize: 75,
    numFeatures: 1536,
    featureBlock: 'conv2d_7b',
    numParams1000: 55843464,
    create: inceptionResnetV2,
  },
} satisfies Record<ArchitectureName, ArchitectureInfo>);

/** A name that is not in the registry; the message lists the known ones. */
export class UnknownArchitectureError extends Error {
  override name = 'UnknownArchitectureError';
}

/** Whether `name` is a registered architecture. @param name - a candidate name */
export function isArchitectureName(name: string): name is ArchitectureName {
  return Object.hasOwn(ARCHITECTURES, name);
}

/** The registered architecture names, in registry order. */
export function listArchitectures(): ArchitectureName[] {
  return Object.keys(ARCHITECTURES) as ArchitectureName[];
}

/**
 * The metadata of an architecture.
 * @param name - e.g. `densenet121`
 * @throws UnknownArchitectureError for an unregistered name
 */
export function getArchitecture(name: string): ArchitectureInfo {
  if (!isArchitectureName(name)) {
    throw new UnknownArchitectureError(
      `unknown architecture '${name}'; known: ${listArchitectures().join(', ')}`,
    );
  }
  return ARCHITECTURES[name];
}

/**
 * Builds a registered architecture by name.
 *
 * ```ts
 * const model = createModel('densenet121', { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true } });
 * model.eval().call(x);   // x: [N, 1, H, W] → [N, 1]
 * ```
 * @param name - architecture name
 * @param o - model options (input channels, head, extra inputs, regularisation)
 */
export function createModel(name: string, o: ModelOptions = {}): ZooModel {
  return getArchitecture(name).create(o);
}
