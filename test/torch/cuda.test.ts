import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, cudaIsAvailable, DeviceError, F, manualSeed, randn, tensor, type Tensor } from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';

// Module.to / moveTo_ on any machine; CUDA against CPU only where libtorch has CUDA and a GPU is visible
// (native/README.md records a run on an H100).
const NO_CUDA = cudaIsAvailable() ? false : 'no CUDA: the linked libtorch has none or no GPU is visible (build with LIBTORCH=<CUDA torch>)';

function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
    s = Math.max(s, Math.abs(a[i] as number));
  }
  return d / (s || 1);
}

void test('moveTo_ keeps the tensor object; a move to an unavailable device throws DeviceError and changes nothing', () => {
  const t = tensor([1, 2, 3], [3], { requiresGrad: true });
  assert.equal(t.moveTo_('cpu'), t);
  assert.equal(t.device, 'cpu');
  if (!cudaIsAvailable()) {
    assert.throws(() => t.moveTo_('cuda'), DeviceError);
    assert.equal(t.device, 'cpu');
    assert.deepEqual([...t.toFloat32Array()], [1, 2, 3]);
  }
});

void test('Module.to moves every parameter and buffer in place (layers keep working)', { skip: NO_CUDA }, () => {
  manualSeed(7);
  const opts = { inChannels: 1, head: { kind: 'regression' as const, outputs: 1, relu: true }, extraInputs: 1 };
  const cpu = createModel('resnet18', opts);
  const gpu = createModel('resnet18', opts);
  gpu.loadStateDict(cpu.stateDict());
  const params = gpu.parameters();
  gpu.to('cuda');
  assert.ok(gpu.parameters().every((p, i) => p === params[i] && p.device === 'cuda'));
  assert.ok([...gpu.stateDict().values()].every((t) => t.device === 'cuda'));
  cpu.eval();
  gpu.eval();
  const x = randn([2, 1, 64, 64]);
  const sex = tensor([1, 0], [2, 1]);
  const a = cpu.call(x, sex).toFloat32Array();
  const b = gpu.call(x.to('cuda'), sex.to('cuda')).toFloat32Array();
  // TF32 convolutions (libtorch's cuDNN default on Ampere and later) agree to about 1e-3 relative
  assert.ok(relDiff(a, b) < 1e-2, `CPU vs CUDA ${relDiff(a, b)}`);
  gpu.to('cpu');
  assert.ok(gpu.parameters().every((p) => p.device === 'cpu'));
});

void test('ops and an AdamW step on CUDA agree with the CPU', { skip: NO_CUDA }, () => {
  manualSeed(1);
  const cases: [number[][], (...xs: Tensor[]) => Tensor][] = [
    [[[2, 3, 16, 16], [4, 3, 3, 3]], (x, w) => F.conv2d(x as Tensor, w as Tensor, null, { padding: 1 })],
    [[[4, 6]], (x) => F.softmax(F.gelu(x as Tensor), 1)],
    [[[3, 5], [5, 2]], (a, b) => (a as Tensor).matmul(b as Tensor)],
  ];
  for (const [shapes, fn] of cases) {
    const base = shapes.map((s) => randn(s));
    let weight: Tensor | null = null;
    const run = (dev: 'cpu' | 'cuda'): Float32Array[] => {
      const xs = base.map((t) => tensor(t.toFloat32Array(), [...t.shape], { device: dev, requiresGrad: true }));
      const y = fn(...xs);
      weight ??= randn([...y.shape]);
      y.mul(tensor(weight.toFloat32Array(), [...y.shape], { device: dev })).sum().backward();
      return [y.toFloat32Array(), ...xs.map((x) => (x.grad as Tensor).toFloat32Array())];
    };
    const c = run('cpu');
    const g = run('cuda');
    c.forEach((v, i) => assert.ok(relDiff(v, g[i] as Float32Array) < 1e-3, `tensor ${i}: ${relDiff(v, g[i] as Float32Array)}`));
  }
  const p0 = randn([10]);
  const ends = (['cpu', 'cuda'] as const).map((dev) => {
    const p = tensor(p0.toFloat32Array(), [10], { device: dev, requiresGrad: true });
    const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.05 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      p.mul(p).sum().backward();
      opt.step();
    }
    return p.toFloat32Array();
  });
  assert.ok(relDiff(ends[0] as Float32Array, ends[1] as Float32Array) < 1e-5);
});
