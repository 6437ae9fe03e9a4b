/**
 * Split-conformal intervals: the quantile, a constant half-width from residuals (fold ensembles), a σ-scaled
 * half-width (TTA spread), their in-sample and held-out coverage (over random halvings), and the spread of several outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calibrateResidualInterval,
  calibrateScaledInterval,
  conformalQuantile,
  MetricInputError,
  heldOutCoverageByHalvings,
  scaledHeldOutCoverage,
  scaledInterval,
  spreadOf,
  type Spread,
} from '../../src/eval/index.js';
import { Rng } from '../../src/train/index.js';

const spread = (mean: number, sd: number): Spread => ({ mean, sd, values: [] });

const QUANTILES: readonly { scores: number[]; level: number; want: number }[] = [
  // k = ceil((n + 1) level): n 9 -> k 9; n 19 -> k 18; n 1 -> k 2, capped at the largest
  { scores: [1, 2, 3, 4, 5, 6, 7, 8, 9], level: 0.9, want: 9 },
  { scores: Array.from({ length: 19 }, (_, i) => i + 1), level: 0.9, want: 18 },
  { scores: [4], level: 0.9, want: 4 },
  { scores: [1, 2, 3, 4], level: 0.5, want: 3 },
];

for (const c of QUANTILES) {
  void test(`conformalQuantile of ${c.scores.length} scores at ${c.level} is ${c.want}`, () => {
    assert.equal(conformalQuantile(c.scores, c.level), c.want);
  });
}

void test('residual interval: the ceil((n+1)0.9)-th smallest |residual|, its coverage, and held-out coverage', () => {
  // residuals ±1..±9 (signs alternate): k = ceil(10 * 0.9) = 9 -> half-width 9, all covered
  const nine = Array.from({ length: 9 }, (_, i) => ({
    predicted: 100,
    reference: 100 + (i % 2 === 0 ? 1 : -1) * (i + 1),
  }));
  const c9 = calibrateResidualInterval(nine, 0.9, new Rng(0));
  assert.deepEqual([c9.halfWidth, c9.coverage, c9.n, c9.level], [9, 1, 9, 0.9]);
  // |residuals| 2, 4, ..., 38 (19 cases): k = 18 -> 36, 18 of 19 covered
  const c19 = calibrateResidualInterval(
    Array.from({ length: 19 }, (_, i) => ({ predicted: 50, reference: 50 + 2 * (i + 1) })),
    0.9,
    new Rng(0),
  );
  assert.equal(c19.halfWidth, 36);
  assert.equal(c19.coverage, 18 / 19);
  // held out: |residuals| 1..20 in halves of 10; k = ceil(11 * 0.9) = 10, the half's largest; a case of the other half
  // is covered when it is at most that, which for exchangeable cases happens with probability 10/11 (the conformal
  // guarantee), so the mean over 200 halvings lands near it
  const c20 = calibrateResidualInterval(
    Array.from({ length: 20 }, (_, i) => ({ predicted: 0, reference: i + 1 })),
    0.9,
    new Rng(0),
  );
  assert.ok(Math.abs((c20.coverageHeldOut as number) - 10 / 11) < 0.02, `held out ${c20.coverageHeldOut}`);
  assert.equal(calibrateResidualInterval([{ predicted: 1, reference: 4 }], 0.9, new Rng(0)).coverageHeldOut, null);
});

const REFUSED: readonly { name: string; call: () => unknown; message: RegExp }[] = [
  {
    name: 'no residuals',
    call: () => calibrateResidualInterval([], 0.9, new Rng(0)),
    message: /no predictions to calibrate the interval on/,
  },
  {
    name: 'level 1',
    call: () => calibrateResidualInterval([{ predicted: 1, reference: 2 }], 1, new Rng(0)),
    message: /interval level 1 must be in \(0, 1\)/,
  },
  {
    name: 'a NaN prediction',
    call: () => calibrateResidualInterval([{ predicted: Number.NaN, reference: 2 }], 0.9, new Rng(0)),
    message: /not finite/,
  },
  {
    name: 'no cases to scale',
    call: () => calibrateScaledInterval([], 0.9, 1),
    message: /no cases to calibrate the interval on/,
  },
  {
    name: 'level 0 (scaled)',
    call: () => calibrateScaledInterval([{ spread: spread(0, 0), reference: 1 }], 0, 1),
    message: /interval level 0 must be in \(0, 1\)/,
  },
  {
    name: 'held-out coverage of one case',
    call: () => scaledHeldOutCoverage([{ spread: spread(0, 0), reference: 1 }], 0.9, 1, new Rng(0)),
    message: /at least two cases/,
  },
  {
    name: 'weights that do not match the values',
    call: () => spreadOf([1, 2], [1]),
    message: /2 values with 1 weights/,
  },
  { name: 'a spread of nothing', call: () => spreadOf([]), message: /0 values/ },
];

for (const c of REFUSED) {
  void test(`conformal calibration refuses ${c.name} with MetricInputError`, () => {
    assert.throws(c.call, (e: unknown) => e instanceof MetricInputError && c.message.test(e.message));
  });
}

void test('scaled interval: the split-conformal scale is the ceil((n+1)0.9)-th smallest normalised residual', () => {
  // 9 cases, sd 0, floor 1 -> denominators 1; residuals 1..9 -> k = 9 -> scale 9, all covered
  const cases = Array.from({ length: 9 }, (_, i) => ({ spread: spread(100, 0), reference: 100 + (i + 1) }));
  const c = calibrateScaledInterval(cases, 0.9, 1);
  assert.deepEqual([c.scale, c.floor, c.coverage, c.n, c.level], [9, 1, 1, 9, 0.9]);
  // 19 cases, sd 1 + floor 1 = 2; residuals 2..38 -> normalised 1..19 -> k = 18 -> scale 18, 18 of 19 covered
  const c19 = calibrateScaledInterval(
    Array.from({ length: 19 }, (_, i) => ({ spread: spread(0, 1), reference: 2 * (i + 1) })),
    0.9,
    1,
  );
  assert.equal(c19.scale, (2 * 18) / 2);
  assert.equal(c19.coverage, 18 / 19);
  // the floor matters: with floor 4 the same residuals are normalised by 4
  assert.equal(calibrateScaledInterval(cases, 0.9, 4).scale, 9 / 4);
});

void test('scaledInterval scales the spread plus the floor, and is clamped at the minimum', () => {
  assert.deepEqual(scaledInterval(spread(100, 3), { scale: 2, floor: 1 }, 0), { low: 92, high: 108 });
  assert.equal(scaledInterval(spread(5, 4), { scale: 2, floor: 1 }, 0).low, 0);
  assert.equal(scaledInterval(spread(5, 4), { scale: 2, floor: 1 }).low, -5, 'no minimum by default');
});

void test('scaled held-out coverage: calibrate on one half, measure on the other, averaged over halvings', () => {
  // residuals 1..20, sd 0, floor 1: as for the residual interval, near 10/11; with one halving the figure is that
  // halving's, which can fall far from it
  const cases = Array.from({ length: 20 }, (_, i) => ({ spread: spread(0, 0), reference: i + 1 }));
  const many = scaledHeldOutCoverage(cases, 0.9, 1, new Rng(0));
  assert.ok(Math.abs(many - 10 / 11) < 0.02, `held out ${many}`);
  assert.equal(scaledHeldOutCoverage(cases, 0.9, 1, new Rng(0)), many, 'seeded: the same seed gives the same figure');
  // the same residuals as a constant interval: the same rule, the same halvings
  const residual = calibrateResidualInterval(cases.map((c) => ({ predicted: 0, reference: c.reference })), 0.9, new Rng(0)).coverageHeldOut;
  assert.equal(residual, many);
  // a spread that explains the residual exactly: every held-out case is covered
  const explained = Array.from({ length: 20 }, (_, i) => ({ spread: spread(0, i), reference: i + 1 }));
  assert.equal(scaledHeldOutCoverage(explained, 0.9, 1, new Rng(0)), 1);
});

void test('heldOutCoverageByHalvings: disjoint halves that cover every case, each used both ways', () => {
  const seen: string[] = [];
  const mean = heldOutCoverageByHalvings(
    7,
    (cal, test) => {
      assert.equal(cal.length + test.length, 7);
      assert.deepEqual([...cal, ...test].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
      seen.push(`${cal.length}/${test.length}`);
      return cal.length === 3 ? 1 : 0;
    },
    new Rng(0),
    5,
  );
  assert.deepEqual(seen, Array.from({ length: 5 }, () => ['3/4', '4/3']).flat());
  assert.equal(mean, 0.5);
  assert.throws(() => heldOutCoverageByHalvings(1, () => 1, new Rng(0)), /at least two cases/);
});

void test('spreadOf: weighted mean and the sample SD of the values', () => {
  assert.deepEqual(spreadOf([10, 20, 30]), { mean: 20, sd: 10, values: [10, 20, 30] });
  assert.equal(spreadOf([10, 20], [3, 1]).mean, 12.5);
  assert.equal(spreadOf([10, 20], [3, 1]).sd, Math.SQRT2 * 5, 'the SD is unweighted');
  assert.equal(spreadOf([42]).sd, 0);
});
