/**
 * Vertebral landmarks of an AP spine film (the four corners of T1–L5, as the AASCE 2019 challenge labels them) and
 * what the instrumentation planner needs from them: each vertebra's centre, axes, width and endplate tilts, the
 * film's millimetre scale, and the coronal curves (Cobb angle, end and apical vertebrae).
 *
 * Why: the simulated metal must sit where a surgeon puts it — screws in the pedicles of the instrumented vertebrae,
 * rods along them — so everything is placed relative to the real film's own vertebrae. Curves are measured the way
 * the AASCE challenge measures them (Wu et al., "Automatic landmark estimation for adolescent idiopathic scoliosis
 * assessment using BoostNet", MICCAI 2017: the Cobb angle is the largest difference between endplate slopes, the
 * secondary curves the largest above and below it), and classified by apex region after the SRS terminology
 * (thoracic apex T2–T11/12 disc, thoracolumbar T12–L1, lumbar L1/2 disc–L4).
 */
import { SpinePostopOptionsError } from './errors.js';

/** The 17 vertebrae the AASCE landmarks cover, cranial to caudal. */
export const SPINE_LEVELS = Object.freeze([
  'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9', 'T10', 'T11', 'T12', 'L1', 'L2', 'L3', 'L4', 'L5',
] as const);

/** One of T1–L5. */
export type SpineLevel = (typeof SPINE_LEVELS)[number];

/** A point in film pixels (x to the image right, y down). */
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** The four corners of one vertebral body on the film, in pixels (left/right are image sides). */
export interface VertebraLandmarks {
  readonly topLeft: Point;
  readonly topRight: Point;
  readonly bottomLeft: Point;
  readonly bottomRight: Point;
}

/** Geometry of one vertebra derived from its corners. */
export interface VertebraGeometry {
  readonly level: SpineLevel;
  readonly index: number;
  readonly centre: Point;
  /** Unit vector across the body toward the image right (mean endplate direction). */
  readonly lateral: Point;
  /** Unit vector along the spine toward caudal (perpendicular to `lateral`). */
  readonly axial: Point;
  /** Mean endplate width, pixels. */
  readonly widthPx: number;
  /** Mean lateral-border height, pixels. */
  readonly heightPx: number;
  /** Slopes of the upper and lower endplates, degrees (positive: the image-right end lower). */
  readonly upperTiltDeg: number;
  readonly lowerTiltDeg: number;
}

/** A coronal curve between two end vertebrae. */
export interface SpineCurve {
  /** Index (0 = T1) of the upper and lower end vertebrae and of the apical vertebra. */
  readonly upperEnd: number;
  readonly lowerEnd: number;
  readonly apex: number;
  readonly cobbDeg: number;
  /** +1: convex toward the image right; −1: toward the image left. */
  readonly convexity: 1 | -1;
  /** SRS region of the apex: proximal thoracic (T1–T5), main thoracic (T6–T11), thoracolumbar/lumbar (T12–L4). */
  readonly region: 'pt' | 'mt' | 'tl';
}

/**
 * Approximate coronal widths of adolescent vertebral bodies, mm, T1–L5 (read from the adult endplate widths of
 * Panjabi et al., Spine 1991;16:888 and 1992;17:299, scaled by ≈ 0.92 for adolescents). Used only to put a
 * millimetre scale on a film that has none (PNGs carry no pixel spacing).
 */
export const VERTEBRA_WIDTH_MM: readonly number[] = Object.freeze([
  26, 26, 26, 27, 28, 29, 30, 31, 32, 34, 36, 38, 40, 42, 44, 46, 48,
]);

/**
 * Read AASCE `landmarks_norm` (136 numbers: the 68 x of the corners, then the 68 y, each normalised by the image
 * width or height; corners per vertebra top-left, top-right, bottom-left, bottom-right, T1 first) into pixels.
 * The ordering was checked by drawing the corners on films of the set.
 * @param norm - the 136 numbers
 * @param width - film columns
 * @param height - film rows
 * @throws SpinePostopOptionsError when there are not 136 finite numbers
 */
export function aasceLandmarks(norm: readonly number[], width: number, height: number): VertebraLandmarks[] {
  if (norm.length !== 136 || !norm.every((v) => Number.isFinite(v)))
    throw new SpinePostopOptionsError(`landmarks_norm must hold 136 finite numbers, got ${norm.length}`);
  const at = (k: number): Point => ({ x: (norm[k] ?? 0) * width, y: (norm[68 + k] ?? 0) * height });
  const out: VertebraLandmarks[] = [];
  for (let v = 0; v < 17; v++)
    out.push({ topLeft: at(4 * v), topRight: at(4 * v + 1), bottomLeft: at(4 * v + 2), bottomRight: at(4 * v + 3) });
  return out;
}

/**
 * Replace a misplaced L5 by extrapolation from L3 and L4 (each corner moved by L4 − L3).
 *
 * Why: 24 of the 481 AASCE label rows place L5 at the top of the film (y ≈ 0.05) or on top of L4 — the vertebra
 * was off the film or not labelled; its corners then say nothing about where L5 is. An L5 whose centre is not at
 * least half an L4 height below L4's is treated as missing.
 * @param landmarks - 17 vertebrae, T1 first
 * @returns the landmarks (a new array when repaired) and whether L5 was replaced
 */
export function repairMissingL5(landmarks: readonly VertebraLandmarks[]): { landmarks: VertebraLandmarks[]; repaired: boolean } {
  const [l3, l4, l5] = [landmarks[14], landmarks[15], landmarks[16]];
  if (landmarks.length !== 17 || !l3 || !l4 || !l5) return { landmarks: [...landmarks], repaired: false };
  const cy = (v: VertebraLandmarks): number => (v.topLeft.y + v.topRight.y + v.bottomLeft.y + v.bottomRight.y) / 4;
  const h4 = (v: VertebraLandmarks): number => (v.bottomLeft.y - v.topLeft.y + v.bottomRight.y - v.topRight.y) / 2;
  if (cy(l5) > cy(l4) + 0.5 * Math.abs(h4(l4))) return { landmarks: [...landmarks], repaired: false };
  const move = (p4: Point, p3: Point): Point => ({ x: p4.x + (p4.x - p3.x), y: p4.y + (p4.y - p3.y) });
  const fixed: VertebraLandmarks = {
    topLeft: move(l4.topLeft, l3.topLeft),
    topRight: move(l4.topRight, l3.topRight),
    bottomLeft: move(l4.bottomLeft, l3.bottomLeft),
    bottomRight: move(l4.bottomRight, l3.bottomRight),
  };
  return { landmarks: [...landmarks.slice(0, 16), fixed], repaired: true };
}

const DEG = 180 / Math.PI;

function unit(x: number, y: number): Point {
  const n = Math.hypot(x, y) || 1;
  return { x: x / n, y: y / n };
}

/**
 * Geometry of each vertebra; refuses landmarks that are not 17 vertebrae inside the film, cranial to caudal.
 * @param landmarks - 17 vertebrae, T1 first
 * @param width - film columns
 * @param height - film rows
 */
export function vertebraGeometry(
  landmarks: readonly VertebraLandmarks[],
  width: number,
  height: number,
): VertebraGeometry[] {
  if (landmarks.length !== SPINE_LEVELS.length)
    throw new SpinePostopOptionsError(`expected landmarks of ${SPINE_LEVELS.length} vertebrae (T1–L5), got ${landmarks.length}`);
  const out: VertebraGeometry[] = landmarks.map((v, index) => {
    for (const p of [v.topLeft, v.topRight, v.bottomLeft, v.bottomRight])
      // a construct may run off a collimated film (its metal is clipped), but not far: that is a wrong scale
      if (!(p.x >= -0.5 * width && p.x <= 1.5 * width && p.y >= -0.5 * height && p.y <= 1.5 * height))
        throw new SpinePostopOptionsError(`${SPINE_LEVELS[index] ?? index}: landmark (${p.x}, ${p.y}) lies far outside the ${width}×${height} film`);
    const centre = {
      x: (v.topLeft.x + v.topRight.x + v.bottomLeft.x + v.bottomRight.x) / 4,
      y: (v.topLeft.y + v.topRight.y + v.bottomLeft.y + v.bottomRight.y) / 4,
    };
    const lateral = unit(
      v.topRight.x - v.topLeft.x + v.bottomRight.x - v.bottomLeft.x,
      v.topRight.y - v.topLeft.y + v.bottomRight.y - v.bottomLeft.y,
    );
    const widthPx =
      (Math.hypot(v.topRight.x - v.topLeft.x, v.topRight.y - v.topLeft.y) +
        Math.hypot(v.bottomRight.x - v.bottomLeft.x, v.bottomRight.y - v.bottomLeft.y)) / 2;
    const heightPx =
      (Math.hypot(v.bottomLeft.x - v.topLeft.x, v.bottomLeft.y - v.topLeft.y) +
        Math.hypot(v.bottomRight.x - v.topRight.x, v.bottomRight.y - v.topRight.y)) / 2;
    return {
      level: SPINE_LEVELS[index] ?? 'T1',
      index,
      centre,
      lateral,
      axial: { x: -lateral.y, y: lateral.x },
      widthPx,
      heightPx,
      upperTiltDeg: Math.atan2(v.topRight.y - v.topLeft.y, v.topRight.x - v.topLeft.x) * DEG,
      lowerTiltDeg: Math.atan2(v.bottomRight.y - v.bottomLeft.y, v.bottomRight.x - v.bottomLeft.x) * DEG,
    };
  });
  for (let i = 1; i < out.length; i++) {
    const a = out[i - 1];
    const b = out[i];
    // AASCE film 445 has T2's centre 0.7 % of the film above T1's (a tilted T1): tolerate overlap, not reversal
    if (a && b && !(b.centre.y > a.centre.y - 0.5 * a.heightPx))
      throw new SpinePostopOptionsError(`${b.level} lies above ${a.level}: landmarks must run T1 to L5, cranial to caudal`);
    if (b && !(b.widthPx >= 2 && b.heightPx >= 1))
      throw new SpinePostopOptionsError(`${b.level} is degenerate (${b.widthPx.toFixed(1)} × ${b.heightPx.toFixed(1)} px)`);
  }
  return out;
}

/** Millimetres per pixel of a film, from its vertebral widths against VERTEBRA_WIDTH_MM (median over T1–L5). */
export function mmPerPixel(vertebrae: readonly VertebraGeometry[]): number {
  const r = vertebrae.map((v) => (VERTEBRA_WIDTH_MM[v.index] ?? 36) / v.widthPx).sort((a, b) => a - b);
  return r[Math.floor(r.length / 2)] ?? 1;
}

/** The curve between endplates [i, j] of the 34-endplate sequence with the largest slope difference. */
function largestCurve(tilts: readonly number[], from: number, to: number): { i: number; j: number; cobb: number } {
  let best = { i: from, j: from, cobb: 0 };
  for (let i = from; i <= to; i++)
    for (let j = i + 1; j <= to; j++) {
      const c = Math.abs((tilts[i] ?? 0) - (tilts[j] ?? 0));
      if (c > best.cobb) best = { i, j, cobb: c };
    }
  return best;
}

/**
 * The coronal curves of a spine: the main curve (largest endplate-slope difference), then the largest curve above
 * and below it (the AASCE procedure); curves under 5° are dropped. Sorted cranial to caudal.
 * @param vertebrae - from vertebraGeometry
 */
export function spineCurves(vertebrae: readonly VertebraGeometry[]): SpineCurve[] {
  const tilts: number[] = [];
  for (const v of vertebrae) tilts.push(v.upperTiltDeg, v.lowerTiltDeg);
  const last = tilts.length - 1;
  const main = largestCurve(tilts, 0, last);
  const found = [main];
  if (main.cobb > 0) {
    found.push(largestCurve(tilts, 0, main.i), largestCurve(tilts, main.j, last));
  }
  const curves: SpineCurve[] = [];
  for (const c of found) {
    const upperEnd = Math.floor(c.i / 2);
    const lowerEnd = Math.floor(c.j / 2);
    if (c.cobb < 5 || lowerEnd - upperEnd < 2) continue;
    const a = vertebrae[upperEnd]?.centre ?? { x: 0, y: 0 };
    const b = vertebrae[lowerEnd]?.centre ?? { x: 0, y: 0 };
    const chord = unit(b.x - a.x, b.y - a.y);
    let apex = Math.round((upperEnd + lowerEnd) / 2);
    let far = 0;
    let side = 0;
    for (let k = upperEnd + 1; k < lowerEnd; k++) {
      const p = vertebrae[k]?.centre ?? a;
      // signed distance from the chord, positive toward the image right
      const d = (p.x - a.x) * chord.y - (p.y - a.y) * chord.x;
      if (Math.abs(d) > far) {
        far = Math.abs(d);
        apex = k;
        side = d;
      }
    }
    curves.push({
      upperEnd,
      lowerEnd,
      apex,
      cobbDeg: c.cobb,
      convexity: side < 0 ? -1 : 1,
      // a long curve whose apex falls high but which ends below T8 is the main thoracic curve, not a proximal one
      region: apex <= 4 && lowerEnd < 7 ? 'pt' : apex <= 10 ? 'mt' : 'tl',
    });
  }
  return curves.sort((p, q) => p.upperEnd - q.upperEnd);
}
