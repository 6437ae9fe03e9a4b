/**
 * EfficientNet-B0 and -B6 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural
 * Networks", ICML) with torchvision 0.14's module tree: `features.0` the stem, `features.1`…`features.7` the
 * MBConv stages (each block's layers in `block.0…3`, squeeze-excitation `fc1`/`fc2`), `features.8` the 1×1 head
 * conv, `classifier.1` the linear layer. The `EfficientNet` class and `MBConv` are shared with EfficientNet-V2
 * (`efficientnet-v2.ts`), which only adds the fused block and its stage table.
 */
import { F, Linear, init } from '../torch/index.js';
import type { Tensor, Module } from '../torch/index.js';
import { ZooModel, headLinearOutputs, resolveModelOptions } from './heads.js';
import type { ModelOptions, ResolvedModelOptions } from './heads.js';
import {
  Block,
  Lambda,
  SqueezeExcitation,
  batchNorm,
  convNormAct,
  initialise,
  makeDivisible,
  sequential,
  silu,
} from './layers.js';
import type { NamedSequential, NormFactory } from './layers.js';

/** One stage of the network (a row of Table 1 of the paper, Table 4 of the V2 paper). */
export interface StageConfig {
  /** Which block the stage repeats. */
  readonly block: 'mbconv' | 'fused';
  readonly expandRatio: number;
  readonly kernel: number;
  /** Stride of the stage's first block; the others use 1. */
  readonly stride: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly numLayers: number;
}

/** The configuration of one block, after the stage's first block has set stride and input width. */
type BlockConfig = Omit<StageConfig, 'numLayers'>;

/**
 * A stage row scaled by EfficientNet's compound width/depth multipliers (torchvision's `MBConvConfig`):
 * channels rounded to multiples of 8, layers rounded up.
 * @param row - [expandRatio, kernel, stride, inChannels, outChannels, numLayers]
 * @param widthMult - channel multiplier
 * @param depthMult - depth multiplier
 */
export function mbconvStage(
  row: readonly [number, number, number, number, number, number],
  widthMult = 1,
  depthMult = 1,
): StageConfig {
  const [expandRatio, kernel, stride, inChannels, outChannels, numLayers] = row;
  return {
    block: 'mbconv',
    expandRatio,
    kernel,
    stride,
    inChannels: makeDivisible(inChannels * widthMult),
    outChannels: makeDivisible(outChannels * widthMult),
    numLayers: Math.ceil(numLayers * depthMult),
  };
}

/** Drops the residual branch per sample during training (torchvision's `StochasticDepth(p, "row")`). */
function residual(branch: Tensor, input: Tensor, p: number, training: boolean): Tensor {
  const kept = p > 0 ? F.stochasticDepth(branch, p, 'row', training) : branch;
  return kept.add(input);
}

/**
 * Mobile inverted bottleneck (Sandler et al. 2018) with squeeze-excitation: 1×1 expand (when the ratio is not 1),
 * depthwise k×k, SE with a quarter of the input width, 1×1 linear projection; residual when shapes allow.
 */
export class MBConv extends Block {
  readonly block: NamedSequential;
  private readonly useResidual: boolean;

  /**
   * @param cfg - the block's configuration
   * @param stochasticDepthProb - this block's drop probability
   * @param norm - the normalisation layer
   */
  constructor(
    cfg: BlockConfig,
    private readonly stochasticDepthProb: number,
    norm: NormFactory,
  ) {
    super();
    this.useResidual = cfg.stride === 1 && cfg.inChannels === cfg.outChannels;
    const expanded = makeDivisible(cfg.inChannels * cfg.expandRatio);
    const layers: Module[] = [];
    if (expanded !== cfg.inChannels) {
      layers.push(convNormAct(cfg.inChannels, expanded, 1, { norm, activation: silu }));
    }
    layers.push(
      convNormAct(expanded, expanded, cfg.kernel, {
        stride: cfg.stride,
        groups: expanded,
        norm,
        activation: silu,
      }),
    );
    layers.push(
      new SqueezeExcitation(expanded, Math.max(1, Math.floor(cfg.inChannels / 4)), (x) => F.silu(x)),
    );
    layers.push(convNormAct(expanded, cfg.outChannels, 1, { norm, activation: null }));
    this.block = this.registerModule('block', sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    const out = this.block.call(x);
    return this.useResidual ? residual(out, x, this.stochasticDepthProb, this.training) : out;
  }
}

/**
 * Fused MBConv of EfficientNet-V2 (Tan & Le 2021): the expand 1×1 and depthwise k×k replaced by one k×k conv,
 * no squeeze-excitation; a single k×k conv when the expansion ratio is 1.
 */
export class FusedMBConv extends Block {
  readonly block: NamedSequential;
  private readonly useResidual: boolean;

  /**
   * @param cfg - the block's configuration
   * @param stochasticDepthProb - this block's drop probability
   * @param norm - the normalisation layer
   */
  constructor(
    cfg: BlockConfig,
    private readonly stochasticDepthProb: number,
    norm: NormFactory,
  ) {
    super();
    this.useResidual = cfg.stride === 1 && cfg.inChannels === cfg.outChannels;
    const expanded = makeDivisible(cfg.inChannels * cfg.expandRatio);
    const layers: Module[] =
      expanded !== cfg.inChannels
        ? [
            convNormAct(cfg.inChannels, expanded, cfg.kernel, { stride: cfg.stride, norm, activation: silu }),
            convNormAct(expanded, cfg.outChannels, 1, { norm, activation: null }),
          ]
        : [
            convNormAct(cfg.inChannels, cfg.outChannels, cfg.kernel, {
              stride: cfg.stride,
              norm,
              activation: silu,
            }),
          ];
    this.block = this.registerModule('block', sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    const out = this.block.call(x);
    return this.useResidual ? residual(out, x, this.stochasticDepthProb, this.training) : out;
  }
}

/** Everything that distinguishes one EfficientNet from another. */
export interface EfficientNetSpec {
  readonly stages: readonly StageConfig[];
  /** Channels of the last 1×1 conv; V1 uses 4× the last stage's width, V2 1280. */
  readonly lastChannels: number | null;
  readonly norm: NormFactory;
}

/** EfficientNet V1/V2: stem, stages of (fused) MBConv blocks, 1×1 conv, pool, `classifier` = [dropout, linear]. */
export class EfficientNet extends ZooModel {
  readonly stemWeightKey = 'features.0.0.weight';
  readonly headLinearName = 'classifier.1';
  readonly numFeatures: number;
  readonly features: NamedSequential;
  readonly classifier: NamedSequential;
  private readonly linear: Linear;

  /**
   * @param architecture - registry name
   * @param spec - stages, last width and normalisation
   * @param options - resolved options (dropout and stochastic depth included)
   */
  constructor(
    readonly architecture: string,
    spec: EfficientNetSpec,
    options: ResolvedModelOptions,
  ) {
    super(options);
    const first = spec.stages[0];
    const last = spec.stages[spec.stages.length - 1];
    if (first === undefined || last === undefined) throw new Error(`${architecture}: no stages`);
    const layers: Module[] = [
      convNormAct(options.inChannels, first.inChannels, 3, { stride: 2, norm: spec.norm, activation: silu }),
    ];
    const totalBlocks = spec.stages.reduce((s, c) => s + c.numLayers, 0);
    let blockId = 0;
    for (const stage of spec.stages) {
      const blocks: Module[] = [];
      for (let i = 0; i < stage.numLayers; i++) {
        const cfg: BlockConfig = i === 0 ? stage : { ...stage, inChannels: stage.outChannels, stride: 1 };
        // Linear decay rule of Huang et al. 2016, as torchvision: deeper blocks drop more often.
        const p = (options.stochasticDepthProb * blockId) / totalBlocks;
        blocks.push(
          stage.block === 'fused' ? new FusedMBConv(cfg, p, spec.norm) : new MBConv(cfg, p, spec.norm),
        );
        blockId++;
      }
      layers.push(sequential(...blocks));
    }
    this.numFeatures = spec.lastChannels ?? 4 * last.outChannels;
    layers.push(convNormAct(last.outChannels, this.numFeatures, 1, { norm: spec.norm, activation: silu }));
    this.features = this.registerModule('features', sequential(...layers));
    this.linear = new Linear(this.numFeatures + options.extraInputs, headLinearOutputs(options.head));
    // classifier.0 is torchvision's Dropout (no parameters); applyHead does the dropout itself.
    this.classifier = this.registerModule(
      'classifier',
      sequential(new Lambda((x) => x, 'dropout (applied by the head)'), this.linear),
    );
    // torchvision: kaiming-normal fan-out convs with zero bias, BN 1/0, Linear uniform(±1/√out) with zero bias.
    const range = 1 / Math.sqrt(headLinearOutputs(options.head));
    initialise(this, {
      conv: (w) => init.kaimingNormal_(w, { mode: 'fanOut' }),
      zeroConvBias: true,
      linear: (w) => init.uniform_(w, -range, range),
      zeroLinearBias: true,
      normOnes: true,
    });
  }

  /** Stem, stages and the last 1×1 conv (`features`). @param x - [N, inChannels, H, W] */
  forwardFeatures(x: Tensor): Tensor {
    return this.features.call(x);
  }

  /** Global average pool, dropout, then the head. @param features - from forwardFeatures; @param extra - scalars */
  forwardHead(features: Tensor, extra?: Tensor): Tensor {
    return this.applyHead(F.adaptiveAvgPool2d(features, 1).flatten(1), extra, this.linear);
  }
}

/** The B0 stage table (Table 1 of Tan & Le 2019), to be scaled by width and depth. */
const B0_STAGES = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
] as const;

/** Builds a compound-scaled EfficientNet V1 as torchvision's `_efficientnet_conf("efficientnet_bX", …)`. */
function efficientnetV1(
  architecture: string,
  widthMult: number,
  depthMult: number,
  dropout: number,
  norm: NormFactory,
  o: ModelOptions,
): EfficientNet {
  const options = resolveModelOptions(architecture, o, { dropout, stochasticDepthProb: 0.2 });
  const stages = B0_STAGES.map((row) => mbconvStage(row, widthMult, depthMult));
  return new EfficientNet(architecture, { stages, lastChannels: null, norm }, options);
}

/** torchvision `efficientnet_b0`: width 1.0, depth 1.0, dropout 0.2, 1280 features, 5.3M parameters. */
export function efficientnetB0(o: ModelOptions = {}): EfficientNet {
  return efficientnetV1('efficientnet_b0', 1.0, 1.0, 0.2, batchNorm(), o);
}

/**
 * torchvision `efficientnet_b6`: width 1.8, depth 2.6, dropout 0.5, BatchNorm eps 1e-3 / momentum 0.01 (the
 * TF-ported values torchvision uses for B5–B7), 2304 features, 43.0M parameters.
 */
export function efficientnetB6(o: ModelOptions = {}): EfficientNet {
  return efficientnetV1('efficientnet_b6', 1.8, 2.6, 0.5, batchNorm(1e-3, 0.01), o);
}
