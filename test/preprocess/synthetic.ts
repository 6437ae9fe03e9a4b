/** Synthetic inputs for preprocessing tests, named by their parameters; deterministic (no Math.random). */
import type { GrayImage } from '../../src/preprocess/index.js';

/** Deterministic pseudo-noise in [-1, 1] from a pixel index (hash, not a PRNG stream, so shapes stay stable). */
export function hashNoise(i: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (((h ^ (h >>> 16)) >>> 0) / 4294967295) * 2 - 1;
}

export function make(width: number, height: number, f: (x: number, y: number) => number): GrayImage {
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, data };
}

/** ramp_32x32: 0 at the left column to 1 at the right. */
export const ramp32 = (): GrayImage => make(32, 32, (x) => x / 31);

/** ramp_with_outliers_32x32: a 0.2..0.6 ramp with one hot and one dead pixel that must not set the contrast. */
export const rampOutliers32 = (): GrayImage =>
  make(32, 32, (x, y) => (x === 3 && y === 3 ? 50 : x === 30 && y === 30 ? -50 : 0.2 + (0.4 * x) / 31));

/** lowContrast_sine_32x32: 0.45..0.55 sinusoid, the case CLAHE is for. */
export const lowContrast32 = (): GrayImage =>
  make(32, 32, (x, y) => 0.5 + 0.05 * Math.sin(x / 3) * Math.cos(y / 5));

/**
 * disk_r8_collimated_48x40: a bright disk (r = 8, centre (26, 22)) on a dark noisy background, with a uniform
 * white collimator band 5 columns wide on the left and 4 rows on the top. `scale` k multiplies every length
 * (disk_r40_collimated_240x200 for k = 5, large enough that the crop works on a 2x-reduced thumbnail); k = 1 is
 * the golden images' input.
 */
export const collimatedDisk = (scale = 1): GrayImage =>
  make(48 * scale, 40 * scale, (x, y) => {
    if (x < 5 * scale || y < 4 * scale) return 0.95;
    const inside = (x - 26 * scale) ** 2 + (y - 22 * scale) ** 2 <= 64 * scale * scale;
    const noise = 0.05 * hashNoise(y * 48 * scale + x);
    return inside ? 0.8 + noise : 0.1 + noise;
  });

/**
 * The image under the affine intensity map that sends its own min to `lo` and max to `hi` (e.g. [0, 1] for a
 * full-range film, [0, 4095/65535] for 12 bits stored in 16, [0.4, 0.6] for a low-contrast window).
 */
export function rescaleIntensity(image: GrayImage, lo: number, hi: number): GrayImage {
  let min = Infinity;
  let max = -Infinity;
  for (const v of image.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const data = Float32Array.from(image.data, (v) => lo + ((v - min) / (max - min)) * (hi - lo));
  return { width: image.width, height: image.height, data };
}

/** checkerboard_4px_32x20: 4-pixel squares, 0/1. */
export const checkerboard = (): GrayImage =>
  make(32, 20, (x, y) => ((Math.floor(x / 4) + Math.floor(y / 4)) % 2 === 0 ? 1 : 0));
