/**
 * A feature-distance check that tasks ship as a bundle artifact: the distribution of the network's pooled features
 * over its training films, and a threshold beyond which a film is refused as unlike them (e.g. the skull of an older
 * child for an infant model, an adult knee for a paediatric one). Also the record of what the training films were
 * (how many simulated), said with every answer of a model trained on phantoms.
 *
 * Why one module: each task words its own refusal, but the statistics are the same — the Mahalanobis distance of the
 * pooled features to the training films' (Lee et al., NeurIPS 2018), Ledoit–Wolf shrunk (Ledoit & Wolf 2004) because
 * the features outnumber the films, the threshold a high percentile of held-out films' distances times a margin.
 */
import { mahalanobisDistance, shrunkCovariance, type ShrunkCovariance } from '../eval/index.js';
import { OodModelError } from './errors.js';

/** Percentile of the held-out films' distances the threshold starts from, and its margin. */
export const FEATURE_DISTANCE_PERCENTILE = 0.995;
export const FEATURE_DISTANCE_MARGIN = 1.1;

/** A fitted feature distribution (JSON), tagged with the task's format name. */
export interface FeatureDistanceModel {
  readonly format: string;
  readonly version: 1;
  readonly features: string;
  readonly dim: number;
  readonly n: number;
  readonly mean: readonly number[];
  /** Cholesky factor of the shrunk covariance, lower triangle packed by rows. */
  readonly choleskyLower: readonly number[];
  readonly shrinkage: number;
  readonly percentile: number;
  readonly margin: number;
  readonly threshold: number;
  /** Films whose distances set the threshold (held-out films when there were any). */
  readonly thresholdFilms: number;
}

const round7 = (v: number): number => Number(v.toPrecision(7));

/** The mean and Ledoit–Wolf shrunk covariance of feature vectors (see {@link fitShrunkGaussian}). */
export interface ShrunkGaussian {
  readonly dim: number;
  readonly n: number;
  readonly mean: Float64Array;
  readonly shrunk: ShrunkCovariance;
}

/**
 * The mean and Ledoit–Wolf shrunk covariance (Ledoit & Wolf 2004) of the training films' feature vectors, which every
 * feature-distance check starts from.
 * @param rows - one feature vector per film, all of one length
 * @param what - the check's name, for messages (e.g. `OOD`)
 * @throws OodModelError for fewer than two rows, rows of different lengths, or a covariance that cannot be factored
 */
export function fitShrunkGaussian(rows: readonly ArrayLike<number>[], what: string): ShrunkGaussian {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || d === 0) throw new OodModelError(`${what} fit needs at least 2 feature vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (const r of rows) {
    if (r.length !== d) throw new OodModelError(`${what} feature vectors differ in length: ${r.length} and ${d}`);
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n;
  }
  const centred = rows.map((r) => Float64Array.from({ length: d }, (_, j) => (r[j] as number) - (mean[j] as number)));
  try {
    return { dim: d, n, mean, shrunk: shrunkCovariance(centred, d) };
  } catch (e) {
    throw new OodModelError(`${what} ${(e as Error).message}`);
  }
}

/**
 * Fit the distribution of the training films' pooled features, with the threshold taken on held-out films.
 * Why held-out: the network was fitted to its training films, whose features sit closer to their own mean than any
 * new film's; a threshold from their distances refuses new films of the very same kind (measured on a 124-film
 * phantom run: every held-out test film refused).
 * @param rows - one feature vector per training film
 * @param heldOut - feature vectors of films the network did not train on (the dev films); empty: the training films'
 * @param features - what the features are, in words
 * @param format - the file's format name (the task's)
 * @throws OodModelError for fewer than two rows or rows of different lengths
 */
export function fitFeatureDistance(rows: readonly ArrayLike<number>[], heldOut: readonly ArrayLike<number>[], features: string, format: string): FeatureDistanceModel {
  const fit = fitShrunkGaussian(rows, 'feature-distance');
  const d = fit.dim;
  const n = fit.n;
  const shrunk = fit.shrunk;
  const model = { dim: d, mean: [...fit.mean].map(round7), choleskyLower: shrunk.choleskyLower.map(round7) };
  const scored = heldOut.length > 0 ? heldOut : rows;
  const distances = scored.map((r) => mahalanobisDistance(d, model.mean, model.choleskyLower, r)).sort((a, b) => a - b);
  const at = distances[Math.min(scored.length - 1, Math.max(0, Math.ceil(FEATURE_DISTANCE_PERCENTILE * scored.length) - 1))] as number;
  return {
    format,
    version: 1,
    features,
    ...model,
    n,
    shrinkage: round7(shrunk.shrinkage),
    percentile: FEATURE_DISTANCE_PERCENTILE,
    margin: FEATURE_DISTANCE_MARGIN,
    threshold: at * FEATURE_DISTANCE_MARGIN,
    thresholdFilms: scored.length,
  };
}

/**
 * The distance of one film's pooled features to the training films'.
 * @param model - the fitted distribution
 * @param pooled - the film's pooled features
 * @throws OodModelError when the vector's length is not the model's
 */
export function featureDistance(model: FeatureDistanceModel, pooled: ArrayLike<number>): number {
  if (pooled.length !== model.dim) throw new OodModelError(`feature vector has ${pooled.length} values, the model ${model.dim}`);
  return mahalanobisDistance(model.dim, model.mean, model.choleskyLower, pooled);
}

/** How a refusal states the threshold: `1.1 × the 99.5th percentile of 177 held-out films`. */
export function describeThreshold(model: FeatureDistanceModel): string {
  return `${model.threshold.toFixed(1)} (${model.margin} × the ${(model.percentile * 100).toFixed(1)}th percentile of ${model.thresholdFilms} held-out films)`;
}

/**
 * An artifact file's JSON object (an empty object for JSON that is not one, so the caller's checks name what is missing).
 * @param text - its contents
 * @param source - its path, for messages
 * @throws OodModelError for text that is not JSON
 */
export function parseArtifactJson(text: string, source: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not JSON (${(e as Error).message})`);
  }
  return (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
}

/**
 * Parse a feature-distance file of one format.
 * @param text - its contents
 * @param source - its path, for messages
 * @param format - the format name the task writes
 * @param what - the file in words, for messages
 * @throws OodModelError for anything that is not this format
 */
export function parseFeatureDistance(text: string, source: string, format: string, what: string): FeatureDistanceModel {
  const r = parseArtifactJson(text, source);
  const dim = r['dim'];
  const numbers = (k: string, n: number): boolean => Array.isArray(r[k]) && (r[k] as unknown[]).length === n && (r[k] as unknown[]).every((x) => typeof x === 'number' && Number.isFinite(x));
  const ok =
    r['format'] === format &&
    r['version'] === 1 &&
    typeof dim === 'number' &&
    Number.isInteger(dim) &&
    dim > 0 &&
    numbers('mean', dim) &&
    numbers('choleskyLower', (dim * (dim + 1)) / 2) &&
    ['n', 'shrinkage', 'percentile', 'margin', 'threshold', 'thresholdFilms'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]));
  if (!ok) throw new OodModelError(`${source}: not a ${what} (format ${format}, version 1)`);
  return r as unknown as FeatureDistanceModel;
}

/** What the training films were: how many of them simulated (phantoms), in numbers and words. */
export interface TrainingDataRecord {
  readonly format: string;
  readonly version: 1;
  readonly films: number;
  readonly simulatedFilms: number;
  /** Said with every answer when any training film was simulated. */
  readonly notice: string | null;
}

/**
 * The training-data record of a run: how many of its films were simulated, and the notice its answers then carry.
 * @param format - the format name the task writes
 * @param films - the training and dev films
 * @param notice - what simulated training means, said after `trained on N simulated films of M:`
 */
export function trainingDataRecord(format: string, films: readonly { readonly simulated: boolean }[], notice: string): TrainingDataRecord {
  const simulatedFilms = films.filter((f) => f.simulated).length;
  return {
    format,
    version: 1,
    films: films.length,
    simulatedFilms,
    notice: simulatedFilms === 0 ? null : `trained on ${simulatedFilms} simulated films of ${films.length}: ${notice}`,
  };
}

/**
 * Parse a training-data record of one format.
 * @param text - its contents
 * @param source - its path, for messages
 * @param format - the format name the task writes
 * @param what - the file in words, for messages
 */
export function parseTrainingDataRecord(text: string, source: string, format: string, what: string): TrainingDataRecord {
  const r = parseArtifactJson(text, source);
  const ok =
    r['format'] === format &&
    r['version'] === 1 &&
    Number.isInteger(r['films']) &&
    Number.isInteger(r['simulatedFilms']) &&
    (r['notice'] === null || typeof r['notice'] === 'string');
  if (!ok) throw new OodModelError(`${source}: not a ${what} (format ${format}, version 1)`);
  return r as unknown as TrainingDataRecord;
}
