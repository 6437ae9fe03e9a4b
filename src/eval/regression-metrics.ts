/**
 * Regression metrics: MAE, RMSE, bias, Bland-Altman limits and the share of cases within k units.
 *
 * Why: agreement studies in radiology report MAE together with the share of readings within k units of the
 * reference and Bland-Altman limits of agreement (Bland & Altman, Lancet 1986; e.g. Halabi et al., Radiology 2019);
 * one function computes them all so every report agrees. The thresholds k are the task's (no default here).
 */
import { blandAltman, type BlandAltman } from './bland-altman.js';
import { MetricInputError } from './errors.js';
import { assertFinite, assertPaired } from './stats.js';

/** Share of cases whose absolute error is at most `threshold` (in the target's unit). */
export interface WithinShare {
  readonly threshold: number;
  /** Fraction in [0, 1]. */
  readonly share: number;
}

/** Agreement of predictions with a reference, all in the target's unit. */
export interface RegressionMetrics {
  readonly n: number;
  /** Mean absolute error. */
  readonly mae: number;
  /** Root mean squared error. */
  readonly rmse: number;
  /** Mean of `predicted - reference`; positive means the model over-estimates. */
  readonly bias: number;
  readonly blandAltman: BlandAltman;
  readonly within: readonly WithinShare[];
}


/** Options of {@link regressionMetrics}. */
export interface RegressionMetricOptions {
  /** Thresholds for the "within k" shares; default 6, 12, 18, 24. */
  readonly withinThresholds?: readonly number[];
}

/**
 * MAE, RMSE, bias, Bland-Altman limits and within-k shares of paired predictions.
 * @param predicted - model outputs
 * @param reference - reference values, same length
 * @param options - thresholds for the within-k shares
 */
export function regressionMetrics(
  predicted: readonly number[],
  reference: readonly number[],
  options: RegressionMetricOptions = {},
): RegressionMetrics {
  assertPaired(predicted, reference, ['predicted', 'reference']);
  assertFinite(predicted, 'predicted');
  assertFinite(reference, 'reference');
  const thresholds = options.withinThresholds ?? [];
  for (const t of thresholds) {
    if (!Number.isFinite(t) || t < 0) throw new MetricInputError(`within threshold ${t} must be finite and >= 0`);
  }
  const n = predicted.length;
  let absSum = 0;
  let sqSum = 0;
  let diffSum = 0;
  const counts = thresholds.map(() => 0);
  for (let i = 0; i < n; i++) {
    const d = (predicted[i] as number) - (reference[i] as number);
    const a = Math.abs(d);
    absSum += a;
    sqSum += d * d;
    diffSum += d;
    thresholds.forEach((t, j) => {
      if (a <= t) counts[j] = (counts[j] as number) + 1;
    });
  }
  return {
    n,
    mae: absSum / n,
    rmse: Math.sqrt(sqSum / n),
    bias: diffSum / n,
    blandAltman: blandAltman(predicted, reference),
    within: thresholds.map((threshold, j) => ({ threshold, share: (counts[j] as number) / n })),
  };
}
