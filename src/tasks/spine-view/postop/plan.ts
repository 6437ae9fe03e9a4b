/**
 * Plan the instrumentation of a simulated post-operative AP spine film: which vertebrae are instrumented, where
 * each pedicle screw (or hook) projects, the two rods through the anchor heads, cross-links and, for growing rods,
 * the tandem connectors. Geometry only, in film pixels; render.ts turns it into metal on the film.
 *
 * Why these choices (AIS posterior spinal fusion with all-pedicle-screw constructs; growing rods for early-onset
 * scoliosis), and where each is an assumption of this generator:
 * - Curve pattern after Lenke et al., "Adolescent idiopathic scoliosis: a new classification to determine extent of
 *   spinal arthrodesis", JBJS Am 2001;83:1169–1181: the major curve and any structural minor curve are fused.
 *   Structural minors are defined there by side-bending films (residual Cobb ≥ 25°), which the AASCE set lacks;
 *   here a minor curve counts as structural when its standing Cobb angle is ≥ 40° or ≥ 85 % of the major
 *   (an assumption).
 * - Fusion levels: upper instrumented vertebra (UIV) at the upper end vertebra or one above, T3–T5 for main
 *   thoracic curves, T2 when the proximal thoracic curve is structural; lower instrumented vertebra (LIV) at the
 *   lower end vertebra to two below (last touched / stable vertebra), T11–L2 for main thoracic curves, L2–L4 when
 *   the thoracolumbar/lumbar curve is fused; selective thoracolumbar fusions from T9–T12 (Suk et al., Spine
 *   2003;28:484 distal level with segmental pedicle screws; Trobisch, Ducoffe, Lonner & Errico, "Choosing fusion
 *   levels in adolescent idiopathic scoliosis", J Am Acad Orthop Surg 2013;21:519–528; Shufflebarger, Geck & Clark,
 *   Spine 2004;29:269 for thoracolumbar/lumbar curves). The draw among the plausible levels is random (assumption).
 * - Screw density: 1.4–2.0 anchors per fused level (Larson et al., "Are more screws better? A systematic review of
 *   anchor density and curve correction in adolescent idiopathic scoliosis", Spine Deform 2013;1:237–247),
 *   bilateral at the two end levels of each end; skipped slots in between, a little more often on the concave side
 *   near the apex where pedicles are narrowest (Liljenqvist et al., Spine 1997;22:2239; Suk et al., Spine 1995;20:1399
 *   for segmental pedicle screws).
 * - Screw size from the vertebra: diameter ≈ 0.15 × the body's coronal width, length ≈ 0.9 × width + 10 mm, rounded
 *   to catalogue steps (0.5 mm, 5 mm) — an assumption matching the usual 4.5–5.5 mm thoracic and 6–7 mm lumbar
 *   screws of 30–50 mm. Medial convergence by level after the pedicle transverse angles of Zindrick et al.
 *   (Spine 1987;12:160) and Panjabi et al. (Spine 1991;16:888): ≈ 25° at T1, 8–12° mid-thoracic, rising to ≈ 25° at L5.
 * - Apical vertebral rotation shifts both pedicles toward the concavity on an AP film (Nash & Moe, JBJS Am
 *   1969;51:223); modelled as a shift proportional to the vertebra's distance from the end-to-end chord (assumption).
 * - Growing rods (Akbarnia et al., "Dual growing rod technique for the treatment of progressive early-onset
 *   scoliosis", Spine 2005;30(17S):S46–S57; Mahar et al., Spine J 2008;8:933 on foundations): a proximal
 *   foundation of 2 adjacent levels in T2–T5 and a distal one in L1–L4, 2–4 anchors each (hooks or screws
 *   proximally, screws distally), dual rods tunnelled without anchors in between, joined by tandem connectors at
 *   the thoracolumbar junction.
 * - The bone is never moved: a real fusion corrects the curve, but the film keeps its pre-operative spine, so the
 *   rods follow the uncorrected curve (growing rods a smoothed, partly straightened version of it).
 */
import type { PhantomRandom } from '../../../radiograph/index.js';
import {
  mmPerPixel,
  SPINE_LEVELS,
  spineCurves,
  type Point,
  type SpineCurve,
  type SpineLevel,
  type VertebraGeometry,
} from './landmarks.js';

/** What is simulated: an AIS posterior spinal fusion, or dual growing rods for early-onset scoliosis. */
export type PostopKind = 'fusion' | 'growing-rod';

/** Image side (on a conventionally displayed AP film the patient's right is the image left). */
export type ImageSide = 'left' | 'right';

/** One anchor: a pedicle screw (shank from the head to the tip) or a laminar/pedicle hook (blade toward the tip). */
export interface Anchor {
  readonly level: SpineLevel;
  readonly side: ImageSide;
  readonly type: 'screw' | 'hook';
  /** Centre of the head (tulip) on the film, pixels; the rod passes through it. */
  readonly head: Point;
  /** Projected end of the shank (screw tip) or of the blade (hook), pixels. */
  readonly tip: Point;
  readonly diameterMm: number;
  readonly lengthMm: number;
  /** Angle between the shank and the beam (AP axis), degrees: small = seen nearly end-on, long metal path. */
  readonly beamAngleDeg: number;
}

/** A rod: a smooth polyline through its anchors' heads, with optional connector sleeves. */
export interface Rod {
  readonly side: ImageSide;
  readonly points: readonly Point[];
  readonly diameterMm: number;
  /** Tandem connectors (growing rods): sleeves from `from` to `to` along the rod. */
  readonly connectors: readonly { readonly from: Point; readonly to: Point; readonly diameterMm: number }[];
}

/** A transverse connector between the rods. */
export interface CrossLink {
  readonly left: Point;
  readonly right: Point;
}

/** The instrumented levels. */
export interface InstrumentedLevels {
  /** Upper and lower instrumented vertebrae (UIV, LIV). */
  readonly upper: SpineLevel;
  readonly lower: SpineLevel;
  /** Levels carrying at least one anchor, cranial to caudal. */
  readonly anchored: readonly SpineLevel[];
  /** The Lenke-like pattern the levels were chosen for, e.g. 'main-thoracic', 'double-major'. */
  readonly pattern: string;
}

/** The planned construct, in film pixels. */
export interface Instrumentation {
  readonly kind: PostopKind;
  readonly levels: InstrumentedLevels;
  readonly screws: readonly Anchor[];
  readonly rods: readonly Rod[];
  readonly crossLinks: readonly CrossLink[];
  /** Film scale used for all sizes, mm per pixel (from the vertebral widths). */
  readonly mmPerPx: number;
  /** Rod alloy, which sets the metal's attenuation. */
  readonly alloy: 'titanium' | 'cobalt-chrome' | 'stainless-steel';
  /** The curves found on the film (Cobb, end vertebrae), for the record. */
  readonly curves: readonly SpineCurve[];
}

/** Index of a level. */
export const levelIndex = (level: SpineLevel): number => SPINE_LEVELS.indexOf(level);
const levelAt = (i: number): SpineLevel => SPINE_LEVELS[Math.max(0, Math.min(SPINE_LEVELS.length - 1, i))] ?? 'T1';
const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
const T = (n: number): number => n - 1; // T1 -> 0
const L = (n: number): number => 11 + n; // L1 -> 12

/** Pick by weights. */
function pick<V>(r: PhantomRandom, options: readonly (readonly [V, number])[]): V {
  const total = options.reduce((s, [, w]) => s + w, 0);
  let u = r.float() * total;
  for (const [v, w] of options) {
    if ((u -= w) < 0) return v;
  }
  const lastOption = options[options.length - 1];
  if (!lastOption) throw new RangeError('pick from no options');
  return lastOption[0];
}

/**
 * Choose fusion levels for a posterior spinal fusion from the film's own curves (see the file comment).
 * @param vertebrae - geometry of T1–L5
 * @param r - the film's random stream
 */
export function chooseFusionLevels(
  vertebrae: readonly VertebraGeometry[],
  r: PhantomRandom,
): { upper: number; lower: number; pattern: string; curves: SpineCurve[] } {
  const curves = spineCurves(vertebrae);
  const major = curves.reduce<SpineCurve | null>((m, c) => (m === null || c.cobbDeg > m.cobbDeg ? c : m), null);
  const structural = (c: SpineCurve): boolean =>
    major !== null && c !== major && (c.cobbDeg >= 40 || c.cobbDeg >= 0.85 * major.cobbDeg);
  const find = (region: SpineCurve['region']): SpineCurve | undefined =>
    curves.find((c) => c.region === region && (c === major || structural(c)));
  const pt = find('pt');
  const mt = find('mt');
  const tl = find('tl');
  // the upper end vertebra or one above; the lower end vertebra to two below
  const above = (c: SpineCurve | undefined, fallback: number): number =>
    c ? c.upperEnd - pick(r, [[0, 0.6], [1, 0.4]]) : fallback;
  const below = (c: SpineCurve | undefined, fallback: number): number =>
    c ? c.lowerEnd + pick(r, [[0, 0.4], [1, 0.45], [2, 0.15]]) : fallback;
  // thoracolumbar/lumbar fusions end at the lower end vertebra, mostly L3, L4 when the curve ends lower
  // (Shufflebarger et al. 2004); the AASCE lower end is often L4–L5, where the pelvis tilts the last endplates
  const lumbarLower = (c: SpineCurve | undefined): number =>
    c && c.lowerEnd < L(4) ? clamp(c.lowerEnd + pick(r, [[0, 0.6], [1, 0.4]]), L(2), L(4)) : pick(r, [[L(3), 0.6], [L(4), 0.4]]);
  const typicalUpper = (): number => pick(r, [[T(3), 0.2], [T(4), 0.45], [T(5), 0.35]]);
  const typicalLower = (): number => pick(r, [[T(11), 0.15], [T(12), 0.35], [L(1), 0.35], [L(2), 0.15]]);
  let upper: number;
  let lower: number;
  let pattern: string;
  if (major === null || major.cobbDeg < 10) {
    // no measurable curve (a straight synthetic spine): the most common construct, T4–L1 ± a level
    pattern = 'main-thoracic';
    upper = typicalUpper();
    lower = typicalLower();
  } else if (major.region === 'tl' && !mt && !pt) {
    // Lenke 5: selective thoracolumbar/lumbar fusion
    pattern = 'thoracolumbar';
    upper = clamp(above(tl, T(10)), T(9), T(12));
    lower = lumbarLower(tl);
  } else {
    // Lenke 1–4, 6: the main thoracic curve, with the proximal thoracic and/or thoracolumbar curve when structural
    const withPt = pt !== undefined && (pt === major || structural(pt));
    const withTl = tl !== undefined;
    pattern = withPt && withTl ? 'triple-major' : withPt ? 'double-thoracic' : withTl ? 'double-major' : 'main-thoracic';
    upper = withPt ? pick(r, [[T(2), 0.75], [T(3), 0.25]]) : clamp(above(mt, typicalUpper()), T(3), T(6));
    lower = withTl ? lumbarLower(tl) : clamp(below(mt, typicalLower()), T(11), L(2));
  }
  // at least six instrumented vertebrae: AIS fusions shorter than that are not the posterior constructs simulated here
  if (lower - upper < 5) lower = Math.min(L(4), upper + 5);
  if (lower - upper < 5) upper = Math.max(T(2), lower - 5);
  return { upper, lower, pattern, curves };
}

/**
 * Medial convergence of a pedicle screw by level, degrees: the pedicle transverse angles of Zindrick 1987 and Panjabi
 * 1991 plus ≈ 5°, as screws are aimed convergent within the pedicle (assumption).
 */
const MEDIAL_ANGLE_DEG: readonly number[] = [27, 23, 19, 17, 15, 15, 14, 14, 14, 14, 13, 13, 15, 17, 20, 24, 28];

/** Signed lateral offset of each vertebra from the T1–L5 chord, in vertebral widths (for rotation). */
function chordOffsets(vertebrae: readonly VertebraGeometry[]): number[] {
  const a = vertebrae[0]?.centre ?? { x: 0, y: 0 };
  const b = vertebrae[vertebrae.length - 1]?.centre ?? a;
  const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  return vertebrae.map((v) => ((v.centre.x - a.x) * (b.y - a.y) - (v.centre.y - a.y) * (b.x - a.x)) / len / v.widthPx);
}

function screwAt(
  v: VertebraGeometry,
  side: ImageSide,
  mmPerPx: number,
  rotationShift: number,
  r: PhantomRandom,
): Anchor {
  const s = side === 'left' ? -1 : 1;
  const widthMm = v.widthPx * mmPerPx;
  const diameterMm = clamp(Math.round((0.15 * widthMm) * 2) / 2, 4, 7.5);
  const lengthMm = clamp(Math.round((0.9 * widthMm + 10) / 5) * 5, 25, 55);
  // pedicle oval: ≈ 0.3 body widths from the midline, in the upper half of the body; rotation shifts both pedicles
  const lateralFrac = 0.3 + 0.02 * r.normal();
  const along = -0.12 * v.heightPx + 0.04 * v.heightPx * r.normal();
  const across = (s * lateralFrac + rotationShift) * v.widthPx;
  const entry = {
    x: v.centre.x + v.lateral.x * across + v.axial.x * along,
    y: v.centre.y + v.lateral.y * across + v.axial.y * along,
  };
  // convergence: the tip points medially; rotation opens the convergence on the side the vertebra turns away from
  const medialDeg = clamp((MEDIAL_ANGLE_DEG[v.index] ?? 12) + 4 * r.normal() - s * rotationShift * 60, 3, 40);
  const sagittalDeg = clamp(6 + 6 * r.normal(), -8, 20); // tip a little caudal (straightforward to anatomic trajectory)
  const lengthPx = lengthMm / mmPerPx;
  // a screw reaches toward the midline of the body, not past it (a tip across the midline would breach the far
  // cortex): the projected medial reach is capped at the entry's distance from the midline plus 5 % of the width
  const reachPx = Math.max(0.1 * v.widthPx, s * across + 0.05 * v.widthPx);
  const medialPx = Math.min(lengthPx * Math.sin((medialDeg * Math.PI) / 180), reachPx);
  const caudalPx = lengthPx * Math.sin((sagittalDeg * Math.PI) / 180) * Math.cos((medialDeg * Math.PI) / 180);
  const tip = {
    x: entry.x - s * v.lateral.x * medialPx + v.axial.x * caudalPx,
    y: entry.y - s * v.lateral.y * medialPx + v.axial.y * caudalPx,
  };
  // the head sits dorsal to the entry point, projected just lateral of it
  const head = {
    x: entry.x + s * v.lateral.x * 0.06 * v.widthPx,
    y: entry.y + s * v.lateral.y * 0.06 * v.widthPx,
  };
  const beamAngleDeg = (Math.acos(Math.cos((medialDeg * Math.PI) / 180) * Math.cos((sagittalDeg * Math.PI) / 180)) * 180) / Math.PI;
  return { level: v.level, side, type: 'screw', head, tip, diameterMm, lengthMm, beamAngleDeg };
}

function hookAt(v: VertebraGeometry, side: ImageSide, mmPerPx: number, up: boolean, r: PhantomRandom): Anchor {
  const s = side === 'left' ? -1 : 1;
  const across = s * (0.32 + 0.03 * r.normal()) * v.widthPx;
  const along = (up ? -0.3 : 0.25) * v.heightPx;
  const head = {
    x: v.centre.x + v.lateral.x * across + v.axial.x * along,
    y: v.centre.y + v.lateral.y * across + v.axial.y * along,
  };
  // the blade hooks under the lamina or transverse process: it projects as a short band cranial (or caudal) of the head
  const bladePx = (up ? -1 : 1) * 0.55 * v.heightPx;
  const tip = { x: head.x + v.axial.x * bladePx - s * v.lateral.x * 0.05 * v.widthPx, y: head.y + v.axial.y * bladePx };
  return { level: v.level, side, type: 'hook', head, tip, diameterMm: 6, lengthMm: Math.abs(bladePx) * mmPerPx, beamAngleDeg: 70 };
}

/** Catmull–Rom resampling of a polyline (`perSegment` points per span), for smooth rods. */
function smoothPolyline(points: readonly Point[], perSegment: number): Point[] {
  if (points.length < 3) return [...points];
  const out: Point[] = [];
  const p = (i: number): Point => points[Math.max(0, Math.min(points.length - 1, i))] ?? { x: 0, y: 0 };
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = p(i - 1);
    const p1 = p(i);
    const p2 = p(i + 1);
    const p3 = p(i + 2);
    for (let k = 0; k < perSegment; k++) {
      const t = k / perSegment;
      const t2 = t * t;
      const t3 = t2 * t;
      const f = (a: number, b: number, c: number, d: number): number =>
        0.5 * (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3);
      out.push({ x: f(p0.x, p1.x, p2.x, p3.x), y: f(p0.y, p1.y, p2.y, p3.y) });
    }
  }
  out.push(p(points.length - 1));
  return out;
}

/** Extend a polyline beyond both ends along its end directions by `px`. */
function extend(points: readonly Point[], px: number): Point[] {
  const first = points[0];
  const second = points[1];
  const last = points[points.length - 1];
  const before = points[points.length - 2];
  if (!first || !second || !last || !before) return [...points];
  const dir = (a: Point, b: Point): Point => {
    const n = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    return { x: (b.x - a.x) / n, y: (b.y - a.y) / n };
  };
  const d0 = dir(second, first);
  const d1 = dir(before, last);
  return [{ x: first.x + d0.x * px, y: first.y + d0.y * px }, ...points, { x: last.x + d1.x * px, y: last.y + d1.y * px }];
}

/** Moving average of the x of a polyline ordered by y (rod contouring is smoother than the heads' scatter). */
function smoothX(points: readonly Point[], radius: number): Point[] {
  return points.map((p, i) => {
    let sx = 0;
    let n = 0;
    for (let k = Math.max(0, i - radius); k <= Math.min(points.length - 1, i + radius); k++) {
      sx += points[k]?.x ?? p.x;
      n++;
    }
    return { x: sx / n, y: p.y };
  });
}

/** Rod alloys in AIS constructs: titanium alloy, cobalt-chrome and stainless steel (a draw; assumption). */
function drawAlloy(r: PhantomRandom): Instrumentation['alloy'] {
  return pick(r, [['titanium', 0.45], ['cobalt-chrome', 0.4], ['stainless-steel', 0.15]] as const);
}

/**
 * Plan a posterior spinal fusion: levels, screws, rods, cross-links.
 * @param vertebrae - geometry of T1–L5 (from vertebraGeometry)
 * @param r - the film's random stream
 */
export function planFusion(vertebrae: readonly VertebraGeometry[], r: PhantomRandom): Instrumentation {
  const mmPerPx = mmPerPixel(vertebrae);
  const { upper, lower, pattern, curves } = chooseFusionLevels(vertebrae, r);
  const offsets = chordOffsets(vertebrae);
  const n = lower - upper + 1;
  const density = r.uniform(1.4, 2.0);
  const major = curves.reduce<SpineCurve | null>((m, c) => (m === null || c.cobbDeg > m.cobbDeg ? c : m), null);
  // end levels (two at each end) are bilateral; the inner slots kept are drawn to meet the density exactly,
  // concave apical pedicles (the narrowest) at 0.6 × the weight of the others
  const isEnd = (i: number): boolean => i - upper < 2 || lower - i < 2;
  const inner: { i: number; side: ImageSide; weight: number }[] = [];
  const kept = new Set<string>();
  for (let i = upper; i <= lower; i++)
    for (const side of ['left', 'right'] as const) {
      if (isEnd(i)) {
        kept.add(`${i}${side}`);
        continue;
      }
      const concave = major !== null && Math.abs(i - major.apex) <= 2 && (side === 'left' ? 1 : -1) === major.convexity;
      inner.push({ i, side, weight: concave ? 0.6 : 1 });
    }
  let wanted = clamp(Math.round(density * n) - kept.size, 0, inner.length);
  while (wanted-- > 0) {
    const total = inner.reduce((t, o) => t + o.weight, 0);
    let u = r.float() * total;
    let k = inner.findIndex((o) => (u -= o.weight) < 0);
    if (k < 0) k = inner.length - 1;
    const [slot] = inner.splice(k, 1);
    if (slot) kept.add(`${slot.i}${slot.side}`);
  }
  const screws: Anchor[] = [];
  for (let i = upper; i <= lower; i++) {
    const v = vertebrae[i];
    if (!v) continue;
    const rotationShift = clamp(-0.12 * (offsets[i] ?? 0), -0.1, 0.1);
    for (const side of ['left', 'right'] as const)
      if (kept.has(`${i}${side}`)) screws.push(screwAt(v, side, mmPerPx, rotationShift, r));
  }
  const rodDiameterMm = pick(r, [[5.5, 0.6], [6, 0.35], [6.35, 0.05]]);
  const rods = (['left', 'right'] as const).map((side) => rodThrough(screws.filter((s) => s.side === side), side, rodDiameterMm, mmPerPx));
  const crossLinks = planCrossLinks(rods, upper, lower, vertebrae, r);
  const anchored = [...new Set(screws.map((s) => s.level))];
  return {
    kind: 'fusion',
    levels: { upper: levelAt(upper), lower: levelAt(lower), anchored, pattern },
    screws: seatOnRods(screws, rods),
    rods,
    crossLinks,
    mmPerPx,
    alloy: drawAlloy(r),
    curves,
  };
}

/** A rod through the heads of one side, extended a little beyond the end anchors. */
function rodThrough(
  anchors: readonly Anchor[],
  side: ImageSide,
  diameterMm: number,
  mmPerPx: number,
): Rod {
  // Catmull–Rom through the heads: smooth, and every head stays on the rod
  const contoured = [...anchors].sort((a, b) => a.head.y - b.head.y).map((a) => a.head);
  const overhangPx = 10 / mmPerPx; // rods are cut ≈ 10 mm past the end heads
  return { side, points: smoothPolyline(extend(contoured, overhangPx), 8), diameterMm, connectors: [] };
}

/** The point of a rod at height y, linearly interpolated (null above or below the rod). */
function rodPointAtY(rod: Rod, y: number): Point | null {
  for (let i = 0; i + 1 < rod.points.length; i++) {
    const a = rod.points[i];
    const b = rod.points[i + 1];
    if (!a || !b || (y - a.y) * (y - b.y) > 0) continue;
    const t = b.y === a.y ? 0 : (y - a.y) / (b.y - a.y);
    return { x: a.x + (b.x - a.x) * t, y };
  }
  return null;
}

/** Anchors moved across so their heads sit on their side's rod (a polyaxial head is captured on the rod). */
function seatOnRods(anchors: readonly Anchor[], rods: readonly Rod[]): Anchor[] {
  return anchors.map((a) => {
    const rod = rods.find((r) => r.side === a.side);
    const p = rod ? rodPointAtY(rod, a.head.y) : null;
    if (!p) return a;
    const dx = p.x - a.head.x;
    return { ...a, head: { x: a.head.x + dx, y: a.head.y }, tip: { x: a.tip.x + dx, y: a.tip.y } };
  });
}

/** The rod point nearest a height y (rods are ordered cranial to caudal). */
function rodAtY(rod: Rod, y: number): Point | null {
  let best: Point | null = null;
  for (const p of rod.points) if (best === null || Math.abs(p.y - y) < Math.abs(best.y - y)) best = p;
  return best;
}

function planCrossLinks(
  rods: readonly Rod[],
  upper: number,
  lower: number,
  vertebrae: readonly VertebraGeometry[],
  r: PhantomRandom,
): CrossLink[] {
  const count = pick(r, [[0, 0.4], [1, 0.45], [2, 0.15]]);
  const [left, right] = rods;
  const out: CrossLink[] = [];
  if (!left || !right) return out;
  // at the disc space between two instrumented levels, away from the end levels (where heads crowd the rods)
  const candidates: number[] = [];
  for (let i = upper + 1; i < lower - 1; i++) candidates.push(i);
  for (let k = 0; k < count && candidates.length > 0; k++) {
    const i = candidates.splice(r.int(candidates.length), 1)[0] ?? upper;
    const a = vertebrae[i];
    const b = vertebrae[i + 1];
    if (!a || !b) continue;
    const y = (a.centre.y + b.centre.y) / 2;
    const pl = rodAtY(left, y);
    const pr = rodAtY(right, y);
    if (pl && pr) out.push({ left: pl, right: pr });
  }
  return out;
}

/**
 * Plan dual growing rods: a proximal and a distal foundation, rods between them, tandem connectors at the
 * thoracolumbar junction (see the file comment).
 * @param vertebrae - geometry of T1–L5
 * @param r - the film's random stream
 */
export function planGrowingRods(vertebrae: readonly VertebraGeometry[], r: PhantomRandom): Instrumentation {
  const mmPerPx = mmPerPixel(vertebrae);
  const curves = spineCurves(vertebrae);
  const top = pick(r, [[T(2), 0.4], [T(3), 0.4], [T(4), 0.2]]);
  const bottom = pick(r, [[L(2), 0.3], [L(3), 0.45], [L(4), 0.25]]);
  const screws: Anchor[] = [];
  const hooksProximal = r.float() < 0.35;
  const foundation = (levels: readonly number[], proximal: boolean): void => {
    const count = pick(r, [[2, 0.2], [3, 0.2], [4, 0.6]]);
    // two anchors per side on adjacent levels when there are 4; with 2–3, one level is bilateral, the other one-sided
    const slots: { i: number; side: ImageSide }[] = [];
    for (const i of levels) for (const side of ['left', 'right'] as const) slots.push({ i, side });
    while (slots.length > count) {
      // keep at least one anchor per side so both rods are anchored
      const drop = r.int(slots.length);
      const s = slots[drop];
      if (s && slots.filter((o) => o.side === s.side).length > 1) slots.splice(drop, 1);
    }
    for (const { i, side } of slots) {
      const v = vertebrae[i];
      if (!v) continue;
      if (proximal && hooksProximal) {
        // a claw: the upper level's hook points up, the lower level's down
        screws.push(hookAt(v, side, mmPerPx, i === levels[0], r));
      } else {
        screws.push(screwAt(v, side, mmPerPx, 0, r));
      }
    }
  };
  foundation([top, top + 1], true);
  foundation([bottom - 1, bottom], false);
  const rodDiameterMm = pick(r, [[4.5, 0.35], [5, 0.35], [5.5, 0.3]]);
  const straighten = r.uniform(0.2, 0.5);
  const rods = (['left', 'right'] as const).map((side) => {
    const own = screws.filter((s) => s.side === side).sort((a, b) => a.head.y - b.head.y);
    const first = own[0];
    const last = own[own.length - 1];
    if (!first || !last) return { side, points: [], diameterMm: rodDiameterMm, connectors: [] };
    // between the foundations the rod follows the spine's centre line (offset to its side), pulled toward the
    // straight line between the foundations: rods are contoured to the sagittal profile, not to the coronal curve
    const inner: Point[] = [];
    const offTop = first.head.x - (vertebrae[top]?.centre.x ?? first.head.x);
    const offBottom = last.head.x - (vertebrae[bottom]?.centre.x ?? last.head.x);
    for (let i = top + 2; i <= bottom - 2; i++) {
      const v = vertebrae[i];
      if (!v) continue;
      const t = (v.centre.y - first.head.y) / (last.head.y - first.head.y || 1);
      const along = v.centre.x + offTop + (offBottom - offTop) * t;
      const straight = first.head.x + (last.head.x - first.head.x) * t;
      inner.push({ x: along + (straight - along) * straighten, y: v.centre.y });
    }
    const path = smoothX([...own.map((a) => a.head), ...inner].sort((a, b) => a.y - b.y), 1);
    const points = smoothPolyline(extend(path, 10 / mmPerPx), 8);
    // tandem connector: a sleeve ≈ 40–60 mm long, 9–10 mm across, centred near T12–L1 (the two rods' junction)
    const junction = vertebrae[pick(r, [[T(11), 0.25], [T(12), 0.4], [L(1), 0.35]])];
    const lengthPx = r.uniform(40, 60) / mmPerPx;
    const y0 = (junction?.centre.y ?? 0) - lengthPx / 2 + r.normal() * 0.3 * (junction?.heightPx ?? 0);
    const from = rodAtY({ side, points, diameterMm: rodDiameterMm, connectors: [] }, y0);
    const to = rodAtY({ side, points, diameterMm: rodDiameterMm, connectors: [] }, y0 + lengthPx);
    const connectors = from && to ? [{ from, to, diameterMm: r.uniform(8.5, 10) }] : [];
    return { side, points, diameterMm: rodDiameterMm, connectors };
  });
  const anchored = [...new Set(screws.map((s) => s.level))];
  return {
    kind: 'growing-rod',
    levels: { upper: levelAt(top), lower: levelAt(bottom), anchored, pattern: hooksProximal ? 'growing-rod-hook-claw' : 'growing-rod-screws' },
    screws: seatOnRods(screws, rods),
    rods,
    crossLinks: [],
    mmPerPx,
    alloy: drawAlloy(r),
    curves,
  };
}
