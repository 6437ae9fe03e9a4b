/**
 * PNG forms of phantom films and masks: 12-bit stored values as 16-bit grey, 0/1 masks as 8-bit 0/255.
 *
 * Why: a phantom cohort in PNG carries the same films as its DICOM twin (the stored value v becomes
 * round(v · 65535 / 4095), so a reader maps it back exactly), and masks are written in the one format every viewer
 * and `readRadiograph` opens. PNGs carry pixels only (see png-writer.ts).
 */
import { encodeGrayPng } from '../png-writer.js';
import { MAX_STORED_VALUE } from './detector.js';

/**
 * A 12-bit film (stored values 0..4095) as a 16-bit grey PNG.
 * @param pixels - row-major stored values
 * @param width - columns
 * @param height - rows
 */
export function encodeStoredPng(pixels: Uint16Array, width: number, height: number): Buffer {
  const data = new Float32Array(pixels.length);
  for (let k = 0; k < data.length; k++) data[k] = (pixels[k] ?? 0) / MAX_STORED_VALUE;
  return encodeGrayPng(width, height, data, 16);
}

/**
 * A 0/1 mask as an 8-bit PNG of 0 and 255.
 * @param mask - row-major, non-zero = inside
 * @param width - columns
 * @param height - rows
 */
export function encodeMaskPng(mask: Uint8Array, width: number, height: number): Buffer {
  const data = new Float32Array(mask.length);
  for (let k = 0; k < mask.length; k++) data[k] = mask[k] ? 1 : 0;
  return encodeGrayPng(width, height, data, 8);
}
