import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildClassificationReport,
  expectedCalibrationError,
  MetricInputError,
  probabilisticMetrics,
  rejectOperatingPoint,
  reliabilitySvg,
  selectRejectThreshold,
  writeClassificationReport,
  type ProbabilisticSample,
} from '../../src/eval/index.js';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} ≉ ${b}`);

// ECE = Σ_b (n_b/N)|acc_b − conf_b| over 15 equal-width bins (Guo et al. 2017), worked by hand
const ECE_CASES = [
  { name: 'two_bins_each_off_by_0.4', conf: [0.9, 0.9, 0.6, 0.6], correct: [true, false, true, true], ece: 0.4, mce: 0.4 },
  { name: 'calibrated_0.75_bin', conf: [0.75, 0.75, 0.75, 0.75], correct: [true, true, true, false], ece: 0, mce: 0 },
  { name: 'certain_and_right', conf: [1, 1], correct: [true, true], ece: 0, mce: 0 },
  { name: 'certain_and_wrong', conf: [1, 1], correct: [false, false], ece: 1, mce: 1 },
  { name: 'zero_confidence_in_first_bin', conf: [0, 1], correct: [false, true], ece: 0, mce: 0 },
  { name: 'one_of_three_bins_off', conf: [0.95, 0.5, 0.1], correct: [true, true, false], ece: (0.05 + 0.5 + 0.1) / 3, mce: 0.5 },
];

for (const c of ECE_CASES) {
  void test(`expectedCalibrationError ${c.name}`, () => {
    const r = expectedCalibrationError(c.conf, c.correct);
    close(r.ece, c.ece);
    close(r.mce, c.mce);
    assert.equal(r.bins.length, 15);
    assert.equal(r.bins.reduce((a, b) => a + b.n, 0), c.conf.length);
  });
}

void test('expectedCalibrationError puts a confidence on a bin edge in the lower bin ((b/M, (b+1)/M])', () => {
  const r = expectedCalibrationError([2 / 15, 0.2], [true, true]);
  assert.equal(r.bins[1]?.n, 1);
  assert.equal(r.bins[2]?.n, 1);
});

void test('expectedCalibrationError refuses unequal, empty or out-of-range inputs', () => {
  assert.throws(() => expectedCalibrationError([0.5], [true, false]), MetricInputError);
  assert.throws(() => expectedCalibrationError([], []), MetricInputError);
  assert.throws(() => expectedCalibrationError([1.2], [true]), /not a probability/);
  assert.throws(() => expectedCalibrationError([0.5], [true], 0), /bins/);
});

// the lowest threshold whose answered cases reach the target: the largest coverage at that accuracy
const REJECT_CASES = [
  { name: 'drop_the_one_wrong', conf: [0.99, 0.9, 0.6], correct: [true, true, false], target: 0.99, threshold: 0.9, coverage: 2 / 3, achieved: true },
  { name: 'all_right_answers_all', conf: [0.7, 0.6, 0.55], correct: [true, true, true], target: 0.99, threshold: 0.55, coverage: 1, achieved: true },
  { name: 'ties_answered_together_unreachable', conf: [0.9, 0.9, 0.8], correct: [true, false, true], target: 0.99, threshold: 1, coverage: 0, achieved: false },
  { name: 'ties_with_low_target', conf: [0.9, 0.9, 0.8], correct: [true, false, true], target: 0.5, threshold: 0.8, coverage: 1, achieved: true },
  { name: 'accuracy_not_monotone', conf: [0.95, 0.9, 0.8, 0.7, 0.6], correct: [false, true, true, true, false], target: 0.75, threshold: 0.7, coverage: 0.8, achieved: true },
];

for (const c of REJECT_CASES) {
  void test(`selectRejectThreshold ${c.name}`, () => {
    const r = selectRejectThreshold(c.conf, c.correct, c.target);
    close(r.threshold, c.threshold);
    close(r.coverage, c.coverage);
    assert.equal(r.achieved, c.achieved);
    if (c.achieved) assert.ok(r.acceptedAccuracy >= c.target);
  });
}

void test('selectRejectThreshold refuses a target outside (0, 1]', () => {
  assert.throws(() => selectRejectThreshold([0.5], [true], 0), /target accuracy/);
  assert.throws(() => selectRejectThreshold([0.5], [true], 1.5), /target accuracy/);
});

void test('rejectOperatingPoint: coverage, accepted accuracy and the Wilson lower bound (10 of 10 right: 0.7225)', () => {
  const conf = [...new Array<number>(10).fill(0.95), 0.5, 0.4];
  const correct = [...new Array<boolean>(10).fill(true), false, true];
  const p = rejectOperatingPoint(conf, correct, 0.9);
  assert.equal(p.accepted, 10);
  close(p.coverage, 10 / 12);
  assert.equal(p.acceptedAccuracy, 1);
  close(p.acceptedAccuracyLower95, 0.72246, 1e-4);
  const none = rejectOperatingPoint(conf, correct, 0.99);
  assert.equal(none.accepted, 0);
  assert.ok(Number.isNaN(none.acceptedAccuracy));
});

const samples_3class: ProbabilisticSample[] = [
  { id: 'a', referenceClass: 0, probabilities: [0.8, 0.1, 0.1], groups: { view: 'AP' } },
  { id: 'b', referenceClass: 1, probabilities: [0.2, 0.7, 0.1], groups: { view: 'AP' } },
  { id: 'c', referenceClass: 2, probabilities: [0.6, 0.3, 0.1], groups: { view: 'LATERAL' } },
  { id: 'd', referenceClass: 2, probabilities: [0.05, 0.05, 0.9], groups: { view: 'LATERAL' } },
];

void test('probabilisticMetrics: accuracy, macro-F1, NLL and Brier by hand', () => {
  const m = probabilisticMetrics(samples_3class, ['x', 'y', 'z']);
  assert.equal(m.accuracy, 0.75);
  // class x: precision 1/2, recall 1 → F1 2/3; y: 1, 1 → 1; z: 1, 1/2 → 2/3
  close(m.macroF1, (2 / 3 + 1 + 2 / 3) / 3);
  close(m.nll, -(Math.log(0.8) + Math.log(0.7) + Math.log(0.1) + Math.log(0.9)) / 4);
  const brier = [0.04 + 0.01 + 0.01, 0.04 + 0.09 + 0.01, 0.36 + 0.09 + 0.81, 0.0025 + 0.0025 + 0.01];
  close(m.brier, brier.reduce((a, b) => a + b, 0) / 4);
  assert.deepEqual(m.confusion, [[1, 0, 0], [0, 1, 0], [1, 0, 1]]);
  assert.throws(() => probabilisticMetrics([{ id: 'e', referenceClass: 0, probabilities: [1, 0] }], ['x', 'y', 'z']), /2 probabilities for 3 classes/);
});

void test('buildClassificationReport: slices by group, chooses or measures a threshold, writes HTML and JSON', () => {
  const chosen = buildClassificationReport(samples_3class, { title: 'Tiny <report>', classNames: ['x', 'y', 'z'], groupBy: ['view'], reject: { targetAccuracy: 0.99 }, createdAt: new Date(0) });
  assert.deepEqual(chosen.byGroup.map((g) => g.label), ['view=AP', 'view=LATERAL']);
  assert.equal(chosen.reject.thresholdSource, 'these cases');
  close(chosen.reject.atThreshold.threshold, 0.7); // 0.9, 0.8, 0.7 right; 0.6 wrong
  close(chosen.reject.atThreshold.coverage, 0.75);
  const given = buildClassificationReport(samples_3class, { title: 't', classNames: ['x', 'y', 'z'], reject: { targetAccuracy: 0.99, threshold: 0.85, thresholdSource: 'dev films' } });
  assert.equal(given.reject.thresholdSource, 'dev films');
  assert.equal(given.reject.atThreshold.accepted, 1);
  assert.equal(given.reject.achieved, null);
  const dir = mkdtempSync(join(tmpdir(), 'cls-report-'));
  const { htmlPath, jsonPath } = writeClassificationReport(dir, chosen);
  const html = readFileSync(htmlPath, 'utf8');
  assert.match(html, /Tiny &lt;report&gt;/);
  assert.ok(!html.includes('<report>'), 'title escaped');
  assert.equal((html.match(/class="reliability"/g) ?? []).length, 3, 'a reliability diagram per slice');
  assert.equal((html.match(/class="confusion"/g) ?? []).length, 3, 'a confusion matrix per slice');
  assert.match(html, /Reject option/);
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { overall: { accuracy: number; calibration: { bins: unknown[] } }; samples: unknown[] };
  assert.equal(json.overall.accuracy, 0.75);
  assert.equal(json.overall.calibration.bins.length, 15);
  assert.equal(json.samples.length, 4);
});

void test('reliabilitySvg draws one bar per non-empty bin and the diagonal', () => {
  const svg = reliabilitySvg({ title: 'r', calibration: expectedCalibrationError([0.95, 0.5, 0.1], [true, true, false]) });
  assert.equal((svg.match(/class="bin"/g) ?? []).length, 3);
  assert.match(svg, /class="identity"/);
});
