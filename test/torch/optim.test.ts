import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AdamW,
  SGD,
  warmupCosine,
  oneCycle,
  tensor,
  randn,
  tidy,
  F,
  autogradGrad,
  bernoulli,
  manualSeed,
  ones,
  type Tensor,
} from '../../src/torch/index.js';

void test('warmupCosine: linear warm-up, cosine to minLr', () => {
  const s = warmupCosine({ baseLr: 1, warmupSteps: 4, totalSteps: 14, minLr: 0.1 });
  assert.deepEqual([0, 1, 2, 3].map(s), [0.25, 0.5, 0.75, 1]);
  assert.equal(s(4), 1);
  assert.ok(Math.abs(s(9) - 0.55) < 1e-12);
  assert.ok(Math.abs(s(14) - 0.1) < 1e-12);
  assert.ok(Math.abs(s(100) - 0.1) < 1e-12);
});

void test('oneCycle starts at maxLr/div, peaks at pctStart, ends at the floor', () => {
  const s = oneCycle({ maxLr: 1, totalSteps: 101, pctStart: 0.3 });
  assert.ok(Math.abs(s(0) - 0.04) < 1e-12);
  const peak = Array.from({ length: 101 }, (_, i) => s(i)).reduce((a, b) => Math.max(a, b));
  assert.ok(Math.abs(peak - 1) < 1e-3);
  assert.ok(Math.abs(s(100) - 0.04 / 1e4) < 1e-12);
});

void test('AdamW state round-trips for --resume: resumed run equals an uninterrupted one', () => {
  const grads = Array.from({ length: 6 }, () => randn([4]));
  const start = randn([4]);
  const run = (
    n: number,
    from?: { p: Tensor; state: ReturnType<AdamW['stateDict']> },
  ): { p: Tensor; opt: AdamW } => {
    const p = (from?.p ?? start).clone().requiresGrad_(true);
    const opt = new AdamW([p], { lr: 0.1 });
    if (from) opt.loadStateDict(from.state);
    const first = from ? 3 : 0;
    for (let i = first; i < first + n; i++) {
      p.setGrad((grads[i] as Tensor).clone());
      opt.step();
    }
    return { p, opt };
  };
  const full = run(6);
  const half = run(3);
  const resumed = run(3, { p: half.p.detach(), state: half.opt.stateDict() });
  assert.deepEqual([...resumed.p.toFloat32Array()], [...full.p.toFloat32Array()]);
  assert.equal(half.opt.stateDict().tensors.get('state.0.step')?.item(), 3);
});

void test('SGD state round-trips and skips parameters without gradients', () => {
  const a = ones([2]).requiresGrad_(true);
  const b = ones([2]).requiresGrad_(true);
  const opt = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
  a.setGrad(tensor([1, 2], [2]));
  opt.step();
  assert.deepEqual([...a.toFloat32Array()], [0.5, 0]);
  assert.deepEqual([...b.toFloat32Array()], [1, 1]);
  const st = opt.stateDict();
  assert.deepEqual([...st.tensors.keys()], ['state.0.momentum_buffer']);
  const opt2 = new SGD([a, b], { lr: 0.5, momentum: 0.9 });
  opt2.loadStateDict(st);
  a.setGrad(tensor([0, 0], [2]));
  opt2.step();
  // buffer = 0.9 * [1,2] + 0 -> step -0.5*buffer
  assert.deepEqual(
    [...a.toFloat32Array()].map((v) => +v.toFixed(6)),
    [0.05, -0.9],
  );
  opt.zeroGrad();
  assert.equal(a.grad, null);
});

void test('autogradGrad: gradients without touching .grad; unused inputs get zeros', () => {
  const x = tensor([1, 2, 3], [3], { requiresGrad: true });
  const y = tensor([5], [1], { requiresGrad: true });
  const out = x.mul(x).sum();
  const [gx, gy] = autogradGrad([out], [x, y]);
  assert.deepEqual([...(gx as Tensor).toFloat32Array()], [2, 4, 6]);
  assert.deepEqual([...(gy as Tensor).toFloat32Array()], [0]);
  assert.equal(x.grad, null);
});

void test('dropout: identity in eval, zeroes ~p and rescales in training', () => {
  const x = ones([20000]);
  assert.equal(F.dropout(x, 0.3, false).sum().item(), 20000);
  const y = F.dropout(x, 0.3, true).toFloat32Array();
  const kept = y.filter((v) => v !== 0);
  assert.ok(Math.abs(kept.length / 20000 - 0.7) < 0.02);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-6));
});

void test('stochasticDepth drops whole rows (row) or everything (batch), scaling by 1/(1-p)', () => {
  manualSeed(3);
  const x = ones([400, 2, 3]);
  assert.equal(F.stochasticDepth(x, 0.25, 'row', false), x);
  const y = F.stochasticDepth(x, 0.25, 'row', true);
  const rows = y.sum([1, 2]).toFloat32Array();
  for (const r of rows) assert.ok(r === 0 || Math.abs(r - 6 / 0.75) < 1e-4, `row sum ${r}`);
  const dropped = rows.filter((r) => r === 0).length / 400;
  assert.ok(Math.abs(dropped - 0.25) < 0.08, `dropped ${dropped}`);
  const b = F.stochasticDepth(x, 0.5, 'batch', true).toFloat32Array();
  assert.ok(b.every((v) => v === 0) || b.every((v) => v === 2));
  assert.equal(bernoulli([3], 1).sum().item(), 3);
});

void test('tidy inside a training step leaves only what the step keeps', () => {
  const w = randn([3, 2]).requiresGrad_(true);
  const opt = new AdamW([w]);
  const loss = tidy(() => {
    const l = F.mseLoss(randn([4, 3]).matmul(w), randn([4, 2]));
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l.item();
  });
  assert.ok(Number.isFinite(loss));
});
