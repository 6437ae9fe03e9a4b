import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixSeed, Rng, TrainConfigError } from '../../src/train/index.js';

void test('xoshiro128** from state [1,2,3,4] matches the reference algorithm output', () => {
  // reference values computed with a direct Python transcription of Blackman & Vigna's xoshiro128**
  const r = Rng.fromState([1, 2, 3, 4]);
  assert.deepEqual([r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()], [11520, 0, 5927040, 70819200]);
});

void test('equal seeds give equal streams, different seeds different ones', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const c = new Rng(43);
  const sa = Array.from({ length: 8 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 8 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 8 }, () => c.nextUint32()));
});

void test('a saved state resumes the exact stream', () => {
  const a = new Rng(7);
  for (let i = 0; i < 5; i++) a.float();
  const saved = a.state();
  const rest = Array.from({ length: 6 }, () => a.float());
  const b = Rng.fromState(JSON.parse(JSON.stringify(saved)) as [number, number, number, number]);
  assert.deepEqual(Array.from({ length: 6 }, () => b.float()), rest);
});

void test('float, int, uniform and normal stay in range; shuffle permutes', () => {
  const r = new Rng(1);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    const k = r.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
    const u = r.uniform(-2, 3);
    assert.ok(u >= -2 && u < 3);
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.05, `normal mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `normal variance ${sq / n}`);
  const arr = Array.from({ length: 50 }, (_, i) => i);
  const shuffled = r.shuffle([...arr]);
  assert.notDeepEqual(shuffled, arr);
  assert.deepEqual([...shuffled].sort((x, y) => x - y), arr);
});

void test('fork and mixSeed derive independent, reproducible streams', () => {
  assert.equal(mixSeed(1, 2, 3), mixSeed(1, 2, 3));
  assert.notEqual(mixSeed(1, 2, 3), mixSeed(1, 3, 2));
  assert.notEqual(mixSeed(1, 0), mixSeed(1, 2 ** 32));
  const r = new Rng(5);
  const before = r.state();
  const f1 = r.fork(1).nextUint32();
  assert.deepEqual(r.state(), before, 'fork does not advance the parent');
  assert.equal(new Rng(5).fork(1).nextUint32(), f1);
  assert.notEqual(new Rng(5).fork(2).nextUint32(), f1);
});

void test('bad seeds and states are refused', () => {
  assert.throws(() => new Rng(Number.NaN), TrainConfigError);
  assert.throws(() => Rng.fromState([0, 0, 0, 0]), TrainConfigError);
  assert.throws(() => Rng.fromState([1, 2, 3, -1]), TrainConfigError);
  assert.throws(() => new Rng(1).int(0), TrainConfigError);
});
