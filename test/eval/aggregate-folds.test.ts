import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateFolds, flattenMetrics, MetricInputError, regressionMetrics } from '../../src/eval/index.js';

void test('flattenMetrics keys array elements by threshold and label', () => {
  const flat = flattenMetrics({ overall: regressionMetrics([1, 3], [0, 0], { withinThresholds: [2] }), perClass: [{ label: 'AP', f1: 0.5 }] });
  assert.equal(flat.get('overall.mae'), 2);
  assert.equal(flat.get('overall.within.2.share'), 0.5);
  assert.equal(flat.get('overall.within.2.threshold'), 2);
  assert.equal(flat.get('perClass.AP.f1'), 0.5);
});

void test('aggregateFolds gives mean and sample SD of every metric', () => {
  const agg = aggregateFolds([{ mae: 2, extra: 1 }, { mae: 4 }, { mae: 6 }]);
  assert.equal(agg['mae']?.mean, 4);
  assert.equal(agg['mae']?.sd, 2); // deviations -2, 0, 2 -> sqrt(8 / 2)
  assert.equal(agg['mae']?.n, 3);
  assert.equal(agg['extra']?.n, 1);
  assert.ok(Number.isNaN(agg['extra']?.sd));
});

void test('aggregateFolds of nothing is an error', () => {
  assert.throws(() => aggregateFolds([]), MetricInputError);
});
