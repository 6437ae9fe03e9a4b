import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classificationMetrics, confusionMatrix, MetricInputError } from '../../src/eval/index.js';

const close = (a: number | undefined, b: number): void => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
const REF = [0, 0, 1, 1, 2, 2];
const PRED = [0, 1, 1, 1, 0, 2];
const NAMES = ['infant', 'toddler', 'child'];

void test('confusionMatrix: rows are reference, columns predicted', () => {
  assert.deepEqual(confusionMatrix(PRED, REF, 3), [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
});

void test('classificationMetrics: accuracy, per-class and macro scores by hand', () => {
  const m = classificationMetrics(PRED, REF, { classNames: NAMES });
  close(m.accuracy, 4 / 6);
  const [c0, c1, c2] = m.perClass;
  close(c0?.precision, 1 / 2);
  close(c0?.recall, 1 / 2);
  close(c0?.f1, 1 / 2);
  close(c1?.precision, 2 / 3);
  close(c1?.recall, 1);
  close(c1?.f1, 0.8);
  close(c2?.precision, 1);
  close(c2?.recall, 1 / 2);
  close(c2?.f1, 2 / 3);
  assert.equal(c2?.label, 'child');
  assert.equal(c1?.support, 2);
  close(m.macroPrecision, (1 / 2 + 2 / 3 + 1) / 3);
  close(m.macroRecall, (1 / 2 + 1 + 1 / 2) / 3);
  close(m.macroF1, (1 / 2 + 0.8 + 2 / 3) / 3);
  assert.equal(m.withinOneAccuracy, undefined);
});

void test('ordinal classes get ±1-class accuracy (the skull paper corrected accuracy)', () => {
  const m = classificationMetrics(PRED, REF, { classNames: NAMES, ordinal: true });
  close(m.withinOneAccuracy, 5 / 6); // only reference 2 predicted as 0 is two classes away
});

void test('a class never predicted has precision 0, not NaN', () => {
  const m = classificationMetrics([0, 0], [0, 1], { classNames: ['a', 'b'] });
  assert.equal(m.perClass[1]?.precision, 0);
  assert.equal(m.perClass[1]?.f1, 0);
});

void test('out-of-range class indices are rejected with the index named', () => {
  assert.throws(
    () => classificationMetrics([0, 3], [0, 1], { classNames: NAMES }),
    (e: unknown) => e instanceof MetricInputError && /predicted\[1\] = 3/.test(e.message),
  );
  assert.throws(() => confusionMatrix([0.5], [0], 2), MetricInputError);
});
