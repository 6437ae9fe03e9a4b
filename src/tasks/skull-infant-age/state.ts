/**
 * What a skull-infant-age bundle carries besides its weights: the feature distribution of its training films
 * (`ood.json`, role `ood`), which refuses a film unlike them, e.g. the skull of an older child or adult.
 *
 * Why a feature distance: the suitability gate says "skull", but an infant-age model must also refuse the skull of a
 * six-year-old, which it would otherwise map to some month. The check is the Mahalanobis distance of the network's
 * pooled features to the training films' (Lee et al., NeurIPS 2018), Ledoit–Wolf shrunk (Ledoit & Wolf 2004) because
 * the features outnumber the films; the threshold is a high percentile of the training films' own distances times a
 * margin. A film whose header gives an age outside 0–12 months is refused before the network by its dates.
 */
import { mahalanobisDistance, shrunkCovariance } from '../../eval/index.js';
import type { ModelSetMember } from '../../infer/index.js';
import { OodModelError } from '../errors.js';

/** Artifact role and file of the feature statistics. */
export const SKULL_OOD_ROLE = 'ood';
export const SKULL_OOD_FILE = 'ood.json';
const FORMAT = 'physis-skull-feature-distance';

/** Percentile of the training films' distances the threshold starts from, and its margin. */
export const SKULL_OOD_PERCENTILE = 0.995;
export const SKULL_OOD_MARGIN = 1.1;

/** A fitted feature distribution (JSON). */
export interface SkullOodModel {
  readonly format: typeof FORMAT;
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

/** Artifact role and file of what the training films were (real or simulated). */
export const SKULL_TRAINING_DATA_ROLE = 'training-data';
export const SKULL_TRAINING_DATA_FILE = 'training-data.json';

/** What the training films were: how many of them simulated (phantoms), in numbers and words. */
export interface SkullTrainingData {
  readonly format: 'physis-skull-training-data';
  readonly version: 1;
  readonly films: number;
  readonly simulatedFilms: number;
  /** Said with every answer when any training film was simulated. */
  readonly notice: string | null;
}

/** A member's parsed artifacts. */
export interface SkullState {
  readonly ood: SkullOodModel | null;
  /** Null for a bundle without the record (then nothing is claimed either way). */
  readonly trainingData: SkullTrainingData | null;
}

const round7 = (v: number): number => Number(v.toPrecision(7));

/**
 * Fit the distribution of the training films' pooled features, with the threshold taken on held-out films.
 * Why held-out: the network was fitted to its training films, whose features sit closer to their own mean than any
 * new film's; a threshold from their distances refuses new films of the very same kind (measured on a 124-film
 * phantom run: every held-out test film refused).
 * @param rows - one feature vector per training film
 * @param heldOut - feature vectors of films the network did not train on (the dev films), for the threshold;
 *   empty: the training films' own distances
 * @param features - what the features are, in words
 * @throws OodModelError for fewer than two rows or rows of different lengths
 */
export function fitSkullOod(rows: readonly ArrayLike<number>[], heldOut: readonly ArrayLike<number>[], features: string): SkullOodModel {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || d === 0) throw new OodModelError(`feature-distance fit needs at least 2 feature vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (const r of rows) {
    if (r.length !== d) throw new OodModelError(`feature vectors differ in length: ${r.length} and ${d}`);
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (r[j] as number) / n;
  }
  const centred = rows.map((r) => Float64Array.from({ length: d }, (_, j) => (r[j] as number) - (mean[j] as number)));
  const shrunk = shrunkCovariance(centred, d);
  const model = { dim: d, mean: [...mean].map(round7), choleskyLower: shrunk.choleskyLower.map(round7) };
  const scored = heldOut.length > 0 ? heldOut : rows;
  const distances = scored.map((r) => mahalanobisDistance(d, model.mean, model.choleskyLower, r)).sort((a, b) => a - b);
  const at = distances[Math.min(scored.length - 1, Math.max(0, Math.ceil(SKULL_OOD_PERCENTILE * scored.length) - 1))] as number;
  return {
    format: FORMAT,
    version: 1,
    features,
    ...model,
    n,
    shrinkage: round7(shrunk.shrinkage),
    percentile: SKULL_OOD_PERCENTILE,
    margin: SKULL_OOD_MARGIN,
    threshold: at * SKULL_OOD_MARGIN,
    thresholdFilms: scored.length,
  };
}

/**
 * The distance of one film's pooled features, and the refusal when it is beyond the threshold.
 * @param model - the fitted distribution
 * @param pooled - the film's pooled features
 */
export function checkSkullFeatures(model: SkullOodModel, pooled: ArrayLike<number>): { distance: number; refusal: string | null } {
  if (pooled.length !== model.dim) throw new OodModelError(`feature vector has ${pooled.length} values, the model ${model.dim}`);
  const distance = mahalanobisDistance(model.dim, model.mean, model.choleskyLower, pooled);
  return {
    distance,
    refusal:
      distance <= model.threshold
        ? null
        : `not like the infant skull films this model was trained on (0–12 months): feature distance ${distance.toFixed(1)} > threshold ` +
          `${model.threshold.toFixed(1)} (${model.margin} × the ${(model.percentile * 100).toFixed(1)}th percentile of ${model.thresholdFilms} held-out films)`,
  };
}

/**
 * Parse an ood.json text.
 * @param text - its contents
 * @param source - its path, for messages
 * @throws OodModelError for anything that is not this format
 */
export function parseSkullOod(text: string, source: string): SkullOodModel {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not JSON (${(e as Error).message})`);
  }
  const r = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const dim = r['dim'];
  const numbers = (k: string, n: number): boolean => Array.isArray(r[k]) && (r[k] as unknown[]).length === n && (r[k] as unknown[]).every((x) => typeof x === 'number' && Number.isFinite(x));
  const ok =
    r['format'] === FORMAT &&
    r['version'] === 1 &&
    typeof dim === 'number' &&
    Number.isInteger(dim) &&
    dim > 0 &&
    numbers('mean', dim) &&
    numbers('choleskyLower', (dim * (dim + 1)) / 2) &&
    ['n', 'shrinkage', 'percentile', 'margin', 'threshold', 'thresholdFilms'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]));
  if (!ok) throw new OodModelError(`${source}: not a skull feature-distance file (format ${FORMAT}, version 1)`);
  return r as unknown as SkullOodModel;
}

/**
 * Read a member's artifacts.
 * @param member - a verified set member
 */
export function openSkullMember(member: ModelSetMember): SkullState {
  const ood = member.bundle.artifacts.get(SKULL_OOD_ROLE);
  const data = member.bundle.artifacts.get(SKULL_TRAINING_DATA_ROLE);
  return {
    ood: ood === undefined ? null : parseSkullOod(new TextDecoder().decode(ood.bytes), `${member.bundle.dir}/${ood.path}`),
    trainingData: data === undefined ? null : parseTrainingData(new TextDecoder().decode(data.bytes), `${member.bundle.dir}/${data.path}`),
  };
}

function parseTrainingData(text: string, source: string): SkullTrainingData {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not JSON (${(e as Error).message})`);
  }
  const r = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  const ok =
    r['format'] === 'physis-skull-training-data' &&
    r['version'] === 1 &&
    Number.isInteger(r['films']) &&
    Number.isInteger(r['simulatedFilms']) &&
    (r['notice'] === null || typeof r['notice'] === 'string');
  if (!ok) throw new OodModelError(`${source}: not a skull training-data record (format physis-skull-training-data, version 1)`);
  return r as unknown as SkullTrainingData;
}
