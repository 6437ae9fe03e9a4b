/**
 * An out-of-distribution check for hand radiographs: the range of a few image descriptors over the
 * training hands, and a rejection with the reason when a new image falls outside it.
 *
 * Why: the bone-age model answers for any picture; a spine or chest film must be rejected with a reason
 * instead of getting a "bone age" (issue 5). The descriptors are measured on the radiograph and its
 * preprocessing record: the film's aspect ratio, the exposed region's aspect ratio and area, and the
 * intensity distribution inside it. The accepted range of each is its training range, trimmed by a
 * small tail. A Mahalanobis distance over the same descriptors (Lee et al., NeurIPS 2018, on network
 * features) was tried first and rejected: the training hands are heavy-tailed, so a threshold that
 * keeps 99.5% of them let 95% of AASCE spine films through. Measured on ../shared (see the tests):
 * the range check keeps every RSNA dev hand and rejects about 96% of the AASCE spines, almost entirely
 * through the film's aspect ratio (spine films are tall and narrow). It is a plausibility check, not a
 * classifier: a non-hand film with a hand-like shape and exposure passes.
 */
import type { PreprocessResult } from '../../preprocess/index.js';
import { OodModelError } from '../errors.js';

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
 * The descriptor vector of one radiograph from its size and preprocessing record.
 * @param film - the decoded image's width and height (columns, rows)
 * @param pre - the preprocessing result (crop box, letterboxed image in [0, 1])
 */
export function handDescriptors(film: { width: number; height: number }, pre: Pick<PreprocessResult, 'crop' | 'image' | 'letterbox'>): number[] {
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

/** A fitted descriptor range model (JSON-serialisable, shipped next to a bundle as `ood.json`). */
export interface OodModel {
  readonly descriptors: readonly string[];
  readonly low: readonly number[];
  readonly high: readonly number[];
  /** Share of training images trimmed from each end of each range. */
  readonly tail: number;
  /** Training images the ranges were measured on. */
  readonly n: number;
}

/**
 * Measure the accepted range of each descriptor on in-distribution images.
 * @param rows - descriptor vectors of training hands
 * @param tail - share trimmed from each end (default 0.001, about one image per thousand)
 */
export function fitOodModel(rows: readonly (readonly number[])[], tail = 0.001): OodModel {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n < 2 || d === 0) throw new OodModelError(`OOD fit needs at least 2 descriptor vectors, got ${n}`);
  if (!(tail >= 0 && tail < 0.5)) throw new OodModelError(`OOD tail ${tail} must be in [0, 0.5)`);
  const low: number[] = [];
  const high: number[] = [];
  for (let j = 0; j < d; j++) {
    const v = rows.map((r) => r[j] as number).sort((a, b) => a - b);
    low.push(v[Math.floor(tail * n)] as number);
    high.push(v[Math.max(0, Math.ceil((1 - tail) * n - 1e-9) - 1)] as number);
  }
  return { descriptors: [...OOD_DESCRIPTORS].slice(0, d), low, high, tail, n };
}

/** The verdict on one image. */
export interface OodVerdict {
  readonly rejected: boolean;
  /** Why, when rejected: each descriptor outside its range, with value and range. */
  readonly reason?: string;
}

/**
 * Check one image's descriptors against the accepted ranges.
 * @param model - the fitted model
 * @param x - descriptors from {@link handDescriptors}
 */
export function checkHand(model: OodModel, x: readonly number[]): OodVerdict {
  if (x.length !== model.low.length) throw new OodModelError(`OOD descriptor vector has ${x.length} values, the model ${model.low.length}`);
  const out = x.flatMap((v, j) => {
    const lo = model.low[j] as number;
    const hi = model.high[j] as number;
    return v < lo || v > hi ? [`${model.descriptors[j] ?? j} ${v.toFixed(2)} outside [${lo.toFixed(2)}, ${hi.toFixed(2)}]`] : [];
  });
  return out.length === 0
    ? { rejected: false }
    : { rejected: true, reason: `not like the training hand radiographs: ${out.join('; ')}` };
}
