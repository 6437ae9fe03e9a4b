/**
 * ConvNeXt-Tiny and -Small (Liu et al. 2022, "A ConvNet for the 2020s", CVPR) with torchvision 0.14's module
 * tree: `features.0` the 4×4 patchify stem (conv + LayerNorm2d), `features.1/3/5/7` the stages of CNBlocks
 * (`block.0` depthwise 7×7, `block.2` LayerNorm, `block.3`/`block.5` the MLP, `layer_scale`), `features.2/4/6`
 * the downsampling layers, `classifier.0` LayerNorm2d and `classifier.2` the linear layer.
 */
import { Conv2d, F, LayerNorm, Linear, full, init } from '../torch/index.js';
import type { Tensor, Module } from '../torch/index.js';
import { ZooModel, headLinearOutputs, resolveModelOptions } from './heads.js';
import type { ModelOptions, ResolvedModelOptions } from './heads.js';
import { Block, Lambda, LayerNorm2d, gelu, initialise, permute, sequential } from './layers.js';
import type { NamedSequential } from './layers.js';

/** Per-channel learnable scale of a block's output, initialised to 1e-6 (Touvron et al. 2021, "CaiT"). */
const LAYER_SCALE_INIT = 1e-6;

/**
 * The ConvNeXt block: depthwise 7×7 → LayerNorm → Linear 4× → GELU → Linear, channels-last, scaled by
 * `layer_scale` and added to the input (with stochastic depth during training).
 */
class CNBlock extends Block {
  readonly block: NamedSequential;
  readonly layerScale: Tensor;

  constructor(
    dim: number,
    private readonly stochasticDepthProb: number,
  ) {
    super();
    this.block = this.registerModule(
      'block',
      sequential(
        new Conv2d(dim, dim, 7, { padding: 3, groups: dim, bias: true }),
        permute([0, 2, 3, 1]),
        new LayerNorm([dim], { eps: 1e-6 }),
        new Linear(dim, 4 * dim),
        gelu(),
        new Linear(4 * dim, dim),
        permute([0, 3, 1, 2]),
      ),
    );
    this.layerScale = this.registerParameter('layer_scale', full([dim, 1, 1], LAYER_SCALE_INIT));
  }

  forward(x: Tensor): Tensor {
    let out = this.layerScale.mul(this.block.call(x));
    if (this.stochasticDepthProb > 0)
      out = F.stochasticDepth(out, this.stochasticDepthProb, 'row', this.training);
    return out.add(x);
  }
}

/** One stage: its width, where it goes next (null for the last), and its number of blocks. */
interface ConvNeXtStage {
  readonly inChannels: number;
  readonly outChannels: number | null;
  readonly numLayers: number;
}

/** ConvNeXt: patchify stem, four stages with downsampling between them, pool, LayerNorm, linear. */
export class ConvNeXt extends ZooModel {
  readonly stemWeightKey = 'features.0.0.weight';
  readonly headLinearName = 'classifier.2';
  readonly numFeatures: number;
  readonly features: NamedSequential;
  readonly classifier: NamedSequential;
  private readonly headNorm: LayerNorm2d;
  private readonly linear: Linear;

  /**
   * @param architecture - registry name
   * @param stages - the four stages
   * @param options - resolved options
   */
  constructor(
    readonly architecture: string,
    stages: readonly ConvNeXtStage[],
    options: ResolvedModelOptions,
  ) {
    super(options);
    const first = stages[0];
    const last = stages[stages.length - 1];
    if (first === undefined || last === undefined) throw new Error(`${architecture}: no stages`);
    const layers: Module[] = [
      sequential(
        new Conv2d(options.inChannels, first.inChannels, 4, { stride: 4, padding: 0, bias: true }),
        new LayerNorm2d(first.inChannels, 1e-6),
      ),
    ];
    const totalBlocks = stages.reduce((s, c) => s + c.numLayers, 0);
    let blockId = 0;
    for (const stage of stages) {
      const blocks: Module[] = [];
      for (let i = 0; i < stage.numLayers; i++) {
        // torchvision's linear decay over all blocks, reaching the full rate at the last one.
        const p = (options.stochasticDepthProb * blockId) / (totalBlocks - 1);
        blocks.push(new CNBlock(stage.inChannels, p));
        blockId++;
      }
      layers.push(sequential(...blocks));
      if (stage.outChannels !== null) {
        layers.push(
          sequential(
            new LayerNorm2d(stage.inChannels, 1e-6),
            new Conv2d(stage.inChannels, stage.outChannels, 2, { stride: 2, bias: true }),
          ),
        );
      }
    }
    this.features = this.registerModule('features', sequential(...layers));
    this.numFeatures = last.outChannels ?? last.inChannels;
    this.headNorm = new LayerNorm2d(this.numFeatures, 1e-6);
    this.linear = new Linear(this.numFeatures + options.extraInputs, headLinearOutputs(options.head));
    this.classifier = this.registerModule(
      'classifier',
      sequential(this.headNorm, new Lambda((x) => x.flatten(1), 'flatten'), this.linear),
    );
    // torchvision: truncated normal (std 0.02, cut at ±2) for conv and linear weights, zero biases.
    const truncNormal = (w: Tensor): void => init.truncNormal_(w, 0, 0.02, -2, 2);
    initialise(this, { conv: truncNormal, zeroConvBias: true, linear: truncNormal, zeroLinearBias: true });
  }

  /** Stem and the four stages (`features`). @param x - [N, inChannels, H, W] */
  forwardFeatures(x: Tensor): Tensor {
    return this.features.call(x);
  }

  /** Global average pool, LayerNorm, then the head. @param features - from forwardFeatures; @param extra - scalars */
  forwardHead(features: Tensor, extra?: Tensor): Tensor {
    const pooled = this.headNorm.call(F.adaptiveAvgPool2d(features, 1)).flatten(1);
    return this.applyHead(pooled, extra, this.linear);
  }
}

function convnext(
  architecture: string,
  depths: readonly number[],
  sdProb: number,
  o: ModelOptions,
): ConvNeXt {
  const widths = [96, 192, 384, 768];
  const stages = depths.map((numLayers, i) => ({
    inChannels: widths[i] ?? 0,
    outChannels: widths[i + 1] ?? null,
    numLayers,
  }));
  const options = resolveModelOptions(architecture, o, { dropout: 0, stochasticDepthProb: sdProb });
  return new ConvNeXt(architecture, stages, options);
}

/** torchvision `convnext_tiny`: depths [3, 3, 9, 3], stochastic depth 0.1, 768 features, 28.6M parameters. */
export function convnextTiny(o: ModelOptions = {}): ConvNeXt {
  return convnext('convnext_tiny', [3, 3, 9, 3], 0.1, o);
}

/** torchvision `convnext_small`: depths [3, 3, 27, 3], stochastic depth 0.4, 768 features, 50.2M parameters. */
export function convnextSmall(o: ModelOptions = {}): ConvNeXt {
  return convnext('convnext_small', [3, 3, 27, 3], 0.4, o);
}
