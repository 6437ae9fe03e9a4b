import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClassificationAccumulator,
  classificationMetrics,
  groupedRegressionMetrics,
  MetricInputError,
  RegressionAccumulator,
} from '../../src/eval/index.js';

void test('RegressionAccumulator over batches equals one-shot grouped metrics', () => {
  const acc = new RegressionAccumulator();
  acc.update({ predicted: new Float32Array([10, 20]), reference: [12, 18], sex: ['F', 'M'], ids: ['a', 'b'] });
  acc.update({ predicted: [30, 40], reference: [30, 50], sex: ['F', undefined] });
  assert.equal(acc.count, 4);
  const expected = groupedRegressionMetrics([
    { predicted: 10, reference: 12, sex: 'F', id: 'a' },
    { predicted: 20, reference: 18, sex: 'M', id: 'b' },
    { predicted: 30, reference: 30, sex: 'F' },
    { predicted: 40, reference: 50 },
  ]);
  assert.deepEqual(acc.compute(), expected);
  assert.equal(acc.samples()[0]?.id, 'a');
  acc.reset();
  assert.equal(acc.count, 0);
  assert.throws(() => acc.compute(), MetricInputError);
});

void test('RegressionAccumulator rejects a batch whose arrays disagree in length', () => {
  const acc = new RegressionAccumulator();
  assert.throws(() => acc.update({ predicted: [1, 2], reference: [1, 2], sex: ['F'] }), /batch sex has 1 values/);
});

void test('ClassificationAccumulator over batches equals one-shot metrics', () => {
  const acc = new ClassificationAccumulator(['a', 'b', 'c'], true);
  acc.update({ predicted: [0, 1], reference: [0, 0] });
  acc.update({ predicted: [1, 1, 0, 2], reference: [1, 1, 2, 2] });
  const expected = classificationMetrics([0, 1, 1, 1, 0, 2], [0, 0, 1, 1, 2, 2], { classNames: ['a', 'b', 'c'], ordinal: true });
  assert.deepEqual(acc.compute(), expected);
});
