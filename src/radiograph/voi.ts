/**
 * Value-of-interest (VOI) transforms: modality values -> display values in [0, 1] with "bright = dense" for
 * both photometric interpretations. MONOCHROME1 is inverted *after* the VOI, exactly once (PS3.3 C.7.6.3.1.2:
 * "the minimum sample value is intended to be displayed as white" — the classic bug is feeding a model
 * un-inverted MONOCHROME1; the opposite bug is inverting before a window chosen for the stored values).
 */
import type { LookupTable, Radiograph, Voi, VoiLutFunction, VoiWindow } from './types.js';

/** Which VOI to apply when a file offers several. */
export interface DisplayOptions {
  /** Index into the file's windows or VOI LUTs (default 0, the first, as PS3.3 C.11.2.1.2 suggests). */
  readonly voiIndex?: number;
  /** Override: use this window instead of the file's VOI. */
  readonly window?: { readonly center: number; readonly width: number };
}

/**
 * Apply one window with a VOILUTFunction, writing [0, 1] values (PS3.3 C.11.2.1.2.1 LINEAR,
 * C.11.2.1.3.2 LINEAR_EXACT, C.11.2.1.3.1 SIGMOID).
 * @param src - modality values
 * @param window - centre/width in modality units
 * @param fn - the VOI LUT function
 * @param out - destination (may be `src`)
 */
export function applyWindow(
  src: Float32Array,
  window: { center: number; width: number },
  fn: VoiLutFunction,
  out: Float32Array,
): Float32Array {
  const c = window.center;
  const w = window.width;
  const n = src.length;
  if (fn === 'SIGMOID') {
    for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp((-4 * ((src[i] ?? 0) - c)) / w));
    return out;
  }
  // LINEAR: y = ((x - (c - 0.5)) / (w - 1) + 0.5), clipped; LINEAR_EXACT: y = (x - c) / w + 0.5, clipped.
  const exact = fn === 'LINEAR_EXACT' || w <= 1;
  const lo = exact ? c - w / 2 : c - 0.5 - (w - 1) / 2;
  const scale = exact ? 1 / w : 1 / (w - 1);
  const offset = exact ? c : c - 0.5;
  for (let i = 0; i < n; i++) {
    const x = src[i]!;
    const y = x <= lo ? 0 : (x - offset) * scale + 0.5;
    out[i] = y > 1 ? 1 : y < 0 ? 0 : y;
  }
  return out;
}

/**
 * Apply a VOI LUT (PS3.3 C.11.2.1.1): inputs below the first mapped value take the first entry, above the last
 * take the last; outputs are scaled by 2^bits − 1 to [0, 1].
 */
export function applyVoiLut(src: Float32Array, lut: LookupTable, out: Float32Array): Float32Array {
  const last = lut.data.length - 1;
  const scale = 1 / (2 ** lut.bitsPerEntry - 1);
  for (let i = 0; i < src.length; i++) {
    let k = Math.round((src[i] ?? 0) - lut.firstMapped);
    k = k < 0 ? 0 : k > last ? last : k;
    const y = (lut.data[k] ?? 0) * scale;
    out[i] = y > 1 ? 1 : y;
  }
  return out;
}

/** Linear map of [min, max] to [0, 1], for images whose file gives no VOI. */
export function applyRange(src: Float32Array, min: number, max: number, out: Float32Array): Float32Array {
  const inv = 1 / (max > min ? max - min : 1);
  for (let i = 0; i < src.length; i++) {
    const y = (src[i]! - min) * inv;
    out[i] = y > 1 ? 1 : y < 0 ? 0 : y;
  }
  return out;
}

/** Min and max of an array (NaN-free input assumed), [0, 0] when empty. */
export function minMax(src: Float32Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return src.length === 0 ? [0, 0] : [min, max];
}

/** The window the display will use for a given VOI and index, or null when it is a LUT or a range. */
export function selectedWindow(voi: Voi, index = 0): VoiWindow | null {
  if (voi.kind !== 'window') return null;
  return voi.windows[Math.min(index, voi.windows.length - 1)] ?? null;
}

/**
 * The image as a person (and a model) should see it: VOI applied, then MONOCHROME1 inverted, values in [0, 1]
 * with dense structures (bone) bright.
 * @param image - a decoded radiograph
 * @param options - which VOI to use
 */
export function toDisplay(image: Radiograph, options: DisplayOptions = {}): Float32Array {
  const out = new Float32Array(image.pixels.length);
  const index = options.voiIndex ?? 0;
  const voi = image.voi;
  if (options.window) {
    applyWindow(image.pixels, options.window, 'LINEAR', out);
  } else if (voi.kind === 'window') {
    const w = selectedWindow(voi, index);
    if (w) applyWindow(image.pixels, w, voi.function, out);
  } else if (voi.kind === 'lut') {
    const lut = voi.luts[Math.min(index, voi.luts.length - 1)];
    if (lut) applyVoiLut(image.pixels, lut, out);
  } else {
    applyRange(image.pixels, voi.min, voi.max, out);
  }
  if (image.photometric === 'MONOCHROME1') {
    for (let i = 0; i < out.length; i++) out[i] = 1 - (out[i] ?? 0);
  }
  return out;
}
