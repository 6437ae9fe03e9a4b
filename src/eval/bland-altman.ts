/**
 * Bland-Altman agreement between a method and a reference.
 *
 * Why: mean absolute error hides whether a model is biased or whether its errors grow with age; the
 * Bland-Altman mean difference and 95% limits of agreement (mean ± 1.96 SD of the differences) are the
 * standard way to report agreement between two measurement methods (Bland & Altman, Lancet 1986;
 * 327(8476):307-310).
 */
import { assertFinite, assertPaired, mean, sampleSd } from './stats.js';

/** Mean difference and 95% limits of agreement; differences are `predicted - reference`. */
export interface BlandAltman {
  readonly n: number;
  /** Mean of `predicted - reference` (the bias), in the target's unit. */
  readonly meanDifference: number;
  /** Sample SD of the differences (n - 1); NaN when n < 2. */
  readonly sdDifference: number;
  /** meanDifference - 1.96 SD; NaN when n < 2. */
  readonly lowerLimit: number;
  /** meanDifference + 1.96 SD; NaN when n < 2. */
  readonly upperLimit: number;
}

/** The 97.5th percentile of the standard normal, giving 95% limits (Bland & Altman 1986). */
export const LOA_Z = 1.96;

/**
 * Bland-Altman mean difference and 95% limits of agreement (Bland & Altman 1986).
 * @param predicted - the method's values
 * @param reference - the reference values, same length
 */
export function blandAltman(predicted: readonly number[], reference: readonly number[]): BlandAltman {
  assertPaired(predicted, reference, ['predicted', 'reference']);
  assertFinite(predicted, 'predicted');
  assertFinite(reference, 'reference');
  const diffs = predicted.map((p, i) => p - (reference[i] as number));
  const meanDifference = mean(diffs);
  const sdDifference = sampleSd(diffs);
  return {
    n: diffs.length,
    meanDifference,
    sdDifference,
    lowerLimit: meanDifference - LOA_Z * sdDifference,
    upperLimit: meanDifference + LOA_Z * sdDifference,
  };
}
