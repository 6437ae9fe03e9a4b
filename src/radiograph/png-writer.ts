/**
 * Write grayscale PNGs (8- or 16-bit) from [0, 1] float images, for previews and golden images.
 * PNGs written here carry pixels only, no text chunks: nothing identifying leaves Physis through them.
 */
import { PNG } from 'pngjs';

/**
 * Encode a [0, 1] float image as a grayscale PNG; values are clipped and rounded.
 * @param width - columns
 * @param height - rows
 * @param data - row-major values in [0, 1]
 * @param bitDepth - 8 (default) or 16
 */
export function encodeGrayPng(
  width: number,
  height: number,
  data: Float32Array,
  bitDepth: 8 | 16 = 8,
): Buffer {
  const max = bitDepth === 16 ? 65535 : 255;
  const n = width * height;
  const samples = bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i] ?? 0;
    samples[i] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * max);
  }
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
  png.data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
}
