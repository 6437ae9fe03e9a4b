/**
 * Foreground crop: drop empty or collimated borders and keep the body part. Two steps:
 * 1. strip edge rows/columns that are near-uniform (collimator shutters, detector margins: constant, often white);
 * 2. inside that, threshold by Otsu (1979) on a ≤128-px thumbnail and keep the bounding box of the large
 *    connected components (≥ 10 % of the largest), which keeps both bones of a knee and drops lead markers.
 * An image spanning less than a quarter of [0, 1] is min/max-normalised first, so a 12-bit film stored in a 16-bit
 * PNG (display values in [0, 1/16]) or a low-contrast DICOM (e.g. [0.4, 0.6]) crops like the film at full range.
 */
import type { Box, GrayImage } from './image.js';

/** Foreground crop parameters. */
export interface CropOptions {
  /**
   * A border row/column with standard deviation below this counts as empty (default 0.02, in display units;
   * `foregroundBox` applies it after normalising images that span less than a quarter of [0, 1]).
   */
  readonly uniformStd?: number;
  /** Margin added around the found box, as a fraction of its long side (default 0.02). */
  readonly marginFraction?: number;
  /** Components smaller than this fraction of the largest are ignored (default 0.1). */
  readonly minComponentFraction?: number;
}

function lineStd(data: Float32Array, start: number, step: number, count: number): number {
  let sum = 0;
  let sq = 0;
  for (let i = 0, p = start; i < count; i++, p += step) {
    const v = data[p] ?? 0;
    sum += v;
    sq += v * v;
  }
  const mean = sum / count;
  return Math.sqrt(Math.max(0, sq / count - mean * mean));
}

/**
 * The box left after stripping near-uniform edge rows and columns.
 * @param image - display image in [0, 1]
 * @param uniformStd - standard-deviation threshold
 */
export function stripUniformBorders(image: GrayImage, uniformStd = 0.02): Box {
  const { width, height, data } = image;
  let top = 0;
  let bottom = height;
  let left = 0;
  let right = width;
  while (top < bottom - 1 && lineStd(data, top * width, 1, width) < uniformStd) top++;
  while (bottom - 1 > top && lineStd(data, (bottom - 1) * width, 1, width) < uniformStd) bottom--;
  const rows = bottom - top;
  while (left < right - 1 && lineStd(data, top * width + left, width, rows) < uniformStd) left++;
  while (right - 1 > left && lineStd(data, top * width + right - 1, width, rows) < uniformStd) right--;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/**
 * Otsu's threshold (maximum between-class variance) over a 256-bin histogram of [min, max].
 * @param data - values
 */
export function otsuThreshold(data: Float32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max > min)) return min;
  const hist = new Float64Array(256);
  const scale = 255.999 / (max - min);
  for (const v of data) {
    const b = Math.floor((v - min) * scale);
    hist[b] = (hist[b] ?? 0) + 1;
  }
  const total = data.length;
  let sumAll = 0;
  for (let b = 0; b < 256; b++) sumAll += b * (hist[b] ?? 0);
  let w0 = 0;
  let sum0 = 0;
  let best = 0;
  let bestVar = -1;
  for (let b = 0; b < 256; b++) {
    w0 += hist[b] ?? 0;
    if (w0 === 0) continue;
    const w1 = total - w0;
    if (w1 === 0) break;
    sum0 += b * (hist[b] ?? 0);
    const m0 = sum0 / w0;
    const m1 = (sumAll - sum0) / w1;
    const between = w0 * w1 * (m0 - m1) * (m0 - m1);
    if (between > bestVar) {
      bestVar = between;
      best = b;
    }
  }
  return min + (best + 1) / scale;
}

/** Block-average thumbnail of a box with long side at most `maxSide`. */
function thumbnail(
  image: GrayImage,
  box: Box,
  maxSide: number,
): { data: Float32Array; w: number; h: number; factor: number } {
  const factor = Math.max(1, Math.ceil(Math.max(box.width, box.height) / maxSide));
  const w = Math.max(1, Math.floor(box.width / factor));
  const h = Math.max(1, Math.floor(box.height / factor));
  const data = new Float32Array(w * h);
  for (let ty = 0; ty < h; ty++) {
    for (let tx = 0; tx < w; tx++) {
      let acc = 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (box.y + ty * factor + dy) * image.width + box.x + tx * factor;
        for (let dx = 0; dx < factor; dx++) acc += image.data[row + dx] ?? 0;
      }
      data[ty * w + tx] = acc / (factor * factor);
    }
  }
  return { data, w, h, factor };
}

/**
 * Images whose intensity range (max − min) lies in [DISPLAY_RANGE_MIN, 1] are taken as calibrated display
 * values and cropped as they are; any other range is min/max-normalised to [0, 1] first.
 * Why 1/4: 8-bit exports and windowed DICOM span most of [0, 1] (RSNA hand films: all 1023 span ≥ 0.36) and
 * their crops, hence the shipped models' inputs, must not move; the narrowest of them (dev film 1689, range 0.43,
 * marker beside the hand) even crops worse when normalised, because the relative border threshold then keeps
 * its dim margin. A film stored with headroom (12 or 14 bits in a 16-bit PNG: range < 1/4) or a low-contrast
 * window (e.g. [0.4, 0.6]) spans less and must be normalised.
 */
const DISPLAY_RANGE_MIN = 0.25;

/**
 * The image the crop decisions run on: the input itself (no copy) when its range is in
 * [DISPLAY_RANGE_MIN, 1] or it is constant, otherwise a copy linearly mapped so that its min is 0 and max is 1.
 */
function cropScaleImage(image: GrayImage): GrayImage {
  const { data } = image;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  // A constant image (range 0) has no foreground to find; NaN/Infinity ranges cannot be normalised.
  if (!(range > 0) || !Number.isFinite(range) || (range >= DISPLAY_RANGE_MIN && range <= 1)) return image;
  const scale = 1 / range;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = ((data[i] ?? 0) - min) * scale;
  return { width: image.width, height: image.height, data: out };
}

/**
 * The bounding box of the body part in a display image (bright = dense), or the uniform-stripped box when no
 * clear foreground is found.
 *
 * Why the normalisation: display values of a 12-bit film in a 16-bit PNG lie in [0, 1/16], where every row's
 * standard deviation is below an absolute 0.02 and the crop collapsed to 1×1; a low-contrast DICOM lost the
 * thumb the same way. An image spanning less than a quarter of [0, 1] (or more than [0, 1]) is therefore
 * min/max-normalised before the crop, so any affine intensity map a·x + b (a > 0) of a film spanning [0, 1]
 * that leaves it narrower than 1/4 gives the same box as the film. Images spanning [1/4, 1] are cropped
 * unchanged, which keeps today's boxes (and predictions) for 8-bit films bit-identical; between two such scales
 * the border threshold differs by at most a factor of 4. Otsu (1979) thresholds are scale-free either way.
 * @param image - display image (values in [0, 1] for display values; any finite range is accepted)
 * @param options - thresholds and margin
 */
export function foregroundBox(image: GrayImage, options: CropOptions = {}): Box {
  return foregroundBoxOnDisplayScale(cropScaleImage(image), options);
}

function foregroundBoxOnDisplayScale(image: GrayImage, options: CropOptions): Box {
  const inner = stripUniformBorders(image, options.uniformStd ?? 0.02);
  if (inner.width < 8 || inner.height < 8) return inner;
  const thumb = thumbnail(image, inner, 128);
  const t = otsuThreshold(thumb.data);
  const { w, h } = thumb;
  const labels = new Int32Array(w * h).fill(-1);
  const queue = new Int32Array(w * h);
  const comps: { area: number; x0: number; y0: number; x1: number; y1: number }[] = [];
  for (let start = 0; start < w * h; start++) {
    if (labels[start] !== -1 || (thumb.data[start] ?? 0) <= t) continue;
    const id = comps.length;
    const comp = { area: 0, x0: w, y0: h, x1: -1, y1: -1 };
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    labels[start] = id;
    while (head < tail) {
      const p = queue[head++] ?? 0;
      const x = p % w;
      const y = (p - x) / w;
      comp.area++;
      if (x < comp.x0) comp.x0 = x;
      if (x > comp.x1) comp.x1 = x;
      if (y < comp.y0) comp.y0 = y;
      if (y > comp.y1) comp.y1 = y;
      const neighbours = [
        x > 0 ? p - 1 : -1,
        x < w - 1 ? p + 1 : -1,
        y > 0 ? p - w : -1,
        y < h - 1 ? p + w : -1,
      ];
      for (const q of neighbours) {
        if (q >= 0 && labels[q] === -1 && (thumb.data[q] ?? 0) > t) {
          labels[q] = id;
          queue[tail++] = q;
        }
      }
    }
    comps.push(comp);
  }
  const largest = comps.reduce((m, c) => Math.max(m, c.area), 0);
  const keep = comps.filter(
    (c) => c.area >= largest * (options.minComponentFraction ?? 0.1) && c.area >= 0.005 * w * h,
  );
  if (keep.length === 0) return inner;
  const x0 = Math.min(...keep.map((c) => c.x0));
  const y0 = Math.min(...keep.map((c) => c.y0));
  const x1 = Math.max(...keep.map((c) => c.x1)) + 1;
  const y1 = Math.max(...keep.map((c) => c.y1)) + 1;
  const f = thumb.factor;
  const margin = Math.round((options.marginFraction ?? 0.02) * Math.max(x1 - x0, y1 - y0) * f);
  const bx0 = Math.max(inner.x, inner.x + x0 * f - margin);
  const by0 = Math.max(inner.y, inner.y + y0 * f - margin);
  // The last thumbnail column/row may stand for the remainder pixels too, so extend to the inner edge there.
  const bx1 = Math.min(inner.x + inner.width, x1 === w ? inner.x + inner.width : inner.x + x1 * f + margin);
  const by1 = Math.min(inner.y + inner.height, y1 === h ? inner.y + inner.height : inner.y + y1 * f + margin);
  const box = { x: bx0, y: by0, width: bx1 - bx0, height: by1 - by0 };
  if (box.width < 0.1 * inner.width || box.height < 0.1 * inner.height) return inner;
  return box;
}
