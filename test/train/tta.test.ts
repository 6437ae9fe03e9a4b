import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../../src/torch/index.js';
import {
  calibrateInterval,
  createBoneAgeModel,
  heldOutCoverage,
  intervalOf,
  predictTta,
  predictTtaSexes,
  TTA_SD_FLOOR_MONTHS,
  ttaViews,
  type TtaPrediction,
} from '../../src/train/index.js';

// ramp_16x16
const IMAGE = { width: 16, height: 16, data: Float32Array.from({ length: 256 }, (_, i) => i / 256) };
const tta = (meanMonths: number, sdMonths: number): TtaPrediction => ({ meanMonths, sdMonths, valuesMonths: [] });

void test('TTA views: the first is the image itself, the rest are seeded and reproducible', () => {
  const a = ttaViews(IMAGE, 4, 7);
  assert.equal(a.length, 4);
  assert.deepEqual(a[0]?.data, IMAGE.data);
  assert.notDeepEqual(a[1]?.data, IMAGE.data);
  assert.deepEqual(ttaViews(IMAGE, 4, 7), a);
  assert.throws(() => ttaViews(IMAGE, 0), /TTA views 0/);
});

void test('split-conformal scale is the ceil((n+1)0.9)-th smallest normalised residual', () => {
  // 9 cases, sd 0 -> denominators 1 month; residuals 1..9 months -> k = ceil(10 * 0.9) = 9 -> scale 9
  const cases = Array.from({ length: 9 }, (_, i) => ({ tta: tta(100, 0), referenceMonths: 100 + (i + 1) }));
  const c = calibrateInterval(cases, 0.9, 8);
  assert.equal(c.scale, 9 / TTA_SD_FLOOR_MONTHS);
  assert.equal(c.coverage, 1);
  // 19 cases -> k = 18 -> 18 of 19 covered
  const c19 = calibrateInterval(
    Array.from({ length: 19 }, (_, i) => ({ tta: tta(0, 1), referenceMonths: 2 * (i + 1) })),
    0.9,
  );
  assert.equal(c19.scale, (2 * 18) / 2);
  assert.equal(c19.coverage, 18 / 19);
});

void test('intervalOf scales the TTA SD plus the floor, and never goes below 0 months', () => {
  assert.deepEqual(intervalOf(tta(100, 3), { scale: 2 }), { lowMonths: 92, highMonths: 108 });
  assert.equal(intervalOf(tta(5, 4), { scale: 2 }).lowMonths, 0);
});

void test('held-out coverage: calibrate on one half, measure on the other', () => {
  // residuals 1..20 months, sd 0: even-indexed cases have odd residuals (1, 3, ..., 19) and vice versa
  const cases = Array.from({ length: 20 }, (_, i) => ({ tta: tta(0, 0), referenceMonths: i + 1 }));
  // half A (1,3,..,19): k = ceil(11 * 0.9) = 10 -> scale 19 -> covers all of B except 20 -> 9/10
  // half B (2,4,..,20): scale 20 -> covers all of A -> 10/10
  assert.equal(heldOutCoverage(cases), (0.9 + 1) / 2);
});

void test('predictTtaSexes shares the backbone forward and equals predictTta per sex bit for bit', () => {
  manualSeed(5);
  const model = createBoneAgeModel('resnet18', 80);
  model.eval();
  try {
    const image = { width: 32, height: 32, data: Float32Array.from({ length: 1024 }, (_, i) => ((i * 37) % 101) / 101) };
    const both = predictTtaSexes(model, image, [1, 0], 4);
    assert.deepEqual(both[0], predictTta(model, image, 1, 4));
    assert.deepEqual(both[1], predictTta(model, image, 0, 4));
    assert.notEqual(both[0]?.meanMonths, both[1]?.meanMonths, 'sex enters the head');
  } finally {
    model.dispose();
  }
});
