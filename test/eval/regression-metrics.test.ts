import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blandAltman, MetricInputError, regressionMetrics } from '../../src/eval/index.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

// differences (pred - ref): -2, +2, 0, -10
const PRED = [10, 20, 30, 40];
const REF = [12, 18, 30, 50];

void test('regressionMetrics without thresholds gives no within-k shares (thresholds are the task\'s)', () => {
  assert.deepEqual(regressionMetrics(PRED, REF).within, []);
});

void test('regressionMetrics: MAE, RMSE, bias and within-k on a hand-computed example', () => {
  const m = regressionMetrics(PRED, REF, { withinThresholds: [6, 12, 18, 24] });
  assert.equal(m.n, 4);
  close(m.mae, 14 / 4);
  close(m.rmse, Math.sqrt(108 / 4));
  close(m.bias, -10 / 4);
  assert.deepEqual(
    m.within.map((w) => [w.threshold, w.share]),
    [
      [6, 0.75],
      [12, 1],
      [18, 1],
      [24, 1],
    ],
  );
});

void test('within-k counts an error exactly equal to k as within', () => {
  const m = regressionMetrics([6, 0, 13], [0, 0, 0], { withinThresholds: [6, 12] });
  assert.deepEqual(
    m.within.map((w) => w.share),
    [2 / 3, 2 / 3],
  );
});

void test('blandAltman: mean difference and 1.96 SD limits (sample SD, n - 1)', () => {
  const ba = blandAltman(PRED, REF);
  // deviations from -2.5: 0.5, 4.5, 2.5, -7.5 -> sum of squares 83
  const sd = Math.sqrt(83 / 3);
  close(ba.meanDifference, -2.5);
  close(ba.sdDifference, sd);
  close(ba.lowerLimit, -2.5 - 1.96 * sd);
  close(ba.upperLimit, -2.5 + 1.96 * sd);
});

void test('blandAltman with one case has NaN limits rather than zero width', () => {
  const ba = blandAltman([5], [3]);
  assert.equal(ba.meanDifference, 2);
  assert.ok(Number.isNaN(ba.sdDifference));
  assert.ok(Number.isNaN(ba.upperLimit));
});

const BAD: [string, () => unknown, RegExp][] = [
  ['length mismatch', () => regressionMetrics([1, 2], [1]), /predicted has 2 values but reference has 1/],
  ['empty', () => regressionMetrics([], []), /empty/],
  ['NaN prediction', () => regressionMetrics([1, Number.NaN], [1, 2]), /predicted\[1\] is NaN/],
  ['infinite reference', () => blandAltman([1], [Infinity]), /reference\[0\] is Infinity/],
  ['negative threshold', () => regressionMetrics([1], [1], { withinThresholds: [-1] }), /threshold -1/],
];
for (const [name, fn, message] of BAD) {
  void test(`regressionMetrics rejects ${name} with MetricInputError`, () => {
    assert.throws(fn, (e: unknown) => e instanceof MetricInputError && e.name === 'MetricInputError' && message.test(e.message));
  });
}
