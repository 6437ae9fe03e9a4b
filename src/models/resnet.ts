/**
 * ResNet-18 and ResNet-50 (He et al. 2016, "Deep Residual Learning for Image Recognition", CVPR), with
 * torchvision 0.14's module tree and parameter names (`conv1`, `bn1`, `layer1.0.conv1`, `layer2.0.downsample.0`,
 * `fc`), so torchvision's state dicts load unchanged.
 */
import { BatchNorm2d, Conv2d, F, Linear, init } from '../torch/index.js';
import type { Tensor, Module } from '../torch/index.js';
import { ZooModel, resolveModelOptions } from './heads.js';
import type { ModelOptions, ResolvedModelOptions } from './heads.js';
import { headLinearOutputs } from './heads.js';
import { Block, initialise, sequential } from './layers.js';

/** The two-3×3-conv block of ResNet-18/34 (expansion 1). */
class BasicBlock extends Block {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Module | null;

  constructor(inPlanes: number, planes: number, stride: number, downsample: Module | null) {
    super();
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.call(this.conv2.call(F.relu(this.bn1.call(this.conv1.call(x)))));
    const identity = this.downsample === null ? x : this.downsample.call(x);
    return F.relu(out.add(identity));
  }
}

/** The 1×1-3×3-1×1 bottleneck of ResNet-50 (expansion 4; stride on the 3×3, "ResNet v1.5" as torchvision). */
class Bottleneck extends Block {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Module | null;

  constructor(inPlanes: number, planes: number, stride: number, downsample: Module | null) {
    super();
    const width = planes;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule(
      'conv2',
      new Conv2d(width, width, 3, { stride, padding: 1, bias: false }),
    );
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new Conv2d(width, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    let out = F.relu(this.bn1.call(this.conv1.call(x)));
    out = F.relu(this.bn2.call(this.conv2.call(out)));
    out = this.bn3.call(this.conv3.call(out));
    const identity = this.downsample === null ? x : this.downsample.call(x);
    return F.relu(out.add(identity));
  }
}

type BlockClass = typeof BasicBlock | typeof Bottleneck;

/** ResNet: 7×7 stem, max pool, four stages of residual blocks, global average pool, `fc`. */
export class ResNet extends ZooModel {
  readonly stemWeightKey = 'conv1.weight';
  readonly headLinearName = 'fc';
  readonly numFeatures: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layer1: Module;
  readonly layer2: Module;
  readonly layer3: Module;
  readonly layer4: Module;
  readonly fc: Linear;

  /**
   * @param architecture - registry name
   * @param block - BasicBlock (ResNet-18) or Bottleneck (ResNet-50)
   * @param layers - blocks per stage
   * @param options - resolved model options
   * @param baseWidth - channels of the stem and the first stage (64 in He et al.); the stages double it
   */
  constructor(
    readonly architecture: string,
    block: BlockClass,
    layers: readonly [number, number, number, number],
    options: ResolvedModelOptions,
    baseWidth = 64,
  ) {
    super(options);
    const w = baseWidth;
    let inPlanes = w;
    const makeLayer = (planes: number, blocks: number, stride: number): Module => {
      const out = planes * block.expansion;
      const downsample =
        stride !== 1 || inPlanes !== out
          ? sequential(new Conv2d(inPlanes, out, 1, { stride, bias: false }), new BatchNorm2d(out))
          : null;
      const list: Module[] = [new block(inPlanes, planes, stride, downsample)];
      inPlanes = out;
      for (let i = 1; i < blocks; i++) list.push(new block(inPlanes, planes, 1, null));
      return sequential(...list);
    };
    this.conv1 = this.registerModule(
      'conv1',
      new Conv2d(options.inChannels, w, 7, { stride: 2, padding: 3, bias: false }),
    );
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(w));
    this.layer1 = this.registerModule('layer1', makeLayer(w, layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(2 * w, layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(4 * w, layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(8 * w, layers[3], 2));
    this.numFeatures = 8 * w * block.expansion;
    this.fc = this.registerModule(
      'fc',
      new Linear(this.numFeatures + options.extraInputs, headLinearOutputs(options.head)),
    );
    // torchvision: kaiming-normal fan-out for convs, BN 1/0, the Linear left at PyTorch's default.
    initialise(this, {
      conv: (w) => init.kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'relu' }),
      normOnes: true,
    });
  }

  /** Stem and the four stages; the output of `layer4`. @param x - [N, inChannels, H, W] */
  forwardFeatures(x: Tensor): Tensor {
    let y = F.relu(this.bn1.call(this.conv1.call(x)));
    y = F.maxPool2d(y, { kernelSize: 3, stride: 2, padding: 1 });
    y = this.layer1.call(y);
    y = this.layer2.call(y);
    y = this.layer3.call(y);
    return this.layer4.call(y);
  }

  /** Four: the outputs of layer1 (stride 4) … layer4 (stride 32). */
  override get featureStages(): number {
    return 4;
  }

  /** Stem and layer1 … layer`stage`. @param x - [N, inChannels, H, W]; @param stage - 1 … 4 */
  override forwardToStage(x: Tensor, stage: number): Tensor {
    this.checkStage(stage);
    let y = F.maxPool2d(F.relu(this.bn1.call(this.conv1.call(x))), { kernelSize: 3, stride: 2, padding: 1 });
    for (const layer of this.stages().slice(0, stage)) y = layer.call(y);
    return y;
  }

  /** layer`stage + 1` … layer4, then the head. @param h - from forwardToStage; @param stage - 1 … 4; @param extra - scalars */
  override forwardFromStage(h: Tensor, stage: number, extra?: Tensor): Tensor {
    this.checkStage(stage);
    let y = h;
    for (const layer of this.stages().slice(stage)) y = layer.call(y);
    return this.forwardHead(y, extra);
  }

  private stages(): Module[] {
    return [this.layer1, this.layer2, this.layer3, this.layer4];
  }

  /** Global average pool, then the head. @param features - from forwardFeatures; @param extra - extra scalars */
  forwardHead(features: Tensor, extra?: Tensor): Tensor {
    return this.applyHead(F.adaptiveAvgPool2d(features, 1).flatten(1), extra, this.fc);
  }
}

/** torchvision `resnet18`: BasicBlock ×[2, 2, 2, 2], 512 features, 11.7M parameters with 1000 classes. */
export function resnet18(o: ModelOptions = {}): ResNet {
  return new ResNet(
    'resnet18',
    BasicBlock,
    [2, 2, 2, 2],
    resolveModelOptions('resnet18', o, NO_REGULARISATION),
  );
}

/**
 * ResNet-18's topology at half width (stages of 32-64-128-256 channels, 256 features, about a quarter of the
 * parameters and operations): a small, fast classifier for whole-film questions (which body part, which way up) whose
 * weights fit in a few megabytes. Width scaling as studied by Zagoruyko & Komodakis 2016 (here narrower, not wider).
 * No reference implementation publishes weights for it; its parameter layout is resnet18's with every width halved.
 */
export function resnet18W32(o: ModelOptions = {}): ResNet {
  return new ResNet('resnet18_w32', BasicBlock, [2, 2, 2, 2], resolveModelOptions('resnet18_w32', o, NO_REGULARISATION), 32);
}

/** torchvision `resnet50`: Bottleneck ×[3, 4, 6, 3], 2048 features, 25.6M parameters with 1000 classes. */
export function resnet50(o: ModelOptions = {}): ResNet {
  return new ResNet(
    'resnet50',
    Bottleneck,
    [3, 4, 6, 3],
    resolveModelOptions('resnet50', o, NO_REGULARISATION),
  );
}

/** torchvision's ResNet has neither dropout nor stochastic depth. */
const NO_REGULARISATION = Object.freeze({ dropout: 0, stochasticDepthProb: 0 });
