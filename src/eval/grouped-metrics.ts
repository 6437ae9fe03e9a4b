/**
 * Regression metrics overall, by sex and by age band.
 *
 * Why: a bone-age model can look good overall while failing infants or adolescents, or one sex; the
 * RSNA challenge analysis (Halabi et al., Radiology 2019) and most bone-age papers report errors per
 * sex and per age group, so the report does too.
 */
import { MetricInputError } from './errors.js';
import { regressionMetrics, type RegressionMetricOptions, type RegressionMetrics } from './regression-metrics.js';

/** A half-open interval [minInclusive, maxExclusive) of the reference value, with a label. */
export interface AgeBand {
  readonly label: string;
  readonly minInclusive: number;
  readonly maxExclusive: number;
}

/** Default age bands in months: infancy, early childhood, childhood, peri-puberty, puberty, late adolescence. */
export const DEFAULT_AGE_BANDS_MONTHS: readonly AgeBand[] = Object.freeze([
  { label: '0-2 y', minInclusive: 0, maxExclusive: 24 },
  { label: '2-5 y', minInclusive: 24, maxExclusive: 60 },
  { label: '5-10 y', minInclusive: 60, maxExclusive: 120 },
  { label: '10-13 y', minInclusive: 120, maxExclusive: 156 },
  { label: '13-16 y', minInclusive: 156, maxExclusive: 192 },
  { label: '16+ y', minInclusive: 192, maxExclusive: Number.POSITIVE_INFINITY },
]);

/** One scored case: prediction, reference and optional grouping keys. */
export interface RegressionSample {
  readonly predicted: number;
  readonly reference: number;
  /** Sex as given by the task (e.g. `M`, `F`); cases without one are grouped under `unknown`. */
  readonly sex?: string;
  /** Identifier shown in reports (file name). */
  readonly id?: string;
}

/** Metrics of one age band. */
export interface AgeBandMetrics {
  readonly band: AgeBand;
  readonly metrics: RegressionMetrics;
}

/** Metrics overall, per sex and per age band (bands and sexes with no cases are left out). */
export interface GroupedRegressionMetrics {
  readonly overall: RegressionMetrics;
  readonly bySex: Readonly<Record<string, RegressionMetrics>>;
  readonly byAgeBand: readonly AgeBandMetrics[];
}

/** Options of {@link groupedRegressionMetrics}. */
export interface GroupedMetricOptions extends RegressionMetricOptions {
  /** Bands of the reference value; default {@link DEFAULT_AGE_BANDS_MONTHS}. */
  readonly ageBands?: readonly AgeBand[];
}

/**
 * Regression metrics overall, by sex and by age band of the reference.
 * @param samples - scored cases
 * @param options - age bands and within-k thresholds
 */
export function groupedRegressionMetrics(
  samples: readonly RegressionSample[],
  options: GroupedMetricOptions = {},
): GroupedRegressionMetrics {
  if (samples.length === 0) throw new MetricInputError('no samples to score');
  const score = (group: readonly RegressionSample[]): RegressionMetrics =>
    regressionMetrics(
      group.map((s) => s.predicted),
      group.map((s) => s.reference),
      options,
    );
  const sexes = new Map<string, RegressionSample[]>();
  for (const s of samples) {
    const key = s.sex ?? 'unknown';
    const list = sexes.get(key) ?? [];
    list.push(s);
    sexes.set(key, list);
  }
  const bySex: Record<string, RegressionMetrics> = {};
  for (const key of [...sexes.keys()].sort()) bySex[key] = score(sexes.get(key) ?? []);
  const bands = options.ageBands ?? DEFAULT_AGE_BANDS_MONTHS;
  const byAgeBand: AgeBandMetrics[] = [];
  for (const band of bands) {
    if (!(band.minInclusive < band.maxExclusive)) {
      throw new MetricInputError(`age band '${band.label}' is empty: [${band.minInclusive}, ${band.maxExclusive})`);
    }
    const inBand = samples.filter((s) => s.reference >= band.minInclusive && s.reference < band.maxExclusive);
    if (inBand.length > 0) byAgeBand.push({ band, metrics: score(inBand) });
  }
  return { overall: score(samples), bySex, byAgeBand };
}
