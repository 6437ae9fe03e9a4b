import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupedRegressionMetrics, MetricInputError, type RegressionSample } from '../../src/eval/index.js';
import { HAND_AGE_BANDS_MONTHS } from '../../src/tasks/index.js';

// Errors: F cases +4, -2 (ages 10, 100 months); M cases +6, +6, -3 (ages 30, 100, 200 months)
const SAMPLES: RegressionSample[] = [
  { predicted: 14, reference: 10, sex: 'F' },
  { predicted: 98, reference: 100, sex: 'F' },
  { predicted: 36, reference: 30, sex: 'M' },
  { predicted: 106, reference: 100, sex: 'M' },
  { predicted: 197, reference: 200, sex: 'M' },
];

void test('groupedRegressionMetrics splits by sex', () => {
  const g = groupedRegressionMetrics(SAMPLES);
  assert.deepEqual(Object.keys(g.bySex), ['F', 'M']);
  assert.equal(g.bySex['F']?.n, 2);
  assert.equal(g.bySex['F']?.mae, 3);
  assert.equal(g.bySex['M']?.mae, 5);
  assert.equal(g.bySex['M']?.bias, 3);
  assert.equal(g.overall.mae, (4 + 2 + 6 + 6 + 3) / 5);
});

void test('groupedRegressionMetrics without bands has no per-band rows (bands are the task\'s)', () => {
  assert.deepEqual(groupedRegressionMetrics(SAMPLES).byAgeBand, []);
});

void test('groupedRegressionMetrics splits by age band of the reference and leaves empty bands out', () => {
  const g = groupedRegressionMetrics(SAMPLES, { ageBands: HAND_AGE_BANDS_MONTHS });
  assert.deepEqual(
    g.byAgeBand.map((b) => [b.band.label, b.metrics.n, b.metrics.mae]),
    [
      ['0-2 y', 1, 4],
      ['2-5 y', 1, 6],
      ['5-10 y', 2, 4],
      ['16+ y', 1, 3],
    ],
  );
});

void test('custom bands are half-open [min, max)', () => {
  const g = groupedRegressionMetrics(SAMPLES, {
    ageBands: [
      { label: 'young', minInclusive: 0, maxExclusive: 100 },
      { label: 'old', minInclusive: 100, maxExclusive: 1000 },
    ],
  });
  assert.deepEqual(
    g.byAgeBand.map((b) => [b.band.label, b.metrics.n]),
    [
      ['young', 2],
      ['old', 3],
    ],
  );
});

void test('cases without sex are grouped as unknown', () => {
  const g = groupedRegressionMetrics([{ predicted: 1, reference: 2 }]);
  assert.deepEqual(Object.keys(g.bySex), ['unknown']);
});

void test('no samples is an error', () => {
  assert.throws(() => groupedRegressionMetrics([]), MetricInputError);
});
