/**
 * Small descriptive statistics shared by the metric files.
 *
 * Why: every report number (MAE, SD of differences, fold SD) must use the same conventions; the sample
 * standard deviation (n - 1 denominator) is used throughout, as in Bland & Altman (1986).
 */
import { MetricInputError } from './errors.js';

/** Arithmetic mean; NaN for an empty list. @param values - the numbers */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Sample standard deviation (denominator n - 1); NaN when fewer than two values.
 * @param values - the numbers
 */
export function sampleSd(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (const v of values) ss += (v - m) * (v - m);
  return Math.sqrt(ss / (values.length - 1));
}

/**
 * Throw MetricInputError unless every value is a finite number.
 * @param values - the numbers to check
 * @param what - their name in the message (e.g. `predicted`)
 */
export function assertFinite(values: readonly number[], what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined || !Number.isFinite(v)) {
      throw new MetricInputError(`${what}[${i}] is ${String(v)}; metrics need finite numbers`);
    }
  }
}

/**
 * Throw MetricInputError unless both arrays have the same, non-zero length.
 * @param a - first array
 * @param b - second array
 * @param names - their names for the message
 */
export function assertPaired(a: readonly unknown[], b: readonly unknown[], names: [string, string]): void {
  if (a.length !== b.length) {
    throw new MetricInputError(`${names[0]} has ${a.length} values but ${names[1]} has ${b.length}`);
  }
  if (a.length === 0) throw new MetricInputError(`${names[0]} and ${names[1]} are empty; nothing to score`);
}
