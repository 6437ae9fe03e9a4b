/**
 * DenseNet-121 (Huang et al. 2017, "Densely Connected Convolutional Networks", CVPR) with torchvision 0.14's
 * module tree: `features.conv0/norm0`, `features.denseblockB.denselayerL.{norm1,conv1,norm2,conv2}`,
 * `features.transitionT.{norm,conv}`, `features.norm5`, `classifier`. (torchvision's old checkpoints spell
 * `norm.1`; its loader renames them to `norm1`, which is what 0.14's `state_dict()` and this module use.)
 */
import { BatchNorm2d, Conv2d, F, Linear, Module, cat, init, tidy } from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { ZooModel, headLinearOutputs, resolveModelOptions } from './heads.js';
import type { ModelOptions, ResolvedModelOptions } from './heads.js';
import { Block, NamedSequential, initialise, relu } from './layers.js';

/** BN-ReLU-1×1 conv (bottleneck to bnSize·k channels) then BN-ReLU-3×3 conv (k new channels). */
class DenseLayer extends Block {
  readonly norm1: BatchNorm2d;
  readonly conv1: Conv2d;
  readonly norm2: BatchNorm2d;
  readonly conv2: Conv2d;

  constructor(
    inChannels: number,
    growthRate: number,
    bnSize: number,
    private readonly dropRate: number,
  ) {
    super();
    this.norm1 = this.registerModule('norm1', new BatchNorm2d(inChannels));
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(inChannels, bnSize * growthRate, 1, { bias: false }),
    );
    this.norm2 = this.registerModule('norm2', new BatchNorm2d(bnSize * growthRate));
    this.conv2 = this.registerModule(
      'conv2',
      new Conv2d(bnSize * growthRate, growthRate, 3, { padding: 1, bias: false }),
    );
  }

  /** @param x - the concatenation of every earlier feature map of the block */
  forward(x: Tensor): Tensor {
    const bottleneck = this.conv1.call(F.relu(this.norm1.call(x)));
    const out = this.conv2.call(F.relu(this.norm2.call(bottleneck)));
    return this.dropRate > 0 ? F.dropout(out, this.dropRate, this.training) : out;
  }
}

/** A dense block: each layer sees the concatenation of the block input and all earlier layers' outputs. */
class DenseBlock extends Block {
  private readonly layers: DenseLayer[] = [];

  constructor(numLayers: number, inChannels: number, bnSize: number, growthRate: number, dropRate: number) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const layer = new DenseLayer(inChannels + i * growthRate, growthRate, bnSize, dropRate);
      this.layers.push(this.registerModule(`denselayer${i + 1}`, layer));
    }
  }

  forward(x: Tensor): Tensor {
    const features: Tensor[] = [x];
    for (const layer of this.layers) {
      // Each layer's input concatenation is freed as soon as the layer has run (it is the block's largest
      // transient: torchvision's memory_efficient option exists for the same reason).
      features.push(features.length === 1 ? layer.call(x) : tidy(() => layer.call(cat(features, 1))));
    }
    return cat(features, 1);
  }
}

/** BN-ReLU-1×1 conv halving the channels, then 2×2 average pooling. */
class Transition extends Block {
  readonly norm: BatchNorm2d;
  readonly conv: Conv2d;

  constructor(inChannels: number, outChannels: number) {
    super();
    this.norm = this.registerModule('norm', new BatchNorm2d(inChannels));
    this.conv = this.registerModule('conv', new Conv2d(inChannels, outChannels, 1, { bias: false }));
  }

  forward(x: Tensor): Tensor {
    return F.avgPool2d(this.conv.call(F.relu(this.norm.call(x))), { kernelSize: 2, stride: 2 });
  }
}

/** The stem's 3×3/2 max pooling as a module (torchvision's `features.pool0`). */
class MaxPool extends Module {
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
  }
}

/** DenseNet-BC: 7×7 stem, dense blocks joined by transitions, a final BN (`norm5`), ReLU, pool, `classifier`. */
export class DenseNet extends ZooModel {
  readonly stemWeightKey = 'features.conv0.weight';
  readonly headLinearName = 'classifier';
  readonly numFeatures: number;
  readonly features: NamedSequential;
  readonly classifier: Linear;

  /**
   * @param architecture - registry name
   * @param growthRate - k, channels each layer adds (32)
   * @param blockConfig - layers per dense block
   * @param numInitFeatures - stem channels (64)
   * @param options - resolved options
   */
  constructor(
    readonly architecture: string,
    growthRate: number,
    blockConfig: readonly number[],
    numInitFeatures: number,
    options: ResolvedModelOptions,
  ) {
    super(options);
    const bnSize = 4;
    const features = new NamedSequential([
      ['conv0', new Conv2d(options.inChannels, numInitFeatures, 7, { stride: 2, padding: 3, bias: false })],
      ['norm0', new BatchNorm2d(numInitFeatures)],
      ['relu0', relu()],
      ['pool0', new MaxPool()],
    ]);
    let channels = numInitFeatures;
    blockConfig.forEach((numLayers, i) => {
      // torchvision's drop_rate (per dense layer) is 0 for densenet121; the head dropout is separate.
      features.append(`denseblock${i + 1}`, new DenseBlock(numLayers, channels, bnSize, growthRate, 0));
      channels += numLayers * growthRate;
      if (i !== blockConfig.length - 1) {
        features.append(`transition${i + 1}`, new Transition(channels, Math.floor(channels / 2)));
        channels = Math.floor(channels / 2);
      }
    });
    features.append('norm5', new BatchNorm2d(channels));
    this.features = this.registerModule('features', features);
    this.numFeatures = channels;
    this.classifier = this.registerModule(
      'classifier',
      new Linear(channels + options.extraInputs, headLinearOutputs(options.head)),
    );
    // torchvision: kaiming-normal (fan-in) convs, BN 1/0, Linear bias 0 (weight left at PyTorch's default).
    initialise(this, { conv: (w) => init.kaimingNormal_(w), normOnes: true, zeroLinearBias: true });
  }

  /** The features after `norm5` and the ReLU torchvision applies before pooling. @param x - [N, C, H, W] */
  forwardFeatures(x: Tensor): Tensor {
    return F.relu(this.features.call(x));
  }

  /** Global average pool, then the head. @param features - from forwardFeatures; @param extra - extra scalars */
  forwardHead(features: Tensor, extra?: Tensor): Tensor {
    return this.applyHead(F.adaptiveAvgPool2d(features, 1).flatten(1), extra, this.classifier);
  }

  /** One per dense block: stage s is the output of `denseblock{s}` (before its transition halves the map). */
  override get featureStages(): number {
    return this.stageEnds().length;
  }

  /** Stem and dense blocks 1 … `stage` (the last stage with norm5 and the ReLU). @param x - images; @param stage - 1 … featureStages */
  override forwardToStage(x: Tensor, stage: number): Tensor {
    this.checkStage(stage);
    if (stage === this.featureStages) return this.forwardFeatures(x);
    return this.features.forwardRange(x, 0, this.stageEnds()[stage - 1] as number);
  }

  /** The blocks after `stage`, then the head. @param h - from forwardToStage; @param stage - 1 … featureStages; @param extra - scalars */
  override forwardFromStage(h: Tensor, stage: number, extra?: Tensor): Tensor {
    this.checkStage(stage);
    const rest = stage === this.featureStages ? h : F.relu(this.features.forwardRange(h, this.stageEnds()[stage - 1] as number, this.features.length));
    return this.forwardHead(rest, extra);
  }

  /** Position after each dense block in `features`. */
  private stageEnds(): number[] {
    const ends: number[] = [];
    for (let i = 1; this.features.indexOf(`denseblock${i}`) >= 0; i++) ends.push(this.features.indexOf(`denseblock${i}`) + 1);
    return ends;
  }
}

/** torchvision `densenet121`: k = 32, blocks [6, 12, 24, 16], 1024 features, 8.0M parameters with 1000 classes. */
export function densenet121(o: ModelOptions = {}): DenseNet {
  const options = resolveModelOptions('densenet121', o, { dropout: 0, stochasticDepthProb: 0 });
  return new DenseNet('densenet121', 32, [6, 12, 24, 16], 64, options);
}
