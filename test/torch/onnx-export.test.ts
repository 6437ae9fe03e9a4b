import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import {
  BatchNorm2d,
  Conv2d,
  GroupNorm,
  F,
  LayerNorm,
  Linear,
  Module,
  cat,
  manualSeed,
  memoryStats,
  noGrad,
  randn,
  split,
  stack,
  tensor,
  tidy,
  type Tensor,
} from '../../src/torch/index.js';
import { exportOnnx, OnnxExportError } from '../../src/torch/onnx-export.js';

/** A module made of named children and a forward function (so each case is a few lines). */
class FnModule extends Module {
  constructor(
    children: Record<string, Module>,
    private readonly fn: (m: Record<string, Module>, ...xs: Tensor[]) => Tensor,
  ) {
    super();
    for (const [k, v] of Object.entries(children)) this.registerModule(k, v);
    this.kids = children;
  }
  private readonly kids: Record<string, Module>;
  forward(...xs: Tensor[]): Tensor {
    return this.fn(this.kids, ...xs);
  }
}

/** Randomise BatchNorm running statistics so eval-mode normalisation is not the identity. */
function perturbBatchNorm(m: Module): void {
  noGrad(() => {
    for (const [name, t] of m.namedBuffers()) {
      if (name.endsWith('running_mean')) t.copy_(randn(t.shape).mul(0.3));
      if (name.endsWith('running_var')) t.copy_(randn(t.shape).abs().add(0.5));
    }
  });
}

async function runOnnx(
  bytes: Uint8Array,
  feeds: Record<string, { data: Float32Array; shape: number[] }>,
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, v.shape);
  const out = await session.run(ortFeeds);
  await session.release();
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  return res;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'element counts');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? NaN) - (b[i] ?? NaN)));
  return m;
}

/** Export `m` for inputs of per-sample shape `sample`, then compare ORT with the engine at batch sizes 1 and 3. */
async function checkParity(m: Module, sample: number[][], tol = 1e-4): Promise<void> {
  m.eval();
  const names = sample.map((_, i) => `in${i}`);
  const { bytes } = exportOnnx(m, {
    inputs: sample.map((s, i) => ({ name: names[i] as string, shape: [2, ...s] })),
    forward: (...xs) => ({ out: m.call(...xs) }),
  });
  for (const batch of [1, 3]) {
    const datas = sample.map((s) =>
      Float32Array.from({ length: batch * s.reduce((a, b) => a * b, 1) }, (_, i) =>
        Math.sin(i * 1.37 + batch),
      ),
    );
    const want = tidy(() =>
      noGrad(() =>
        m.call(...datas.map((d, i) => tensor(d, [batch, ...(sample[i] as number[])]))).toFloat32Array(),
      ),
    );
    const feeds: Record<string, { data: Float32Array; shape: number[] }> = {};
    datas.forEach(
      (d, i) => (feeds[names[i] as string] = { data: d, shape: [batch, ...(sample[i] as number[])] }),
    );
    const got = (await runOnnx(bytes, feeds))['out'] as Float32Array;
    const diff = maxAbsDiff(got, want);
    assert.ok(diff <= tol, `batch ${batch}: max abs difference ${diff} > ${tol}`);
  }
}

const OP_CASES: { name: string; sample: number[][]; build: () => Module }[] = [
  {
    name: 'conv (stride, padding, bias) + eval batchnorm + relu',
    sample: [[2, 9, 9]],
    build: () =>
      new FnModule({ c: new Conv2d(2, 4, 3, { stride: 2, padding: 1 }), bn: new BatchNorm2d(4) }, (k, x) =>
        F.relu(k['bn']!.call(k['c']!.call(x))).mul(1),
      ),
  },
  {
    name: 'depthwise dilated conv without bias, relu6, silu, hardswish, hardsigmoid',
    sample: [[4, 8, 8]],
    build: () =>
      new FnModule(
        { c: new Conv2d(4, 4, 3, { padding: 2, dilation: 2, groups: 4, bias: false }) },
        (k, x) => {
          const y = k['c']!.call(x).mul(3);
          return F.relu6(y).add(F.silu(y)).add(F.hardswish(y)).add(F.hardsigmoid(y));
        },
      ),
  },
  {
    name: 'exact gelu, sigmoid, tanh',
    sample: [[3, 5]],
    build: () => new FnModule({}, (_, x) => F.gelu(x.mul(2)).add(F.sigmoid(x)).sub(F.tanh(x))),
  },
  {
    name: 'maxpool (ceil mode, padding), avgpool (count_include_pad false)',
    sample: [[2, 7, 7]],
    build: () =>
      new FnModule({}, (_, x) =>
        F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }).add(
          F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }),
        ),
      ),
  },
  {
    name: 'adaptive average pooling to 1x1 and 2x2',
    sample: [[3, 6, 6]],
    build: () => new FnModule({}, (_, x) => F.adaptiveAvgPool2d(x, 2).add(F.adaptiveAvgPool2d(x, 1))),
  },
  {
    name: 'flatten + linear + softmax / logSoftmax',
    sample: [[2, 3, 3]],
    build: () =>
      new FnModule({ fc: new Linear(18, 5) }, (k, x) =>
        F.softmax(k['fc']!.call(x.flatten(1)), 1).add(F.logSoftmax(k['fc']!.call(x.flatten(1)), -1)),
      ),
  },
  {
    name: 'channels-last layer norm (ConvNeXt style: permute, LayerNorm, permute back)',
    sample: [[4, 3, 3]],
    build: () =>
      new FnModule({ ln: new LayerNorm(4, { eps: 1e-6 }) }, (k, x) =>
        k['ln']!.call(x.permute([0, 2, 3, 1])).permute([0, 3, 1, 2]),
      ),
  },
  {
    name: 'group norm (InstanceNormalization decomposition with per-channel affine)',
    sample: [[6, 3, 3]],
    build: () => {
      const gn = new GroupNorm(3, 6, { eps: 1e-5 });
      noGrad(() => {
        gn.weight?.copy_(tensor([0.5, 1.5, -1, 2, 0.25, 1], [6]));
        gn.bias?.copy_(tensor([0.1, -0.2, 0.3, 0, 1, -1], [6]));
      });
      return new FnModule({ gn }, (k, x) => k['gn']!.call(x.mul(2).add(0.5)));
    },
  },
  {
    name: 'linear on a rank-3 input, transpose, reshape with -1, view',
    sample: [[4, 6]],
    build: () =>
      new FnModule({ fc: new Linear(6, 3) }, (k, x) =>
        k['fc']!.call(x).transpose(1, 2).reshape([-1, 12]).view([-1, 3, 4]),
      ),
  },
  {
    name: 'mean (keepdim, negative dims) and sum, scalar arithmetic, rsub, pow, sqrt, clamp',
    sample: [[3, 4, 4]],
    build: () =>
      new FnModule({}, (_, x) => {
        const m = x.mean([-2, -1], true);
        const s = x.sum(1, true);
        return x
          .sub(m)
          .div(2)
          .add(s)
          .pow(2)
          .add(1)
          .sqrt()
          .clamp(null, 2.5)
          .rsub(3)
          .mul(x.abs().clamp(0.1, null).rsqrt());
      }),
  },
  {
    name: 'cat with a second input, stack, split, narrow, select, unsqueeze, squeeze',
    sample: [[4, 2, 2], [3]],
    build: () =>
      new FnModule({}, (_, x, e) => {
        const pooled = x.mean([2, 3]); // [N, 4]
        const joined = cat([pooled, e!], 1); // [N, 7]
        const [a, b] = split(joined, [3, 4], 1) as [Tensor, Tensor];
        const st = stack([a, b.narrow(1, 1, 3)], 1); // [N, 2, 3]
        return st.select(1, 0).unsqueeze(1).squeeze(1).add(st.select(1, 1));
      }),
  },
  {
    name: 'pad (constant, reflect, replicate)',
    sample: [[1, 4, 4]],
    build: () =>
      new FnModule({}, (_, x) =>
        F.pad(x, [1, 2, 0, 1], 'constant', 0.5)
          .add(F.pad(x, [1, 2, 0, 1], 'reflect'))
          .add(F.pad(x, [1, 2, 0, 1], 'replicate')),
      ),
  },
  {
    name: 'bilinear and nearest resize',
    sample: [[2, 4, 5]],
    build: () =>
      new FnModule({}, (_, x) =>
        F.interpolate(x, { size: [8, 10], mode: 'bilinear' }).add(
          F.interpolate(x, { scaleFactor: 2, mode: 'nearest' }),
        ),
      ),
  },
  {
    name: 'dropout in eval is identity',
    sample: [[5]],
    build: () =>
      new FnModule({}, (_, x) => F.dropout(x, 0.5, false).add(F.stochasticDepth(x, 0.2, 'row', false))),
  },
];

for (const c of OP_CASES) {
  void test(`ONNX export matches the engine in ONNX Runtime: ${c.name}`, async () => {
    manualSeed(11);
    const m = c.build();
    perturbBatchNorm(m);
    await checkParity(m, c.sample);
  });
}

void test('initializers carry the dotted parameter names and the batch dimension is symbolic', async () => {
  manualSeed(1);
  const m = new FnModule(
    { stem: new FnModule({ conv: new Conv2d(1, 2, 3) }, (k, x) => k['conv']!.call(x)), fc: new Linear(2, 1) },
    (k, x) => k['fc']!.call(k['stem']!.call(x).mean([2, 3])),
  );
  const r = exportOnnx(m, {
    inputs: [{ name: 'input', shape: [2, 1, 5, 5] }],
    forward: (x) => ({ boneAge: m.call(x), features: k(m, x) }),
  });
  const session = await ort.InferenceSession.create(r.bytes);
  assert.deepEqual(session.inputNames, ['input']);
  assert.deepEqual([...session.outputNames].sort(), ['boneAge', 'features']);
  await session.release();
  const text = Buffer.from(r.bytes).toString('latin1');
  for (const name of ['stem.conv.weight', 'stem.conv.bias', 'fc.weight', 'fc.bias', 'batch'])
    assert.ok(text.includes(name), name);
  assert.equal(r.opCounts['conv2d'], 2);
});
function k(m: Module, x: Tensor): Tensor {
  return (m.namedModules().find(([n]) => n === 'stem')?.[1] as Module).call(x);
}

void test('export refuses an op without an ONNX mapping, naming it', () => {
  const m = new FnModule({}, (_, x) => F.l1Loss(x, x.mul(2)));
  assert.throws(
    () => exportOnnx(m, { inputs: [{ name: 'x', shape: [2, 3] }], forward: (x) => ({ out: m.call(x) }) }),
    (e: unknown) => e instanceof OnnxExportError && /no ONNX mapping for traced op 'l1Loss'/.test(e.message),
  );
});

void test('export refuses training-mode batch norm and a batch of 1 (the batch would be baked in)', () => {
  const m = new FnModule({}, (_, x) => F.batchNorm(x, null, null, null, null, true, 0.1, 1e-5));
  assert.throws(
    () =>
      exportOnnx(m, { inputs: [{ name: 'x', shape: [2, 3, 2, 2] }], forward: (x) => ({ out: m.call(x) }) }),
    /batchNorm: export needs eval mode/,
  );
  assert.throws(
    () =>
      exportOnnx(m, { inputs: [{ name: 'x', shape: [1, 3, 2, 2] }], forward: (x) => ({ out: m.call(x) }) }),
    /batch of at least 2/,
  );
});

void test('export restores training mode and frees every traced intermediate', () => {
  const m = new FnModule({ c: new Conv2d(1, 2, 3) }, (kk, x) => F.relu(kk['c']!.call(x)).add(1));
  m.train(true);
  const before = memoryStats().liveTensors;
  exportOnnx(m, { inputs: [{ name: 'x', shape: [2, 1, 6, 6] }], forward: (x) => ({ out: m.call(x) }) });
  assert.equal(memoryStats().liveTensors, before);
  assert.equal(m.training, true);
});
