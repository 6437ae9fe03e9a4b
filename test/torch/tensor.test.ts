import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/torch/index.js';
import {
  tensor,
  zeros,
  ones,
  full,
  arange,
  randn,
  tidy,
  keep,
  memoryStats,
  trace,
  noGrad,
  isGradEnabled,
  manualSeed,
  cat,
  stack,
  split,
  where,
  ShapeError,
  DTypeError,
  DeviceError,
  TensorDisposedError,
  cudaIsAvailable,
  getNumThreads,
  setNumThreads,
  setDeterministic,
  F,
} from '../../src/torch/index.js';

void test('creation and read-back round-trip for every dtype', () => {
  const f = tensor([1.5, -2, 3, 4], [2, 2]);
  assert.deepEqual(f.shape, [2, 2]);
  assert.equal(f.dtype, 'float32');
  assert.equal(f.size, 4);
  assert.equal(f.rank, 2);
  assert.deepEqual([...f.toFloat32Array()], [1.5, -2, 3, 4]);
  const i = tensor([1, 2, 3], [3], { dtype: 'int64' });
  assert.deepEqual([...(i.data() as BigInt64Array)], [1n, 2n, 3n]);
  const b = tensor([1, 0, 1], [3], { dtype: 'bool' });
  assert.deepEqual([...(b.data() as Uint8Array)], [1, 0, 1]);
  const h = tensor([0.5, 2], [2], { dtype: 'float16' });
  // IEEE half bits: 0.5 = 0x3800, 2 = 0x4000
  assert.deepEqual([...(h.data() as Uint16Array)], [0x3800, 0x4000]);
  assert.deepEqual([...h.toFloat32Array()], [0.5, 2]);
  assert.deepEqual([...tensor(new Float32Array([7, 8]), [2, 1]).toFloat32Array()], [7, 8]);
  assert.equal(full([2, 3], 4).sum().item(), 24);
  assert.deepEqual([...(arange(4).data() as BigInt64Array)], [0n, 1n, 2n, 3n]);
  assert.equal(zeros([0, 3]).size, 0);
});

void test('creation rejects mismatched data and typed arrays of the wrong dtype', () => {
  assert.throws(() => tensor([1, 2, 3], [2, 2]), ShapeError);
  assert.throws(() => tensor(new Float32Array(4), [2, 2], { dtype: 'int64' }), DTypeError);
  assert.throws(() => zeros([2, -1]), ShapeError);
});

void test('broadcasting arithmetic and scalars follow PyTorch', () => {
  const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tensor([10, 20, 30], [3]);
  assert.deepEqual([...a.add(b).toFloat32Array()], [11, 22, 33, 14, 25, 36]);
  assert.deepEqual([...a.mul(2).sub(1).toFloat32Array()], [1, 3, 5, 7, 9, 11]);
  assert.deepEqual([...a.rsub(1).toFloat32Array()], [0, -1, -2, -3, -4, -5]);
  assert.deepEqual([...a.clamp(2, 5).toFloat32Array()], [2, 2, 3, 4, 5, 5]);
  assert.deepEqual([...(a.gt(3).data() as Uint8Array)], [0, 0, 0, 1, 1, 1]);
  const i = tensor([1, 2], [2], { dtype: 'int64' });
  assert.equal(i.add(1).dtype, 'int64');
  assert.equal(i.mul(0.5).dtype, 'float32');
});

void test('shape ops and views', () => {
  const a = arange(24, { dtype: 'float32' }).reshape([2, 3, 4]);
  assert.deepEqual(a.permute([2, 0, 1]).shape, [4, 2, 3]);
  assert.deepEqual(a.flatten(1).shape, [2, 12]);
  assert.deepEqual(a.transpose(0, 2).contiguous().shape, [4, 3, 2]);
  assert.deepEqual(a.unsqueeze(0).squeeze(0).shape, [2, 3, 4]);
  const n = a.narrow(2, 1, 2);
  assert.deepEqual(n.shape, [2, 3, 2]);
  assert.deepEqual([...n.index(0).index(0).toFloat32Array()], [1, 2]);
  assert.equal(a.index(1).sharesDataWith(a), false); // offset view: first element differs
  assert.equal(a.index(0).sharesDataWith(a), true);
  assert.deepEqual(tensor([1, 2], [2, 1]).expand([2, 3]).shape, [2, 3]);
  assert.throws(() => a.view([5, 5]), ShapeError);
});

void test('joins: cat, stack, split, where', () => {
  const a = ones([2, 3]);
  const b = zeros([1, 3]);
  assert.deepEqual(cat([a, b], 0).shape, [3, 3]);
  assert.deepEqual(stack([a, a], 1).shape, [2, 2, 3]);
  const parts = split(arange(7, { dtype: 'float32' }), 3, 0);
  assert.deepEqual(
    parts.map((p) => p.shape[0]),
    [3, 3, 1],
  );
  assert.deepEqual([...(parts[2] as Tensor).toFloat32Array()], [6]);
  assert.deepEqual(
    split(ones([5, 2]), [2, 3], 0).map((p) => p.shape),
    [
      [2, 2],
      [3, 2],
    ],
  );
  assert.throws(() => split(ones([5]), [2, 2], 0), ShapeError);
  const w = where(tensor([1, 0], [2], { dtype: 'bool' }), tensor([1, 2], [2]), tensor([3, 4], [2]));
  assert.deepEqual([...w.toFloat32Array()], [1, 4]);
  assert.throws(() => cat([ones([2, 3]), ones([2, 4])], 0), ShapeError);
});

void test('reductions with dims and keepDim', () => {
  const a = tensor([1, 5, 3, 4, 2, 6], [2, 3]);
  assert.equal(a.sum().item(), 21);
  assert.deepEqual([...a.sum(1).toFloat32Array()], [9, 12]);
  assert.deepEqual(a.mean(-1, true).shape, [2, 1]);
  assert.deepEqual(a.sum(undefined, true).shape, [1, 1]);
  assert.equal(a.max().item(), 6);
  const { values, indices } = a.maxDim(1);
  assert.deepEqual([...values.toFloat32Array()], [5, 6]);
  assert.deepEqual([...(indices.data() as BigInt64Array)], [1n, 2n]);
  assert.deepEqual([...(a.argmax(0).data() as BigInt64Array)], [1n, 0n, 1n]);
});

void test('errors name the op and shapes; use after dispose throws', () => {
  const a = ones([2, 3]);
  assert.throws(
    () => a.add(ones([4])),
    (e: Error) => e instanceof ShapeError && /\[2,3\]/.test(e.message) && /\[4\]/.test(e.message),
  );
  assert.throws(
    () => a.matmul(ones([2, 2])),
    (e: Error) => e instanceof ShapeError && /\[2,3\] @ \[2,2\]/.test(e.message),
  );
  a.dispose();
  a.dispose(); // idempotent
  assert.equal(a.isDisposed, true);
  assert.throws(() => a.sum(), TensorDisposedError);
  if (!cudaIsAvailable()) assert.throws(() => zeros([2], { device: 'cuda' }), DeviceError);
});

void test('tidy disposes what it does not return; keep() and nesting', () => {
  const before = memoryStats().liveTensors;
  let kept: Tensor | null = null;
  const out = tidy(() => {
    const x = ones([4, 4]);
    const y = x.add(1);
    kept = keep(y.mul(3));
    const inner = tidy(() => y.mul(2).add(x));
    return { inner, list: [y] };
  });
  assert.equal(out.inner.isDisposed, false);
  assert.equal(out.list[0]?.isDisposed, false);
  assert.equal((kept as Tensor | null)?.isDisposed, false);
  assert.equal(memoryStats().liveTensors, before + 3);
  out.inner.dispose();
  out.list[0]?.dispose();
  (kept as Tensor | null)?.dispose();
  assert.equal(memoryStats().liveTensors, before);
  assert.throws(
    () =>
      tidy(() => {
        ones([2]);
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(memoryStats().liveTensors, before);
});

void test('native bytes are reported and released', () => {
  const before = memoryStats().nativeBytes;
  const t = zeros([256, 256]);
  assert.equal(memoryStats().nativeBytes - before, 256 * 256 * 4);
  t.dispose();
  assert.equal(memoryStats().nativeBytes, before);
});

void test('noGrad scope turns recording off and restores it', () => {
  const a = ones([2], { requiresGrad: true });
  const b = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return a.mul(2);
  });
  assert.equal(isGradEnabled(), true);
  assert.equal(b.requiresGrad, false);
  assert.equal(a.mul(2).requiresGrad, true);
});

void test('manualSeed makes randn reproducible', () => {
  manualSeed(7);
  const a = randn([5]).toFloat32Array();
  manualSeed(7);
  const b = randn([5]).toFloat32Array();
  assert.deepEqual([...a], [...b]);
});

void test('trace records each op with its inputs, attrs and outputs', () => {
  const x = ones([1, 4]);
  const { result, graph } = trace(() => x.mul(2).reshape([2, 2]).sum(0));
  assert.deepEqual(
    graph.nodes.map((n) => n.op),
    ['mul', 'reshape', 'sum'],
  );
  assert.equal(graph.nodes[0]?.inputs[0], x);
  assert.equal(graph.nodes[1]?.inputs[0], graph.nodes[0]?.outputs[0]);
  assert.deepEqual(graph.nodes[1]?.attrs, { shape: [2, 2] });
  assert.equal(graph.nodes[2]?.outputs[0], result);
  // no trace active: nothing recorded afterwards
  const again = trace(() => 0);
  x.add(1);
  assert.equal(again.graph.nodes.length, 0);
});

void test('threads and deterministic mode are settable; bad thread counts are refused', () => {
  const n = getNumThreads();
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(n);
  assert.equal(getNumThreads(), n);
  assert.throws(() => setNumThreads(0), RangeError);
  setDeterministic(true);
  try {
    manualSeed(5);
    const a = randn([2, 3, 8, 8]);
    const w = randn([4, 3, 3, 3]);
    const y1 = F.conv2d(a, w, null, { padding: 1 }).toFloat32Array();
    const y2 = F.conv2d(a, w, null, { padding: 1 }).toFloat32Array();
    assert.deepEqual([...y1], [...y2]);
  } finally {
    setDeterministic(false);
  }
});
