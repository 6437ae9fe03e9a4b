/**
 * Mean ± SD of every metric across cross-validation folds.
 *
 * Why: K-fold results are reported as mean ± SD over folds (the spread over folds is the honest error bar of a
 * cross-validated metric; Varma & Simon, BMC Bioinformatics 2006); flattening the nested metric objects to dotted keys lets one function handle regression and
 * classification results alike. The SD is the sample SD (n - 1) over folds.
 */
import { MetricInputError } from './errors.js';
import { mean, sampleSd } from './stats.js';

/** Mean and sample SD of one metric over the folds that have it. */
export interface MeanSd {
  readonly mean: number;
  /** Sample SD (n - 1); NaN for a single fold. */
  readonly sd: number;
  /** Number of folds that reported this metric. */
  readonly n: number;
}

function arrayKey(element: unknown, index: number): string {
  if (element !== null && typeof element === 'object') {
    const rec = element as Record<string, unknown>;
    if (typeof rec['label'] === 'string') return rec['label'];
    if (typeof rec['threshold'] === 'number') return String(rec['threshold']);
    const band = rec['band'];
    if (band !== null && typeof band === 'object' && typeof (band as Record<string, unknown>)['label'] === 'string') {
      return (band as Record<string, string>)['label'] as string;
    }
  }
  return String(index);
}

/**
 * Flatten the finite numbers of a nested metrics object to dotted keys.
 * Array elements are keyed by their `label`, `threshold` or `band.label` when they have one, so that
 * folds with different age bands still line up (e.g. `byAgeBand.2-5 y.metrics.mae`, `within.12.share`).
 * @param value - a metrics object
 * @param prefix - key prefix (used in recursion)
 */
export function flattenMetrics(value: unknown, prefix = ''): Map<string, number> {
  const out = new Map<string, number>();
  const visit = (v: unknown, key: string): void => {
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out.set(key, v);
    } else if (Array.isArray(v)) {
      v.forEach((e, i) => visit(e, key === '' ? arrayKey(e, i) : `${key}.${arrayKey(e, i)}`));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) visit(child, key === '' ? k : `${key}.${k}`);
    }
  };
  visit(value, prefix);
  return out;
}

/**
 * Mean ± SD of every numeric metric over folds.
 * @param folds - one metrics object per fold (same shape)
 */
export function aggregateFolds(folds: readonly unknown[]): Record<string, MeanSd> {
  if (folds.length === 0) throw new MetricInputError('no folds to aggregate');
  const values = new Map<string, number[]>();
  for (const fold of folds) {
    for (const [k, v] of flattenMetrics(fold)) {
      const list = values.get(k) ?? [];
      list.push(v);
      values.set(k, list);
    }
  }
  const out: Record<string, MeanSd> = {};
  for (const [k, list] of values) out[k] = { mean: mean(list), sd: sampleSd(list), n: list.length };
  return out;
}
