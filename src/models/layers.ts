/**
 * Building blocks shared by the architectures of the zoo, each shaped like its torchvision counterpart so that
 * parameter names (`features.0.1.weight`, `block.2.fc1.bias`, …) come out identical to torchvision 0.14's.
 *
 * Why our own containers: torchvision names children either by position (`nn.Sequential(*layers)`, children
 * `'0'`, `'1'`, …) or by key (`nn.Sequential(OrderedDict(...))`, `nn.ModuleDict`); `NamedSequential` covers
 * both with one class whose child names are given explicitly, so a state dict's keys follow from the code.
 */
import {
  BatchNorm2d,
  Conv2d,
  F,
  GELU,
  Linear,
  Module,
  ReLU,
  SiLU,
  init,
  noGrad,
  ones,
  tidy,
  zeros,
} from '../torch/index.js';
import type { Tensor } from '../torch/index.js';

/**
 * A residual/dense/inception block whose `call` runs inside `tidy`: the tensors it creates on the way (conv and
 * norm outputs, concatenations) are released when it returns, not when the caller's scope ends or the garbage
 * collector runs. Without it, one DenseNet-121 forward at 512×512×4 holds every intermediate map at once.
 * Autograd keeps what backward needs on its own, so training is unaffected.
 * A forward hook on a module *inside* a block sees a tensor freed when the block returns: `keep()` it, or hook
 * the block itself or the model's `featureBlock` (whose output outlives the block).
 */
export abstract class Block extends Module {
  /** forward + hooks, inside a tidy scope that keeps only the output. @param inputs - the inputs */
  override call(...inputs: Tensor[]): Tensor {
    return tidy(() => super.call(...inputs));
  }
}

/** A child name with its module, in the order the container runs them. */
export type NamedChild = readonly [name: string, module: Module];

/**
 * An ordered container with named children: `nn.Sequential` (positional names) and `nn.Sequential(OrderedDict)`
 * (given names) in one. `forward` runs the children in order.
 */
export class NamedSequential extends Module {
  private readonly ordered: Module[] = [];

  /** @param children - `[name, module]` pairs in execution order */
  constructor(children: readonly NamedChild[] = []) {
    super();
    for (const [name, m] of children) this.append(name, m);
  }

  /** Adds a child at the end under `name` (PyTorch's `add_module`). @returns this container */
  append(name: string, m: Module): this {
    this.ordered.push(this.registerModule(name, m));
    return this;
  }

  /** Number of children. */
  get length(): number {
    return this.ordered.length;
  }

  /** Runs every child in order, each on the previous one's output. @param x - the input */
  forward(x: Tensor): Tensor {
    return this.forwardRange(x, 0, this.ordered.length);
  }

  /**
   * Runs children `from` … `to − 1` only (a model cut between stages). @param x - the input of child `from`
   * @param from - first child, by position
   * @param to - one past the last child
   */
  forwardRange(x: Tensor, from: number, to: number): Tensor {
    let y = x;
    for (const m of this.ordered.slice(from, to)) y = m.call(y);
    return y;
  }

  /** Position of the child named `name`, or −1. @param name - e.g. `denseblock2` */
  indexOf(name: string): number {
    const m = this.children().find(([n]) => n === name)?.[1];
    return m === undefined ? -1 : this.ordered.indexOf(m);
  }
}

/**
 * `nn.Sequential(*modules)`: children named `'0'`, `'1'`, … by position.
 * @param modules - the children in execution order
 */
export function sequential(...modules: Module[]): NamedSequential {
  return new NamedSequential(modules.map((m, i) => [String(i), m] as const));
}

/** A module without parameters that applies a function (activations, permutations, flatten). */
export class Lambda extends Module {
  /** @param fn - the function applied to the input; @param label - what it does, for debugging */
  constructor(
    private readonly fn: (x: Tensor) => Tensor,
    readonly label: string,
  ) {
    super();
  }

  /** Applies the function. @param x - the input */
  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}

/** SiLU (swish), the activation of EfficientNet (Ramachandran et al. 2017). */
export const silu = (): Module => new SiLU();
/** ReLU. */
export const relu = (): Module => new ReLU();
/** GELU with the exact erf form, as `nn.GELU()` (Hendrycks & Gimpel 2016), used by ConvNeXt. */
export const gelu = (): Module => new GELU();
/** `torchvision.ops.Permute`: reorders dimensions (ConvNeXt runs its LayerNorm and MLP channels-last). */
export const permute = (dims: number[]): Lambda =>
  new Lambda((x) => x.permute(dims), `permute(${dims.join(',')})`);

/** Makes a normalisation layer for `channels` channels. */
export type NormFactory = (channels: number) => Module;

/**
 * BatchNorm2d with the given epsilon and momentum; torchvision's EfficientNet-B6 and -V2 change them from the
 * PyTorch defaults (eps 1e-5, momentum 0.1), which matters for parity in eval mode.
 * @param eps - added to the variance
 * @param momentum - running-statistics update factor
 */
export function batchNorm(eps = 1e-5, momentum = 0.1): NormFactory {
  return (channels) => new BatchNorm2d(channels, { eps, momentum });
}

/**
 * LayerNorm over the channel dimension of an NCHW map (torchvision's `convnext.LayerNorm2d`): permute to NHWC,
 * normalise the last dimension, permute back. Parameters `weight` and `bias` of shape [C].
 */
export class LayerNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  /** @param channels - C; @param eps - added to the variance (ConvNeXt uses 1e-6) */
  constructor(
    readonly channels: number,
    readonly eps = 1e-6,
  ) {
    super();
    this.weight = this.registerParameter('weight', ones([channels]));
    this.bias = this.registerParameter('bias', zeros([channels]));
  }

  /** Normalises each pixel's channel vector. @param x - [N, C, H, W] */
  forward(x: Tensor): Tensor {
    const nhwc = x.permute([0, 2, 3, 1]);
    const normed = F.layerNorm(nhwc, [this.channels], this.weight, this.bias, this.eps);
    return normed.permute([0, 3, 1, 2]);
  }
}

/** Options of `convNormAct`, as torchvision's `Conv2dNormActivation`. */
export interface ConvNormActOptions {
  stride?: number;
  /** Default `(k - 1) / 2 * dilation` ("same" for odd kernels at stride 1). */
  padding?: number;
  groups?: number;
  dilation?: number;
  /** The normalisation layer; `null` for none (then the conv has a bias). */
  norm: NormFactory | null;
  /** The activation; `null` for none. */
  activation: (() => Module) | null;
  /** Default: a bias only when there is no norm layer. */
  bias?: boolean;
}

/**
 * torchvision's `Conv2dNormActivation`: a Sequential of conv (`'0'`), norm (`'1'`) and activation (`'2'`),
 * the unit EfficientNet, MobileNet and ConvNeXt's stem are made of.
 * @param inChannels - input channels
 * @param outChannels - output channels
 * @param kernelSize - square kernel size
 * @param o - stride, padding, groups, norm and activation
 */
export function convNormAct(
  inChannels: number,
  outChannels: number,
  kernelSize: number,
  o: ConvNormActOptions,
): NamedSequential {
  const dilation = o.dilation ?? 1;
  const padding = o.padding ?? Math.floor((kernelSize - 1) / 2) * dilation;
  const layers: Module[] = [
    new Conv2d(inChannels, outChannels, kernelSize, {
      stride: o.stride ?? 1,
      padding,
      dilation,
      groups: o.groups ?? 1,
      bias: o.bias ?? o.norm === null,
    }),
  ];
  if (o.norm !== null) layers.push(o.norm(outChannels));
  if (o.activation !== null) layers.push(o.activation());
  return sequential(...layers);
}

/**
 * Squeeze-and-excitation (Hu et al. 2018, torchvision's `ops.SqueezeExcitation`): global average pool, 1×1 conv
 * `fc1`, activation, 1×1 conv `fc2`, sigmoid, then rescale the input's channels.
 */
export class SqueezeExcitation extends Block {
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;

  /**
   * @param channels - channels of the input (and of the scale)
   * @param squeezeChannels - bottleneck width
   * @param activation - applied after `fc1` (EfficientNet: SiLU)
   */
  constructor(
    channels: number,
    squeezeChannels: number,
    private readonly activation: (x: Tensor) => Tensor,
  ) {
    super();
    this.fc1 = this.registerModule('fc1', new Conv2d(channels, squeezeChannels, 1));
    this.fc2 = this.registerModule('fc2', new Conv2d(squeezeChannels, channels, 1));
  }

  /** Rescales each channel of `x` by a learned gate in (0, 1). @param x - [N, C, H, W] */
  forward(x: Tensor): Tensor {
    const pooled = F.adaptiveAvgPool2d(x, 1);
    const scale = F.sigmoid(this.fc2.call(this.activation(this.fc1.call(pooled))));
    return scale.mul(x);
  }
}

/**
 * torchvision's `_make_divisible`: rounds a channel count to a multiple of `divisor`, never more than 10% down
 * (from the TF MobileNet reference, used by EfficientNet's width scaling).
 * @param v - the scaled channel count
 * @param divisor - the multiple (8)
 */
export function makeDivisible(v: number, divisor = 8): number {
  let rounded = Math.max(divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** One named parameter of a module's own (non-recursive) parameters, or null. */
export function ownParameter(m: Module, name: string): Tensor | null {
  for (const [n, t] of m.namedParameters()) if (n === name) return t;
  return null;
}

/** How a convolution/linear weight is initialised. */
export type WeightInit = (weight: Tensor) => void;

/**
 * Walks every module and initialises conv, linear and norm parameters the way each torchvision model's
 * constructor does (its `for m in self.modules()` loop). A rule left undefined keeps the layer's default
 * (PyTorch's kaiming-uniform with a = √5).
 * @param root - the model
 * @param rules - what to do for conv and linear weights; biases and norms follow `zeroBias`/`normOnes`
 */
export function initialise(
  root: Module,
  rules: {
    conv?: WeightInit;
    linear?: WeightInit;
    /** Zero the conv bias (EfficientNet, ConvNeXt). */
    zeroConvBias?: boolean;
    /** Zero the linear bias (all but ResNet). */
    zeroLinearBias?: boolean;
    /** BatchNorm/LayerNorm weight 1, bias 0 (the PyTorch default, restated by torchvision). */
    normOnes?: boolean;
  },
): void {
  noGrad(() => {
    for (const [, m] of root.namedModules()) {
      const weight = ownParameter(m, 'weight');
      const bias = ownParameter(m, 'bias');
      if (m instanceof Conv2d) {
        if (weight && rules.conv) rules.conv(weight);
        if (bias && rules.zeroConvBias) init.zeros_(bias);
      } else if (isLinear(m)) {
        if (weight && rules.linear) rules.linear(weight);
        if (bias && rules.zeroLinearBias) init.zeros_(bias);
      } else if (rules.normOnes && (m instanceof BatchNorm2d || m instanceof LayerNorm2d)) {
        if (weight) init.ones_(weight);
        if (bias) init.zeros_(bias);
      }
    }
  });
}

function isLinear(m: Module): m is Linear {
  return m instanceof Linear;
}
