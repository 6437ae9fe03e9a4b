/**
 * Re-orienting a film: quarter turns, a left-right mirror and a polarity inversion, on a display image or on a
 * decoded radiograph.
 *
 * Why: the suitability gate learns a film's orientation, polarity and laterality by seeing training films turned,
 * mirrored and inverted (self-supervision, as in Gidaris et al., ICLR 2018, for rotations), and the pipeline corrects
 * a film the gate finds turned, inverted or mirrored with the same operations before any model answers. On a
 * radiograph the inversion toggles PhotometricInterpretation (MONOCHROME1 ↔ MONOCHROME2, PS3.3 C.7.6.3.1.2), which is
 * exactly what a film stored with the wrong one needs; the pixel values themselves are never rewritten.
 */
import type { Radiograph } from '../radiograph/index.js';
import { PreprocessError, type GrayImage } from './image.js';

/** A change of orientation: clockwise quarter turns after an optional left-right mirror, and an optional inversion. */
export interface Reorientation {
  /** Clockwise quarter turns, 0-3 (applied after the mirror). */
  readonly quarterTurns: number;
  /** Mirror left-right first. */
  readonly mirror: boolean;
  /** Invert the gray scale (display values v → 1 − v). */
  readonly invert: boolean;
}

/** The reorientation that changes nothing. */
export const IDENTITY_REORIENTATION: Reorientation = Object.freeze({ quarterTurns: 0, mirror: false, invert: false });

function checkTurns(quarterTurns: number): number {
  if (!Number.isInteger(quarterTurns) || quarterTurns < 0 || quarterTurns > 3) {
    throw new PreprocessError(`quarter turns must be an integer 0-3, got ${quarterTurns}`);
  }
  return quarterTurns;
}

/**
 * Permute a row-major raster: mirror left-right, then turn clockwise `quarterTurns` times.
 * @returns the new data and its width and height
 */
function permute<T extends Float32Array>(data: T, width: number, height: number, o: Pick<Reorientation, 'quarterTurns' | 'mirror'>, make: (n: number) => T): { data: T; width: number; height: number } {
  const k = checkTurns(o.quarterTurns);
  if (k === 0 && !o.mirror) return { data, width, height };
  const outW = k % 2 === 0 ? width : height;
  const outH = k % 2 === 0 ? height : width;
  const out = make(width * height);
  for (let y = 0; y < height; y++) {
    for (let x0 = 0; x0 < width; x0++) {
      const x = o.mirror ? width - 1 - x0 : x0;
      // where source pixel (x, y) of the mirrored image lands after k clockwise turns
      let u: number;
      let v: number;
      if (k === 0) [u, v] = [x, y];
      else if (k === 1) [u, v] = [height - 1 - y, x];
      else if (k === 2) [u, v] = [width - 1 - x, height - 1 - y];
      else [u, v] = [y, width - 1 - x];
      out[v * outW + u] = data[y * width + x0] as number;
    }
  }
  return { data: out, width: outW, height: outH };
}

/**
 * Re-orient a display image (values in [0, 1]).
 * @param image - the image
 * @param o - turns, mirror, inversion
 */
export function reorientImage(image: GrayImage, o: Reorientation): GrayImage {
  const p = permute(image.data, image.width, image.height, o, (n) => new Float32Array(n));
  let data = p.data;
  if (o.invert) {
    data = data === image.data ? new Float32Array(data.length) : data;
    const src = p.data;
    for (let i = 0; i < data.length; i++) data[i] = 1 - (src[i] as number);
  }
  return { width: p.width, height: p.height, data };
}

/**
 * Re-orient a decoded radiograph: its pixels turned and mirrored (rows, columns and pixel spacing follow), and an
 * inversion by the opposite PhotometricInterpretation. The metadata's laterality is kept as the file says it; callers
 * that mirror decide what it means.
 * @param r - the radiograph
 * @param o - turns, mirror, inversion
 */
export function reorientRadiograph(r: Radiograph, o: Reorientation): Radiograph {
  const p = permute(r.pixels, r.columns, r.rows, o, (n) => new Float32Array(n));
  const swap = o.quarterTurns % 2 === 1;
  const spacing = r.metadata.spacing;
  return {
    ...r,
    rows: p.height,
    columns: p.width,
    pixels: p.data,
    photometric: o.invert ? (r.photometric === 'MONOCHROME1' ? 'MONOCHROME2' : 'MONOCHROME1') : r.photometric,
    metadata: {
      ...r.metadata,
      spacing: swap && spacing !== null ? { ...spacing, rowMm: spacing.columnMm, columnMm: spacing.rowMm } : spacing,
    },
  };
}

/**
 * The reorientation that undoes `o` (for a film found turned by `o.quarterTurns`, mirrored, inverted).
 * @param o - what was done to the film
 */
export function inverseReorientation(o: Reorientation): Reorientation {
  const k = checkTurns(o.quarterTurns);
  // undo: turn back (4 − k) clockwise, then unmirror; a mirror after a turn equals the opposite turn after the mirror
  return { quarterTurns: o.mirror ? k : (4 - k) % 4, mirror: o.mirror, invert: o.invert };
}
