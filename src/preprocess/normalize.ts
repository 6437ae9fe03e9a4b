/**
 * Robust intensity normalisation: map the [p_low, p_high] percentiles to [0, 1] and clip, so a few saturated
 * markers or dead pixels do not set the contrast (as MONAI's ScaleIntensityRangePercentiles, lower/upper/clip).
 */
import { PreprocessError, type GrayImage } from './image.js';

const BINS = 4096;

/**
 * Percentiles of an image by a 4096-bin histogram over its [min, max] with linear interpolation inside the bin
 * (error at most (max − min) / 4096; O(n) so it stays cheap on 10-megapixel radiographs).
 * @param data - values
 * @param percents - each in [0, 100]
 * @param range - known bounds of the data (e.g. [0, 1] for display values), saving a pass; values outside are clamped
 */
export function percentiles(
  data: Float32Array,
  percents: readonly number[],
  range?: { readonly min: number; readonly max: number },
): number[] {
  let min = range ? range.min : Infinity;
  let max = range ? range.max : -Infinity;
  const n = data.length;
  if (!range) {
    for (let i = 0; i < n; i++) {
      const v = data[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (n === 0) return percents.map(() => 0);
  if (max <= min) return percents.map(() => min);
  const hist = new Uint32Array(BINS);
  const scale = BINS / (max - min);
  for (let i = 0; i < n; i++) {
    const b = ((data[i]! - min) * scale) | 0;
    hist[b < 0 ? 0 : b < BINS ? b : BINS - 1]!++;
  }
  return percents.map((p) => {
    if (!(p >= 0 && p <= 100)) throw new PreprocessError(`percentile ${p} is outside [0, 100]`);
    const target = (p / 100) * n;
    let acc = 0;
    for (let b = 0; b < BINS; b++) {
      const h = hist[b] ?? 0;
      if (acc + h >= target && h > 0) {
        const frac = (target - acc) / h;
        return min + (b + frac) / scale;
      }
      acc += h;
    }
    return max;
  });
}

/** Options for percentile normalisation. */
export interface PercentileOptions {
  /** Lower percentile mapped to 0 (default 0.5). */
  readonly lowPercentile?: number;
  /** Upper percentile mapped to 1 (default 99.5). */
  readonly highPercentile?: number;
  /** Known bounds of the input (display images are in [0, 1]); saves the min/max pass. */
  readonly range?: { readonly min: number; readonly max: number };
  /** Overwrite the input's data instead of allocating (for a pipeline that owns its intermediate image). */
  readonly inPlace?: boolean;
}

/**
 * Map [p_low, p_high] to [0, 1] linearly and clip. A flat image maps to all zeros.
 * @param image - source (any range)
 * @param options - the two percentiles
 */
export function normalizePercentiles(image: GrayImage, options: PercentileOptions = {}): GrayImage {
  const low = options.lowPercentile ?? 0.5;
  const high = options.highPercentile ?? 99.5;
  if (!(low < high)) throw new PreprocessError(`lowPercentile ${low} must be below highPercentile ${high}`);
  const [lo = 0, hi = 0] = percentiles(image.data, [low, high], options.range);
  const out = options.inPlace ? image.data : new Float32Array(image.data.length);
  if (options.inPlace && !(hi > lo)) out.fill(0);
  const span = hi - lo;
  if (span > 0) {
    const inv = 1 / span;
    const src = image.data;
    for (let i = 0; i < out.length; i++) {
      const y = (src[i]! - lo) * inv;
      out[i] = y < 0 ? 0 : y > 1 ? 1 : y;
    }
  }
  return { width: image.width, height: image.height, data: out };
}
