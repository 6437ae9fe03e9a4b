/**
 * Split-conformal prediction intervals for regression (Papadopoulos et al. 2002; Lei et al., JASA 2018,
 * "Distribution-free predictive inference for regression"): a half-width calibrated on held-out residuals so the
 * interval covers the reference at the nominal level, with the coverage measured in-sample and held out.
 *
 * Two nonconformity scores are used: |y − ŷ| (a constant half-width, e.g. around a fold ensemble's mean from its
 * out-of-fold residuals) and |y − ŷ| / (σ + floor), normalised by a per-case spread σ such as the SD of test-time
 * augmentation outputs (a half-width that grows with the model's own uncertainty).
 */
import { MetricInputError } from './errors.js';
import { mean, sampleSd } from './stats.js';

/**
 * The split-conformal quantile of nonconformity scores: the ⌈(n + 1) level⌉-th smallest (Lei et al., JASA 2018),
 * capped at the largest.
 * @param sortedScores - scores in ascending order, at least one
 * @param level - nominal coverage in (0, 1)
 */
export function conformalQuantile(sortedScores: readonly number[], level: number): number {
  const n = sortedScores.length;
  return sortedScores[Math.min(n, Math.ceil((n + 1) * level)) - 1] as number;
}

function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new MetricInputError(`interval level ${level} must be in (0, 1)`);
}

/** A spread summary of one case: the mean of several outputs (TTA views, members) and their sample SD. */
export interface Spread {
  readonly mean: number;
  readonly sd: number;
  readonly values: readonly number[];
}

/**
 * Mean and sample SD (0 for one value) of several outputs, optionally weighted for the mean.
 * @param values - the outputs
 * @param weights - one positive weight per value (default equal)
 */
export function spreadOf(values: readonly number[], weights?: readonly number[]): Spread {
  if (values.length === 0 || (weights !== undefined && weights.length !== values.length)) {
    throw new MetricInputError(`${values.length} values with ${weights?.length ?? 0} weights`);
  }
  const m =
    weights === undefined ? mean(values) : values.reduce((a, v, i) => a + v * (weights[i] as number), 0) / weights.reduce((a, b) => a + b, 0);
  return { mean: m, sd: values.length > 1 ? sampleSd(values) : 0, values };
}

/** A calibrated scaled-interval rule: half-width = scale × (σ + floor). */
export interface ScaledIntervalCalibration {
  readonly level: number;
  readonly scale: number;
  /** Added to σ so a case whose outputs agree exactly still gets a non-zero interval (output units). */
  readonly floor: number;
  /** Share of calibration cases inside their interval (at least `level` by construction). */
  readonly coverage: number;
  readonly n: number;
}

/**
 * Split-conformal calibration of the scale of σ-normalised intervals on (spread, reference) pairs.
 * @param cases - per-case spreads with their references
 * @param level - nominal coverage
 * @param floor - added to every σ
 */
export function calibrateScaledInterval(
  cases: readonly { readonly spread: Spread; readonly reference: number }[],
  level: number,
  floor: number,
): ScaledIntervalCalibration {
  checkLevel(level);
  if (cases.length === 0) throw new MetricInputError('no cases to calibrate the interval on');
  const scores = cases.map((c) => Math.abs(c.reference - c.spread.mean) / (c.spread.sd + floor)).sort((a, b) => a - b);
  if (!scores.every(Number.isFinite)) throw new MetricInputError('a prediction or reference is not finite');
  const scale = conformalQuantile(scores, level);
  return { level, scale, floor, coverage: scores.filter((s) => s <= scale).length / scores.length, n: scores.length };
}

/**
 * The interval of one case under a scaled calibration, clamped below at `min` (e.g. 0 months).
 * @param spread - the case's mean and σ
 * @param cal - scale and floor
 * @param min - smallest possible value
 */
export function scaledInterval(spread: Spread, cal: Pick<ScaledIntervalCalibration, 'scale' | 'floor'>, min = -Infinity): { low: number; high: number } {
  const half = cal.scale * (spread.sd + cal.floor);
  return { low: Math.max(min, spread.mean - half), high: spread.mean + half };
}

/** Random halvings the held-out checks average over. */
export const HELD_OUT_HALVINGS = 200;

/**
 * Where the halvings come from: shuffles an array in place and returns it (train's seeded `Rng` satisfies it; a fixed
 * seed gives the same figure for the same cases).
 */
export interface Shuffler {
  shuffle<T>(items: T[]): T[];
}

/**
 * Mean held-out coverage over random halvings of n cases: for each halving, calibrate on one half and measure on the
 * other, both ways. Why many halvings: on a dev set of a few hundred, the coverage of one fixed halving moves by a few
 * points with the halving alone (which cases fall together), so a single split can put a rule outside a coverage
 * target by chance; the mean over halvings keeps what the rule does on cases it was not calibrated on and drops that
 * noise (repeated cross-validation; Vovk 2015, cross-conformal predictors).
 * @param n - number of cases (at least two)
 * @param covered - share of `test` cases inside intervals calibrated on `cal` (indices into the cases)
 * @param shuffler - the source of the halvings
 * @param halvings - number of random halvings
 */
export function heldOutCoverageByHalvings(
  n: number,
  covered: (cal: readonly number[], test: readonly number[]) => number,
  shuffler: Shuffler,
  halvings = HELD_OUT_HALVINGS,
): number {
  if (n < 2) throw new MetricInputError('held-out coverage needs at least two cases');
  let sum = 0;
  for (let h = 0; h < halvings; h++) {
    const order = shuffler.shuffle(Array.from({ length: n }, (_, i) => i));
    const a = order.slice(0, Math.floor(n / 2));
    const b = order.slice(Math.floor(n / 2));
    sum += (covered(a, b) + covered(b, a)) / 2;
  }
  return sum / halvings;
}

/**
 * Held-out coverage of the scaled rule: the mean over random halvings of the cases ({@link heldOutCoverageByHalvings})
 * of calibrating on one half and measuring on the other. Why: in-sample coverage is at least the nominal level by
 * construction; this says how the rule does on cases it was not calibrated on.
 * @param cases - per-case spreads with their references
 * @param level - nominal coverage
 * @param floor - added to every σ
 * @param shuffler - the source of the halvings
 * @param min - smallest possible value (the interval is clamped there, as when applied)
 */
export function scaledHeldOutCoverage(
  cases: readonly { readonly spread: Spread; readonly reference: number }[],
  level: number,
  floor: number,
  shuffler: Shuffler,
  min = -Infinity,
): number {
  checkLevel(level);
  const scores = cases.map((c) => Math.abs(c.reference - c.spread.mean) / (c.spread.sd + floor));
  return heldOutCoverageByHalvings(
    cases.length,
    (cal, test) => {
      const scale = conformalQuantile(cal.map((i) => scores[i] as number).sort((x, y) => x - y), level);
      return (
        test.filter((i) => {
          const t = cases[i] as (typeof cases)[number];
          const iv = scaledInterval(t.spread, { scale, floor }, min);
          return t.reference >= iv.low && t.reference <= iv.high;
        }).length / test.length
      );
    },
    shuffler,
  );
}

/** A constant-width interval calibrated on residuals, with its in-sample and held-out coverage. */
export interface ResidualIntervalCalibration {
  readonly level: number;
  readonly halfWidth: number;
  /** Share of calibration cases with |residual| ≤ half-width (at least `level` by construction). */
  readonly coverage: number;
  /** Held-out coverage (mean over random halvings, {@link heldOutCoverageByHalvings}), or null with fewer than two cases. */
  readonly coverageHeldOut: number | null;
  readonly n: number;
}

/**
 * Split-conformal half-width of a constant interval from residuals (e.g. out-of-fold predictions).
 * @param samples - predictions with references
 * @param level - nominal coverage
 * @param shuffler - the source of the held-out check's halvings
 */
export function calibrateResidualInterval(
  samples: readonly { readonly predicted: number; readonly reference: number }[],
  level: number,
  shuffler: Shuffler,
): ResidualIntervalCalibration {
  checkLevel(level);
  if (samples.length === 0) throw new MetricInputError('no predictions to calibrate the interval on');
  const abs = samples.map((s) => Math.abs(s.reference - s.predicted));
  if (!abs.every(Number.isFinite)) throw new MetricInputError('a prediction or reference is not finite');
  const half = conformalQuantile([...abs].sort((a, b) => a - b), level);
  const coverage = abs.filter((a) => a <= half).length / abs.length;
  const coverageHeldOut =
    abs.length < 2
      ? null
      : heldOutCoverageByHalvings(abs.length, (cal, test) => {
          const h = conformalQuantile(cal.map((i) => abs[i] as number).sort((a, b) => a - b), level);
          return test.filter((i) => (abs[i] as number) <= h).length / test.length;
        }, shuffler);
  return { level, halfWidth: half, coverage, coverageHeldOut, n: abs.length };
}
