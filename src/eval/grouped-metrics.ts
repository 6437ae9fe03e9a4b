/**
 * Regression metrics overall, by sex and by age band.
 *
 * Why: a model can look good overall while failing the youngest or oldest patients, or one sex; pediatric
 * agreement studies (e.g. Halabi et al., Radiology 2019) report errors per sex and per age group, so the report does
 * too. The bands are the task's (no default here).
 */
import { MetricInputError } from './errors.js';
import { regressionMetrics, type RegressionMetricOptions, type RegressionMetrics } from './regression-metrics.js';

/** A half-open interval [minInclusive, maxExclusive) of the reference value, with a label. */
export interface AgeBand {
  readonly label: string;
  readonly minInclusive: number;
  readonly maxExclusive: number;
}


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
  /** Bands of the reference value (none: no per-band rows). */
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
  const bands = options.ageBands ?? [];
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
