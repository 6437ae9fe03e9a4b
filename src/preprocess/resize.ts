/**
 * Aspect-preserving resize with padding to a square N×N, and the plain resize to any width × height. Resampling is
 * separable with a triangle (bilinear) or a Keys cubic (a = −0.5) kernel whose support widens by the reduction factor
 * when shrinking, i.e. antialiased like PIL's `Image.resize(..., BILINEAR | BICUBIC)` and torchvision's
 * `antialias=True`, so a 3000-px radiograph shrunk to 512 keeps its trabecular texture instead of aliasing. The cubic
 * kernel is Pillow's default filter since 7.0 and `nearest` its default before, so a film can be resized the way a
 * published low-resolution set was made, aliasing included.
 */
import { PreprocessError, type GrayImage } from './image.js';

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

/** The resampling kernel: `triangle` (bilinear) or `cubic` (Keys, a = −0.5, as PIL's BICUBIC). */
export type ResizeFilter = 'triangle' | 'cubic' | 'nearest';

function kernel(filter: ResizeFilter, x: number): number {
  const t = Math.abs(x);
  if (filter === 'triangle') return Math.max(0, 1 - t);
  // Keys (1981) cubic convolution with a = −0.5, the kernel of PIL's BICUBIC filter
  const a = -0.5;
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function filterTaps(inSize: number, outSize: number, filter: ResizeFilter): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filterScale * (filter === 'triangle' ? 1 : 2); // kernel support × filter scale
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(inSize, Math.ceil(center + support));
    let total = 0;
    let k = 0;
    for (let j = lo; j < hi && k < stride; j++, k++) {
      const w = kernel(filter, (j + 0.5 - center) / filterScale);
      weights[i * stride + k] = w;
      total += w;
    }
    if (total > 0)
      for (let q = 0; q < k; q++) weights[i * stride + q] = (weights[i * stride + q] ?? 0) / total;
    start[i] = lo;
    count[i] = k;
  }
  return { start, count, weights, stride };
}

/**
 * Resize to exactly width × height (no aspect preservation) with an antialiased filter.
 * Returns `image` itself when the size is unchanged.
 * @param image - source
 * @param width - output columns
 * @param height - output rows
 * @param filter - the kernel (default triangle)
 */
export function resize(image: GrayImage, width: number, height: number, filter: ResizeFilter = 'triangle'): GrayImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PreprocessError(`resize target ${width}x${height} is not positive integers`);
  }
  const src = image.data;
  // Same size: nothing to resample; the input is returned as is (no step here mutates its input).
  if (width === image.width && height === image.height) return image;
  if (filter === 'nearest') return resizeNearest(image, width, height);
  const inW = image.width;
  const inH = image.height;
  // Hot loops below index typed arrays within bounds computed from the taps; `!` avoids per-element checks.
  const h = filterTaps(inW, width, filter);
  const hStart = h.start;
  const hCount = h.count;
  const hWeights = h.weights;
  const hStride = h.stride;
  // Horizontal pass (skipped when the width is unchanged): inH rows x width columns.
  let mid = src;
  if (width !== inW) {
    mid = new Float32Array(inH * width);
    for (let y = 0; y < inH; y++) {
      const row = y * inW;
      const dstRow = y * width;
      for (let x = 0; x < width; x++) {
        const s = hStart[x]! + row;
        const n = hCount[x]!;
        const wBase = x * hStride;
        let acc = 0;
        for (let k = 0; k < n; k++) acc += src[s + k]! * hWeights[wBase + k]!;
        mid[dstRow + x] = acc;
      }
    }
  }
  if (height === inH) return { width, height, data: mid };
  // Vertical pass, accumulating whole rows for cache-friendly access.
  const v = filterTaps(inH, height, filter);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const s = v.start[y]!;
    const n = v.count[y]!;
    const wBase = y * v.stride;
    const dst = y * width;
    for (let k = 0; k < n; k++) {
      const w = v.weights[wBase + k]!;
      const srcRow = (s + k) * width;
      for (let x = 0; x < width; x++) out[dst + x]! += mid[srcRow + x]! * w;
    }
  }
  return { width, height, data: out };
}

/**
 * Nearest-neighbour resampling as PIL's Image.resize with NEAREST does it (no antialiasing): output pixel x takes input
 * pixel floor((x + 0.5) · inWidth / outWidth). Why: old Pillow's default filter for resize was NEAREST, and a published
 * low-resolution set made with it keeps the aliasing a model trained on it has learned to read.
 */
function resizeNearest(image: GrayImage, width: number, height: number): GrayImage {
  const xs = Int32Array.from({ length: width }, (_, x) => Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / width)));
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / height)) * image.width;
    for (let x = 0; x < width; x++) out[y * width + x] = image.data[row + xs[x]!]!;
  }
  return { width, height, data: out };
}

/** Where the resized image sits inside the square, to map model coordinates back to the source. */
export interface LetterboxTransform {
  /** Output pixels per input pixel. */
  readonly scale: number;
  /** Left padding, output pixels. */
  readonly offsetX: number;
  /** Top padding, output pixels. */
  readonly offsetY: number;
  /** Size of the resized content before padding. */
  readonly contentWidth: number;
  readonly contentHeight: number;
}

/**
 * Resize so the long side is `size`, then pad (centred) to size × size with `padValue`.
 * @param image - source
 * @param size - output side N
 * @param padValue - fill for the padding (default 0, black)
 */
export function resizeToSquare(
  image: GrayImage,
  size: number,
  padValue = 0,
): { image: GrayImage; transform: LetterboxTransform } {
  if (!Number.isInteger(size) || size < 1 || size > 16384)
    throw new PreprocessError(`square size ${size} must be an integer in [1, 16384]`);
  const scale = size / Math.max(image.width, image.height);
  const contentWidth = Math.max(1, Math.min(size, Math.round(image.width * scale)));
  const contentHeight = Math.max(1, Math.min(size, Math.round(image.height * scale)));
  const resized = resize(image, contentWidth, contentHeight);
  const offsetX = Math.floor((size - contentWidth) / 2);
  const offsetY = Math.floor((size - contentHeight) / 2);
  const out = new Float32Array(size * size);
  if (padValue !== 0) out.fill(padValue);
  for (let y = 0; y < contentHeight; y++) {
    out.set(resized.data.subarray(y * contentWidth, (y + 1) * contentWidth), (y + offsetY) * size + offsetX);
  }
  return {
    image: { width: size, height: size, data: out },
    transform: { scale, offsetX, offsetY, contentWidth, contentHeight },
  };
}
