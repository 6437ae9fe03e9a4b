/**
 * An out-of-distribution check for hand radiographs: the Mahalanobis distance of the trained network's
 * own pooled features to the training hands' feature distribution, and a rejection with the score and
 * threshold when a new image is too far (Lee et al., "A Simple Unified Framework for Detecting
 * Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018).
 *
 * Why: the bone-age model answers for any picture; a spine or chest film must be rejected with a reason
 * instead of getting a "bone age". The first version was a range check over image descriptors,
 * dominated by the film's aspect ratio; it rejected real hand radiographs from other sources whose film
 * shape differs from RSNA's (the README's samples/hand-0.png). The features are the global average of the
 * last convolutional feature map (`forwardFeatures`, then the mean over H and W), measured on the
 * un-augmented training images with the best weights in eval mode. With 512-d features and under a
 * thousand images the sample covariance is ill-conditioned, so it is shrunk towards a scaled identity by
 * the Ledoit–Wolf rule (Ledoit & Wolf 2004, J. Multivariate Anal. 88:365). The threshold is a high
 * percentile of the training hands' own distances times a margin (see {@link DEFAULT_OOD_PERCENTILE}).
 *
 * Measured (test/tasks/hand-ood.integration.test.ts, 128-px ResNet-18 trained 8 epochs, dev MAE 27.2):
 * with 1.1 × the 99.5th percentile (threshold 19.1) 99.4% of the 177 RSNA dev hands, all 10 unlabeled
 * real hands of other film sizes and samples/hand-0.png pass, but only 5.8% of the 481 AASCE spine films
 * are rejected: this network's pooled features put spines inside the hand distribution's tail (spine
 * median distance 13.9, training hands 8.5, dev hands 9.1). Stronger shrinkage, a diagonal covariance,
 * a PCA subspace, earlier layers (Lee et al.'s feature ensemble) and shape-free intensity descriptors
 * did no better (none above about 14% of spines rejected, none above 6% while 99% of dev hands pass).
 * That is far from rejecting every spine film on that model.
 *
 * `handDescriptors` (film-shape and intensity descriptors) is kept for the sample module's records; it
 * takes no part in the check.
 */
import { mahalanobisDistance } from '../../eval/index.js';
import type { PreprocessResult } from '../../preprocess/index.js';
import { OodModelError } from '../errors.js';
import { fitShrunkGaussian } from '../feature-distance.js';

/** Names of the descriptors, in vector order. */
export const OOD_DESCRIPTORS = [
  'logFilmAspect',
  'logExposedAspect',
  'exposedAreaFraction',
  'meanIntensity',
  'sdIntensity',
  'brightFraction',
] as const;

/**
 * Film and intensity descriptors of one radiograph (records only; not part of the OOD check) from its size and preprocessing record.
 * @param film - the decoded image's width and height (columns, rows)
 * @param pre - the preprocessing result (crop box, letterboxed image in [0, 1])
 */
export function handDescriptors(
  film: { width: number; height: number },
  pre: Pick<PreprocessResult, 'crop' | 'image' | 'letterbox'>,
): number[] {
  const { crop, image, letterbox: lb } = pre;
  let sum = 0;
  let sq = 0;
  let bright = 0;
  let n = 0;
  const x0 = Math.max(0, Math.floor(lb.offsetX));
  const y0 = Math.max(0, Math.floor(lb.offsetY));
  const x1 = Math.min(image.width, Math.ceil(lb.offsetX + lb.contentWidth));
  const y1 = Math.min(image.height, Math.ceil(lb.offsetY + lb.contentHeight));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = image.data[y * image.width + x] as number;
      sum += v;
      sq += v * v;
      if (v > 0.5) bright++;
      n++;
    }
  }
  const mean = n > 0 ? sum / n : 0;
  return [
    Math.log(film.width / film.height),
    Math.log(crop.width / crop.height),
    (crop.width * crop.height) / (film.width * film.height),
    mean,
    n > 0 ? Math.sqrt(Math.max(0, sq / n - mean * mean)) : 0,
    n > 0 ? bright / n : 0,
  ];
}

/** The `format` tag of ood.json files this version reads and writes. */
export const OOD_FORMAT = 'physis-ood-mahalanobis';
/**
 * The ood.json format version written: 4 stores the Cholesky factor as float32 bytes (base64), a quarter of the
 * size of version 3's decimal list (still read); version 1 was the descriptor range check, no longer read.
 */
export const OOD_FORMAT_VERSION = 4;
/** Earlier versions still read. */
const OOD_READ_VERSIONS: readonly number[] = [3, OOD_FORMAT_VERSION];
/** Default percentile of the training hands' distances the threshold is taken at. */
export const DEFAULT_OOD_PERCENTILE = 0.995;
/** Default multiple of that percentile: training distances are in-sample, new hands sit a little further. */
export const DEFAULT_OOD_MARGIN = 1.1;

/** A fitted feature-distance model (shipped next to a bundle as `ood.json`: see {@link serializeOodModel}). */
export interface OodModel {
  readonly format: typeof OOD_FORMAT;
  readonly version: typeof OOD_FORMAT_VERSION;
  /** What the features are (e.g. "global-average-pooled last feature map"). */
  readonly features: string;
  /** Feature dimension d. */
  readonly dim: number;
  /** Training images the distribution was measured on. */
  readonly n: number;
  /** Mean feature vector (d values). */
  readonly mean: readonly number[];
  /** Lower-triangular Cholesky factor of the shrunk covariance, rows packed (d(d+1)/2 values, each a float32). */
  readonly choleskyLower: readonly number[];
  /** Ledoit–Wolf shrinkage weight on the scaled identity, in [0, 1]. */
  readonly shrinkage: number;
  /** Percentile of the training distances the threshold starts from. */
  readonly percentile: number;
  /** Multiple of that percentile. */
  readonly margin: number;
  /** Distances above this are rejected. */
  readonly threshold: number;
  /**
   * The training films' range of ln(columns / rows), [min, max]. A film outside it is rejected before the
   * feature distance: the network's features alone place tall, narrow spine films inside the tail of the
   * hand distribution (measured: 1.2% of AASCE spines rejected by the distance alone), while their shape sets
   * them apart (AASCE ln-aspect ≤ −0.58, median −0.99; RSNA hands −0.74 … 0.30). A plausibility gate, not a
   * classifier: a non-hand film of hand-like shape is left to the feature distance. Null when every training film had
   * the same shape (a set resized to a square, such as the RSNA films at 100 × 100 px, keeps no aspect to learn from):
   * then there is no shape check here, and the suitability gate is what refuses a spine.
   */
  readonly filmLogAspectRange: readonly [number, number] | null;
}

/** Options of {@link fitOodModel}. */
export interface OodFitOptions {
  /** Percentile of training distances, in (0, 1]; default {@link DEFAULT_OOD_PERCENTILE}. */
  readonly percentile?: number;
  /** Multiple of the percentile, >= 1; default {@link DEFAULT_OOD_MARGIN}. */
  readonly margin?: number;
  /** Description of the features, recorded in the file. */
  readonly features?: string;
  /** ln(columns / rows) of each training film; its [min, max] becomes the accepted film-shape range. */
  readonly filmLogAspects?: readonly number[];
}

const round7 = (v: number): number => Number(v.toPrecision(7));

/**
 * Fit the feature distribution of in-distribution images: mean, Ledoit–Wolf shrunk covariance (stored as
 * its Cholesky factor) and the distance threshold.
 * @param rows - one feature vector per training image, all of the same length
 * @param o - percentile, margin and a feature description
 */
export function fitOodModel(rows: readonly ArrayLike<number>[], o: OodFitOptions = {}): OodModel {
  const percentile = o.percentile ?? DEFAULT_OOD_PERCENTILE;
  const margin = o.margin ?? DEFAULT_OOD_MARGIN;
  if (!(percentile > 0 && percentile <= 1))
    throw new OodModelError(`OOD percentile ${percentile} must be in (0, 1]`);
  if (!(margin >= 1)) throw new OodModelError(`OOD margin ${margin} must be >= 1`);
  const { dim: d, n, mean, shrunk } = fitShrunkGaussian(rows, 'OOD');
  const shrinkage = shrunk.shrinkage;
  // float32, as the file stores it, so the threshold is measured with the factor a reader gets back
  const lower = shrunk.choleskyLower.map(Math.fround);
  const partial = { dim: d, mean: [...mean].map(round7), choleskyLower: lower };
  const dist = rows.map((r) => mahalanobis(partial, r)).sort((a, b) => a - b);
  const at = dist[Math.min(n - 1, Math.max(0, Math.ceil(percentile * n) - 1))] as number;
  return {
    format: OOD_FORMAT,
    version: OOD_FORMAT_VERSION,
    features: o.features ?? 'feature vectors',
    dim: d,
    n,
    mean: partial.mean,
    choleskyLower: lower,
    shrinkage: round7(shrinkage),
    percentile,
    margin,
    threshold: at * margin,
    filmLogAspectRange: filmRange(o.filmLogAspects),
  };
}

/**
 * Mahalanobis distance of one feature vector: ||L⁻¹(x − mean)|| by forward substitution.
 * @param model - the fitted model (mean and Cholesky factor)
 * @param x - the feature vector
 */
export function mahalanobis(
  model: Pick<OodModel, 'dim' | 'mean' | 'choleskyLower'>,
  x: ArrayLike<number>,
): number {
  if (x.length !== model.dim) throw new OodModelError(`OOD feature vector has ${x.length} values, the model ${model.dim}`);
  return mahalanobisDistance(model.dim, model.mean, model.choleskyLower, x);
}

function filmRange(aspects: readonly number[] | undefined): [number, number] | null {
  if (!aspects || aspects.length === 0) throw new OodModelError('OOD fit needs the training films\' aspect ratios');
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of aspects) {
    if (!Number.isFinite(a)) throw new OodModelError(`OOD fit: film log-aspect ${a} is not finite`);
    lo = Math.min(lo, a);
    hi = Math.max(hi, a);
  }
  if (hi - lo < 1e-9) return null;
  // rounded outward, so every training film stays inside its own range after the JSON round trip
  const outward = (v: number, dir: 1 | -1): number => {
    const r = round7(v);
    return dir * r >= dir * v ? r : r + dir * Math.abs(r) * 1e-6;
  };
  return [outward(lo, -1), outward(hi, 1)];
}

/** The verdict on one image. */
export interface OodVerdict {
  readonly rejected: boolean;
  /** The feature distance (NaN when the film's shape already rejected it). */
  readonly score: number;
  /** Why, when rejected: the score and the threshold. */
  readonly reason?: string;
}

/**
 * Check one image's pooled features against the fitted distribution.
 * @param model - the fitted model
 * @param features - the image's pooled feature vector
 */
export function checkHand(
  model: OodModel,
  features: ArrayLike<number>,
  film: { readonly width: number; readonly height: number },
): OodVerdict {
  const logAspect = Math.log(film.width / film.height);
  const [lo, hi] = model.filmLogAspectRange ?? [-Infinity, Infinity];
  if (!(logAspect >= lo && logAspect <= hi)) {
    return {
      rejected: true,
      score: Number.NaN,
      reason:
        `not shaped like the training hand radiographs: film ${film.width}x${film.height} has ln(width/height) ` +
        `${logAspect.toFixed(2)}, outside the ${model.n} training films' range [${lo.toFixed(2)}, ${hi.toFixed(2)}]`,
    };
  }
  const score = mahalanobis(model, features);
  return score <= model.threshold
    ? { rejected: false, score }
    : {
        rejected: true,
        score,
        reason:
          `not like the training hand radiographs: feature Mahalanobis distance ${score.toFixed(1)} > threshold ${model.threshold.toFixed(1)}` +
          ` (${model.margin} × the ${(model.percentile * 100).toFixed(1)}th percentile of ${model.n} training hands)`,
      };
}

/**
 * The ood.json text of a model (format version {@link OOD_FORMAT_VERSION}): every field as JSON, the packed Cholesky
 * factor as `choleskyLowerFloat32`, the base64 of its little-endian IEEE-754 float32 values. Why bytes: the factor
 * is d(d+1)/2 values (131,328 at d = 512); as decimals it was most of a bundle's size beside its weights.
 * @param model - a fitted or parsed model
 */
export function serializeOodModel(model: OodModel): string {
  const bytes = new Uint8Array(model.choleskyLower.length * 4);
  const view = new DataView(bytes.buffer);
  model.choleskyLower.forEach((v, i) => view.setFloat32(i * 4, v, true));
  const { choleskyLower: _omitted, ...rest } = model;
  return `${JSON.stringify({ ...rest, version: OOD_FORMAT_VERSION, choleskyLowerFloat32: Buffer.from(bytes).toString('base64') }, null, 2)}\n`;
}

/** The packed factor of a version-4 file: base64 of `packed` little-endian float32 values, every one finite. */
function decodeFloat32(value: unknown, packed: number, source: string): number[] {
  const bytes = typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
  const view = bytes !== null && bytes.length === packed * 4 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null;
  const out = view === null ? [] : Array.from({ length: packed }, (_, i) => view.getFloat32(i * 4, true));
  if (view === null || !out.every(Number.isFinite)) {
    throw new OodModelError(`${source}: 'choleskyLowerFloat32' is not the base64 of ${packed} finite float32 values`);
  }
  return out;
}

/**
 * Parse and validate an ood.json text.
 * @param text - the file's text
 * @param source - the file, named in errors
 */
export function parseOodModel(text: string, source: string): OodModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new OodModelError(`${source}: not a JSON object`);
  const r = raw as Record<string, unknown>;
  if (r['format'] !== OOD_FORMAT || typeof r['version'] !== 'number' || !OOD_READ_VERSIONS.includes(r['version'])) {
    const found =
      r['format'] === undefined
        ? `version 1 (descriptor ranges)`
        : `format ${String(r['format'])} version ${String(r['version'])}`;
    throw new OodModelError(
      `${source}: OOD file is ${found}; this Physis reads only ${OOD_FORMAT} versions ${OOD_READ_VERSIONS.join(' and ')}. ` +
        `Refit it with \`physis train … --resume\` on the bundle's run folder`,
    );
  }
  const dim = r['dim'];
  const mean = r['mean'];
  const num = (k: string): number => {
    const v = r[k];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new OodModelError(`${source}: '${k}' is not a finite number`);
    return v;
  };
  const range = (k: string): [number, number] => {
    const v = r[k];
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)) || v[0] > v[1])
      throw new OodModelError(`${source}: '${k}' is not a [min, max] pair of finite numbers`);
    return [v[0] as number, v[1] as number];
  };
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1)
    throw new OodModelError(`${source}: 'dim' is not a positive integer`);
  if (!Array.isArray(mean) || mean.length !== dim || !mean.every((v) => typeof v === 'number'))
    throw new OodModelError(`${source}: 'mean' is not ${dim} numbers`);
  const packed = (dim * (dim + 1)) / 2;
  let chol: number[];
  if (r['version'] === 3) {
    const list = r['choleskyLower'];
    if (!Array.isArray(list) || list.length !== packed || !list.every((v) => typeof v === 'number' && Number.isFinite(v)))
      throw new OodModelError(`${source}: 'choleskyLower' is not ${packed} numbers`);
    chol = list as number[];
  } else {
    chol = decodeFloat32(r['choleskyLowerFloat32'], packed, source);
  }
  return {
    format: OOD_FORMAT,
    version: OOD_FORMAT_VERSION,
    features: typeof r['features'] === 'string' ? r['features'] : 'feature vectors',
    dim,
    n: num('n'),
    mean: mean as number[],
    choleskyLower: chol,
    shrinkage: num('shrinkage'),
    percentile: num('percentile'),
    margin: num('margin'),
    threshold: num('threshold'),
    filmLogAspectRange: r['filmLogAspectRange'] === null ? null : range('filmLogAspectRange'),
  };
}
