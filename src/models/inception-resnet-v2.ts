/**
 * Inception-ResNet-v2 (Szegedy et al. 2017, "Inception-v4, Inception-ResNet and the Impact of Residual
 * Connections on Learning", AAAI) with the module tree and parameter names of timm's `inception_resnet_v2`
 * (torchvision has none): `conv2d_1a` … `conv2d_4a` stem, `mixed_5b`, `repeat` (10 × Block35), `mixed_6a`,
 * `repeat_1` (20 × Block17), `mixed_7a`, `repeat_2` (9 × Block8), `block8`, `conv2d_7b`, `classif`.
 * Every "BasicConv2d" is conv (no bias) + BatchNorm (eps 1e-3) + ReLU, named `conv`/`bn`. 55.8M parameters
 * with 1000 classes; default input 299×299; the smallest input the unpadded stem accepts is 75×75.
 */
import { BatchNorm2d, Conv2d, F, Linear, Module, cat } from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { ZooModel, headLinearOutputs, resolveModelOptions } from './heads.js';
import type { ModelOptions, ResolvedModelOptions } from './heads.js';
import { Block, sequential } from './layers.js';
import type { NamedSequential } from './layers.js';

type Pair = number | [number, number];

/** Conv (no bias) → BatchNorm (eps 1e-3, the TF-ported value) → ReLU. */
class BasicConv2d extends Block {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, stride = 1, padding: Pair = 0) {
    super();
    this.conv = this.registerModule(
      'conv',
      new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, bias: false }),
    );
    this.bn = this.registerModule('bn', new BatchNorm2d(outChannels, { eps: 1e-3 }));
  }

  forward(x: Tensor): Tensor {
    return F.relu(this.bn.call(this.conv.call(x)));
  }
}

/** A parameter-free pooling branch. */
class Pool extends Module {
  constructor(private readonly kind: 'max3s2' | 'avg3s1') {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.kind === 'max3s2'
      ? F.maxPool2d(x, { kernelSize: 3, stride: 2 })
      : F.avgPool2d(x, { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false });
  }
}

/** Parallel branches whose outputs are concatenated along channels (`branch0`, `branch1`, …). */
class Branches extends Block {
  private readonly branches: Module[] = [];

  constructor(branches: readonly Module[]) {
    super();
    branches.forEach((b, i) => this.branches.push(this.registerModule(`branch${i}`, b)));
  }

  forward(x: Tensor): Tensor {
    return cat(
      this.branches.map((b) => b.call(x)),
      1,
    );
  }
}

/** Mixed_5b: 192 → 320 channels at 35×35 (four branches). */
function mixed5b(): Branches {
  return new Branches([
    new BasicConv2d(192, 96, 1),
    sequential(new BasicConv2d(192, 48, 1), new BasicConv2d(48, 64, 5, 1, 2)),
    sequential(
      new BasicConv2d(192, 64, 1),
      new BasicConv2d(64, 96, 3, 1, 1),
      new BasicConv2d(96, 96, 3, 1, 1),
    ),
    sequential(new Pool('avg3s1'), new BasicConv2d(192, 64, 1)),
  ]);
}

/** Mixed_6a (reduction A): 320 → 1088 channels, 35×35 → 17×17. */
function mixed6a(): Branches {
  return new Branches([
    new BasicConv2d(320, 384, 3, 2),
    sequential(
      new BasicConv2d(320, 256, 1),
      new BasicConv2d(256, 256, 3, 1, 1),
      new BasicConv2d(256, 384, 3, 2),
    ),
    new Pool('max3s2'),
  ]);
}

/** Mixed_7a (reduction B): 1088 → 2080 channels, 17×17 → 8×8. */
function mixed7a(): Branches {
  return new Branches([
    sequential(new BasicConv2d(1088, 256, 1), new BasicConv2d(256, 384, 3, 2)),
    sequential(new BasicConv2d(1088, 256, 1), new BasicConv2d(256, 288, 3, 2)),
    sequential(
      new BasicConv2d(1088, 256, 1),
      new BasicConv2d(256, 288, 3, 1, 1),
      new BasicConv2d(288, 320, 3, 2),
    ),
    new Pool('max3s2'),
  ]);
}

/**
 * A residual Inception block: branches concatenated, a 1×1 conv (`conv2d`, with bias) back to the input width,
 * scaled (the paper's residual scaling, §3.3) and added to the input, then ReLU unless `noRelu`.
 */
class ResidualInception extends Block {
  readonly conv2d: Conv2d;
  private readonly branchList: readonly Module[];

  constructor(
    branches: readonly Module[],
    concatChannels: number,
    channels: number,
    private readonly scale: number,
    private readonly noRelu = false,
  ) {
    super();
    branches.forEach((b, i) => this.registerModule(`branch${i}`, b));
    this.branchList = branches;
    this.conv2d = this.registerModule('conv2d', new Conv2d(concatChannels, channels, 1));
  }

  forward(x: Tensor): Tensor {
    const mixed = cat(
      this.branchList.map((b) => b.call(x)),
      1,
    );
    const out = this.conv2d.call(mixed).mul(this.scale).add(x);
    return this.noRelu ? out : F.relu(out);
  }
}

/** Block35 (Inception-ResNet-A), 320 channels at 35×35. */
function block35(scale: number): ResidualInception {
  return new ResidualInception(
    [
      new BasicConv2d(320, 32, 1),
      sequential(new BasicConv2d(320, 32, 1), new BasicConv2d(32, 32, 3, 1, 1)),
      sequential(
        new BasicConv2d(320, 32, 1),
        new BasicConv2d(32, 48, 3, 1, 1),
        new BasicConv2d(48, 64, 3, 1, 1),
      ),
    ],
    128,
    320,
    scale,
  );
}

/** Block17 (Inception-ResNet-B), 1088 channels at 17×17, factorised 1×7 / 7×1 convs. */
function block17(scale: number): ResidualInception {
  return new ResidualInception(
    [
      new BasicConv2d(1088, 192, 1),
      sequential(
        new BasicConv2d(1088, 128, 1),
        new BasicConv2d(128, 160, [1, 7], 1, [0, 3]),
        new BasicConv2d(160, 192, [7, 1], 1, [3, 0]),
      ),
    ],
    384,
    1088,
    scale,
  );
}

/** Block8 (Inception-ResNet-C), 2080 channels at 8×8, factorised 1×3 / 3×1 convs. */
function block8(scale: number, noRelu = false): ResidualInception {
  return new ResidualInception(
    [
      new BasicConv2d(2080, 192, 1),
      sequential(
        new BasicConv2d(2080, 192, 1),
        new BasicConv2d(192, 224, [1, 3], 1, [0, 1]),
        new BasicConv2d(224, 256, [3, 1], 1, [1, 0]),
      ),
    ],
    448,
    2080,
    scale,
    noRelu,
  );
}

function repeat(n: number, make: () => Module): NamedSequential {
  return sequential(...Array.from({ length: n }, make));
}

/** Inception-ResNet-v2 as timm builds it (`drop_rate` 0, average pooling, `classif`). */
export class InceptionResNetV2 extends ZooModel {
  readonly stemWeightKey = 'conv2d_1a.conv.weight';
  readonly headLinearName = 'classif';
  readonly numFeatures = 1536;
  private readonly trunk: Module[];
  readonly classif: Linear;

  /** @param architecture - registry name; @param options - resolved options */
  constructor(
    readonly architecture: string,
    options: ResolvedModelOptions,
  ) {
    super(options);
    const stem: [string, Module][] = [
      ['conv2d_1a', new BasicConv2d(options.inChannels, 32, 3, 2)],
      ['conv2d_2a', new BasicConv2d(32, 32, 3, 1)],
      ['conv2d_2b', new BasicConv2d(32, 64, 3, 1, 1)],
      ['maxpool_3a', new Pool('max3s2')],
      ['conv2d_3b', new BasicConv2d(64, 80, 1)],
      ['conv2d_4a', new BasicConv2d(80, 192, 3, 1)],
      ['maxpool_5a', new Pool('max3s2')],
      ['mixed_5b', mixed5b()],
      ['repeat', repeat(10, () => block35(0.17))],
      ['mixed_6a', mixed6a()],
      ['repeat_1', repeat(20, () => block17(0.1))],
      ['mixed_7a', mixed7a()],
      ['repeat_2', repeat(9, () => block8(0.2))],
      ['block8', block8(1.0, true)],
      ['conv2d_7b', new BasicConv2d(2080, 1536, 1)],
    ];
    this.trunk = stem.map(([name, m]) => this.registerModule(name, m));
    this.classif = this.registerModule(
      'classif',
      new Linear(this.numFeatures + options.extraInputs, headLinearOutputs(options.head)),
    );
    // timm leaves every layer at PyTorch's default initialisation; so does this port.
  }

  /** The stem through `conv2d_7b`: [N, 1536, h, w] (8×8 at 299×299). @param x - [N, inChannels, H, W] */
  forwardFeatures(x: Tensor): Tensor {
    let y = x;
    for (const m of this.trunk) y = m.call(y);
    return y;
  }

  /** Global average pool, then the head. @param features - from forwardFeatures; @param extra - extra scalars */
  forwardHead(features: Tensor, extra?: Tensor): Tensor {
    return this.applyHead(F.adaptiveAvgPool2d(features, 1).flatten(1), extra, this.classif);
  }
}

/** timm `inception_resnet_v2`: 1536 features, ≈55.8M parameters with 1000 classes, no dropout by default. */
export function inceptionResnetV2(o: ModelOptions = {}): InceptionResNetV2 {
  const options = resolveModelOptions('inception_resnet_v2', o, { dropout: 0, stochasticDepthProb: 0 });
  return new InceptionResNetV2('inception_resnet_v2', options);
}
