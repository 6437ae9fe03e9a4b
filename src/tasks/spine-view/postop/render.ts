/**
 * Put planned metal on a real film: rasterise each implant as metal path length along the beam, attenuate the film
 * through it in the film's own intensity domain, blur to the film's own edge sharpness, add a slight glare halo and
 * the film's own noise over the metal.
 *
 * Why this model: a processed radiograph displayed bone-bright is, to a first approximation, a saturating function
 * of the log attenuation along each ray, v = W·(1 − exp(−A/A₀)) with W the film's white level. Adding metal of path
 * length t adds μ·t to A, so the film's distance from white, W − v, is multiplied by the metal's transmission
 * exp(−κ·t) (Beer–Lambert in the film's domain; κ = μ/A₀ per mm). Metal is ≈ 10–40 × as attenuating as cortical
 * bone at diagnostic energies (NIST XCOM mass attenuation × density at ≈ 60 keV: titanium ≈ 1.4 cm⁻¹, iron/cobalt
 * ≈ 9 cm⁻¹, cortical bone ≈ 0.6 cm⁻¹), so a 6 mm rod is near white and a screw seen along its shank saturates.
 * Pixels are sampled 3 × 3 so thin implants keep their partial-volume brightness; the result is blurred with the
 * Gaussian width of the film's own bone edges (the AASCE films were downsampled, their edges span ≈ 1 px), so the
 * metal is no sharper than the anatomy. Detector glare spreads signal into the metal's surroundings; on a
 * bone-bright display that is a faint bright halo. The transmission also scales the film's noise down under the
 * metal, so noise of the film's own level is added back there (otherwise the metal looks pasted on).
 */
import { boxGaussian, PhantomRandom } from '../../../radiograph/index.js';
import type { Point } from './landmarks.js';
import type { Anchor, CrossLink, Instrumentation, Rod } from './plan.js';

/** A grey film, row-major, values in [0, 1], bone bright (MONOCHROME2 display). */
export interface SpineFilm {
  readonly width: number;
  readonly height: number;
  readonly pixels: Float32Array;
}

/** Metal attenuation in the film's domain per mm of path (κ), by alloy (relative values after XCOM; assumption of scale). */
export const METAL_KAPPA_PER_MM = Object.freeze({
  titanium: 0.3,
  'cobalt-chrome': 0.55,
  'stainless-steel': 0.6,
});

/** Supersampling factor of the metal raster. */
const SS = 3;

/** A local raster of one implant (max-combined within it, summed into the film's metal map). */
class Patch {
  readonly data: Float32Array;
  constructor(
    readonly x0: number,
    readonly y0: number,
    readonly w: number,
    readonly h: number,
  ) {
    this.data = new Float32Array(Math.max(0, w * h));
  }
}

/** Bounds of a set of points (in film pixels) grown by `pad`, clipped to the hi-res canvas. */
function patchFor(points: readonly Point[], padPx: number, width: number, height: number): Patch | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const p of points) {
    x0 = Math.min(x0, p.x);
    y0 = Math.min(y0, p.y);
    x1 = Math.max(x1, p.x);
    y1 = Math.max(y1, p.y);
  }
  const X0 = Math.max(0, Math.floor((x0 - padPx) * SS));
  const Y0 = Math.max(0, Math.floor((y0 - padPx) * SS));
  const X1 = Math.min(width * SS, Math.ceil((x1 + padPx) * SS));
  const Y1 = Math.min(height * SS, Math.ceil((y1 + padPx) * SS));
  if (X1 <= X0 || Y1 <= Y0) return null;
  return new Patch(X0, Y0, X1 - X0, Y1 - Y0);
}

/**
 * A tube from a to b (radii ra → rb, px) whose path length across is `scale` × its chord, in mm of metal
 * (`mmPerPx`); rounded (spherical) ends when `caps`.
 */
function drawTube(
  patch: Patch,
  a: Point,
  b: Point,
  raPx: number,
  rbPx: number,
  scale: number,
  mmPerPx: number,
  caps: boolean,
  capMm = Infinity,
): void {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy || 1e-9;
  const rMax = Math.max(raPx, rbPx);
  const xs0 = Math.max(patch.x0, Math.floor((Math.min(a.x, b.x) - rMax) * SS));
  const xs1 = Math.min(patch.x0 + patch.w, Math.ceil((Math.max(a.x, b.x) + rMax) * SS));
  const ys0 = Math.max(patch.y0, Math.floor((Math.min(a.y, b.y) - rMax) * SS));
  const ys1 = Math.min(patch.y0 + patch.h, Math.ceil((Math.max(a.y, b.y) + rMax) * SS));
  for (let Y = ys0; Y < ys1; Y++) {
    const py = (Y + 0.5) / SS;
    for (let X = xs0; X < xs1; X++) {
      const px = (X + 0.5) / SS;
      const tRaw = ((px - a.x) * dx + (py - a.y) * dy) / len2;
      if (!caps && (tRaw < 0 || tRaw > 1)) continue;
      const t = tRaw < 0 ? 0 : tRaw > 1 ? 1 : tRaw;
      const r = raPx + (rbPx - raPx) * t;
      const ux = px - (a.x + dx * t);
      const uy = py - (a.y + dy * t);
      const u2 = ux * ux + uy * uy;
      if (u2 >= r * r) continue;
      const path = Math.min(capMm, scale * 2 * Math.sqrt(r * r - u2) * mmPerPx);
      const k = (Y - patch.y0) * patch.w + (X - patch.x0);
      if (path > (patch.data[k] ?? 0)) patch.data[k] = path;
    }
  }
}

/**
 * A superellipse block (|x/a|⁴ + |y/b|⁴ ≤ 1) centred at c, axes along `dir`, of metal depth `depthMm`; the two
 * outer quarters across carry `wallMm` (the arms of a screw's tulip head, seen end-on by the beam).
 */
function drawBlock(
  patch: Patch,
  c: Point,
  dir: Point,
  halfAcrossPx: number,
  halfAlongPx: number,
  depthMm: number,
  wallMm: number,
): void {
  const r = Math.max(halfAcrossPx, halfAlongPx);
  const xs0 = Math.max(patch.x0, Math.floor((c.x - r) * SS));
  const xs1 = Math.min(patch.x0 + patch.w, Math.ceil((c.x + r) * SS));
  const ys0 = Math.max(patch.y0, Math.floor((c.y - r) * SS));
  const ys1 = Math.min(patch.y0 + patch.h, Math.ceil((c.y + r) * SS));
  for (let Y = ys0; Y < ys1; Y++) {
    const py = (Y + 0.5) / SS - c.y;
    for (let X = xs0; X < xs1; X++) {
      const px = (X + 0.5) / SS - c.x;
      const across = (px * dir.x + py * dir.y) / halfAcrossPx;
      const along = (-px * dir.y + py * dir.x) / halfAlongPx;
      const q = across ** 4 + along ** 4;
      if (q >= 1) continue;
      // soften the rim so the block's outline is not a hard polygon at 3× sampling
      const rim = Math.min(1, (1 - q) * 4);
      const depth = (Math.abs(across) > 0.55 ? wallMm : depthMm) * Math.sqrt(rim);
      const k = (Y - patch.y0) * patch.w + (X - patch.x0);
      if (depth > (patch.data[k] ?? 0)) patch.data[k] = depth;
    }
  }
}

/** The metal map of one film: κ-weighted path length (exponent of the transmission) at 3× sampling. */
class MetalCanvas {
  readonly hiW: number;
  readonly hiH: number;
  readonly exponent: Float32Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.hiW = width * SS;
    this.hiH = height * SS;
    this.exponent = new Float32Array(this.hiW * this.hiH);
  }

  /** Add an implant's patch, its path lengths weighted by κ (overlapping implants sum, as path lengths do). */
  add(patch: Patch | null, kappaPerMm: number): void {
    if (!patch) return;
    for (let y = 0; y < patch.h; y++) {
      const row = (patch.y0 + y) * this.hiW + patch.x0;
      for (let x = 0; x < patch.w; x++) {
        const v = patch.data[y * patch.w + x] ?? 0;
        if (v > 0) this.exponent[row + x] = (this.exponent[row + x] ?? 0) + kappaPerMm * v;
      }
    }
  }

  /** Opacity 1 − transmission, averaged over each film pixel's 3 × 3 samples. */
  opacity(): Float32Array {
    const out = new Float32Array(this.width * this.height);
    for (let y = 0; y < this.height; y++)
      for (let x = 0; x < this.width; x++) {
        let s = 0;
        for (let j = 0; j < SS; j++)
          for (let i = 0; i < SS; i++) {
            const e = this.exponent[(y * SS + j) * this.hiW + x * SS + i] ?? 0;
            if (e > 0) s += 1 - Math.exp(-e);
          }
        out[y * this.width + x] = s / (SS * SS);
      }
    return out;
  }
}

function unitBetween(a: Point, b: Point): Point {
  const n = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  return { x: (b.x - a.x) / n, y: (b.y - a.y) / n };
}

/** Direction of a rod near height y (for orienting the heads on it). */
function rodDirectionAt(rod: Rod | undefined, y: number): Point {
  if (!rod || rod.points.length < 2) return { x: 0, y: 1 };
  let k = 0;
  for (let i = 0; i < rod.points.length; i++)
    if (Math.abs((rod.points[i]?.y ?? 0) - y) < Math.abs((rod.points[k]?.y ?? 0) - y)) k = i;
  const a = rod.points[Math.max(0, k - 1)] ?? { x: 0, y: 0 };
  const b = rod.points[Math.min(rod.points.length - 1, k + 1)] ?? { x: 0, y: 1 };
  return unitBetween(a, b);
}

function drawAnchor(canvas: MetalCanvas, s: Anchor, rod: Rod | undefined, mmPerPx: number): Patch | null {
  const headHalfPx = 5.5 / mmPerPx; // a tulip ≈ 11 mm across
  const patch = patchFor([s.head, s.tip], headHalfPx * 1.5, canvas.width, canvas.height);
  if (!patch) return null;
  const along = rodDirectionAt(rod, s.head.y);
  const across = { x: along.y, y: -along.x };
  if (s.type === 'screw') {
    const r = s.diameterMm / 2 / mmPerPx;
    // seen at beamAngle from its axis, a ray crosses the shank over chord / sin(angle), at most the whole length
    const sinA = Math.max(Math.sin((s.beamAngleDeg * Math.PI) / 180), 0.15);
    const shankEnd = { x: s.head.x + (s.tip.x - s.head.x) * 0.88, y: s.head.y + (s.tip.y - s.head.y) * 0.88 };
    drawTube(patch, s.head, shankEnd, r, r * 0.7, 1 / sinA, mmPerPx, true, s.lengthMm);
    drawTube(patch, shankEnd, s.tip, r * 0.7, r * 0.15, 1 / sinA, mmPerPx, false, s.lengthMm); // the tapered point
    drawBlock(patch, s.head, across, headHalfPx, 4.5 / mmPerPx, 8, 13);
  } else {
    // a hook: a smaller body on the rod and a blade plate under the lamina, seen obliquely
    drawBlock(patch, s.head, across, 5 / mmPerPx, 4.5 / mmPerPx, 8, 11);
    drawTube(patch, s.head, s.tip, 2.8 / mmPerPx, 2.2 / mmPerPx, 1.6, mmPerPx, true);
  }
  return patch;
}

function drawRod(canvas: MetalCanvas, rod: Rod, mmPerPx: number): Patch | null {
  if (rod.points.length < 2) return null;
  const ends = rod.connectors.flatMap((c) => [c.from, c.to]);
  const patch = patchFor([...rod.points, ...ends], 8 / mmPerPx, canvas.width, canvas.height);
  if (!patch) return null;
  const r = rod.diameterMm / 2 / mmPerPx;
  for (let i = 0; i + 1 < rod.points.length; i++) {
    const a = rod.points[i];
    const b = rod.points[i + 1];
    if (a && b) drawTube(patch, a, b, r, r, 1, mmPerPx, true);
  }
  for (const c of rod.connectors) {
    const rc = c.diameterMm / 2 / mmPerPx;
    drawTube(patch, c.from, c.to, rc, rc, 1, mmPerPx, true);
    // set-screw bosses at both ends of the sleeve
    for (const p of [c.from, c.to]) drawBlock(patch, p, { x: 1, y: 0 }, rc * 1.25, rc * 0.6, 9, 9);
  }
  return patch;
}

function drawCrossLink(canvas: MetalCanvas, c: CrossLink, mmPerPx: number): Patch | null {
  const patch = patchFor([c.left, c.right], 8 / mmPerPx, canvas.width, canvas.height);
  if (!patch) return null;
  const dir = unitBetween(c.left, c.right);
  // a plate ≈ 6 mm tall seen face-on (≈ 4 mm of metal), clamps ≈ 9 mm on each rod
  drawTube(patch, c.left, c.right, 3 / mmPerPx, 3 / mmPerPx, 0.7, mmPerPx, true, 4.5);
  for (const p of [c.left, c.right]) drawBlock(patch, p, dir, 5 / mmPerPx, 4.5 / mmPerPx, 9, 9);
  return patch;
}

/**
 * Separable Gaussian blur with a sampled kernel (σ in pixels, edges clamped).
 *
 * Why not the phantoms' boxGaussian: its box widths are whole pixels, so a sub-pixel σ (the 0.6–1 px edge blur of
 * a downsampled film) rounds to σ ≈ 1.4 px or to none; the metal's edge must match the film's to a fraction of a
 * pixel. The wide glare halo uses boxGaussian.
 */
export function gaussianBlur(data: Float32Array, width: number, height: number, sigmaPx: number): Float32Array {
  if (sigmaPx <= 0.05) return data.slice();
  const radius = Math.ceil(3 * sigmaPx);
  const kernel: number[] = [];
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    const w = Math.exp((-k * k) / (2 * sigmaPx * sigmaPx));
    kernel.push(w);
    sum += w;
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] = (kernel[k] ?? 0) / sum;
  const tmp = new Float32Array(data.length);
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = x + k < 0 ? 0 : x + k >= width ? width - 1 : x + k;
        s += (kernel[k + radius] ?? 0) * (data[y * width + xx] ?? 0);
      }
      tmp[y * width + x] = s;
    }
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = -radius; k <= radius; k++) {
        const yy = y + k < 0 ? 0 : y + k >= height ? height - 1 : y + k;
        s += (kernel[k + radius] ?? 0) * (tmp[yy * width + x] ?? 0);
      }
      out[y * width + x] = s;
    }
  return out;
}

/**
 * The film's noise SD: robust (MAD) SD of the residual from the 4-neighbour mean, scaled for white noise
 * (the residual of white noise has variance σ²·(1 + 1/4)).
 * @param film - the film
 */
export function estimateNoiseSd(film: SpineFilm): number {
  const { width: w, height: h, pixels: p } = film;
  const res: number[] = [];
  const step = Math.max(1, Math.floor((w * h) / 40_000));
  for (let k = 0; k < w * h; k += step) {
    const x = k % w;
    const y = Math.floor(k / w);
    if (x < 1 || y < 1 || x >= w - 1 || y >= h - 1) continue;
    const m = ((p[k - 1] ?? 0) + (p[k + 1] ?? 0) + (p[k - w] ?? 0) + (p[k + w] ?? 0)) / 4;
    res.push(Math.abs((p[k] ?? 0) - m));
  }
  if (res.length === 0) return 0;
  res.sort((a, b) => a - b);
  return (1.4826 * (res[Math.floor(res.length / 2)] ?? 0)) / Math.sqrt(1.25);
}

/**
 * The Gaussian width of the film's own strong edges, pixels: the second moment of the derivative across each of
 * the strongest 1 % of edges (for a step blurred by σ it is σ; the pixel's own ≈ 1/12 px² is removed), median,
 * clamped to [0.4, 2.0].
 * @param film - the film
 */
export function estimateEdgeSigmaPx(film: SpineFilm): number {
  const { width: w, height: h, pixels: p } = film;
  const at = (x: number, y: number): number => p[y * w + x] ?? 0;
  const g = new Float32Array(w * h);
  for (let y = 4; y < h - 4; y++)
    for (let x = 4; x < w - 4; x++) {
      const gx = at(x + 1, y) - at(x - 1, y);
      const gy = at(x, y + 1) - at(x, y - 1);
      g[y * w + x] = Math.sqrt(gx * gx + gy * gy);
    }
  if ((w - 8) * (h - 8) < 100) return 0.8;
  // the strongest 1 % of edges (threshold from the sorted magnitudes, a typed sort)
  const sorted = g.slice().sort();
  const threshold = sorted[Math.floor(0.99 * (sorted.length - 1))] ?? 0;
  const widths: number[] = [];
  for (let k = 0; k < g.length; k++) {
    if (!((g[k] ?? 0) > threshold && threshold > 0)) continue;
    const x = k % w;
    const y = Math.floor(k / w);
    const horizontal = Math.abs(at(x + 1, y) - at(x - 1, y)) >= Math.abs(at(x, y + 1) - at(x, y - 1));
    const d: number[] = [];
    for (let i = -3; i < 3; i++)
      d.push(horizontal ? at(x + i + 1, y) - at(x + i, y) : at(x, y + i + 1) - at(x, y + i));
    const sign = Math.sign(d.reduce((s, v) => s + v, 0)) || 1;
    let m0 = 0;
    let m1 = 0;
    let m2 = 0;
    d.forEach((v, i) => {
      const a = Math.max(0, v * sign);
      const pos = i - 3 + 0.5;
      m0 += a;
      m1 += a * pos;
      m2 += a * pos * pos;
    });
    if (m0 <= 0) continue;
    const mean = m1 / m0;
    widths.push(Math.sqrt(Math.max(0, m2 / m0 - mean * mean - 1 / 12)));
  }
  widths.sort((a, b) => a - b);
  const med = widths[Math.floor(widths.length / 2)] ?? 0.8;
  return Math.min(2, Math.max(0.4, med));
}

/** What compositing did, for the record. */
export interface CompositeDetail {
  readonly whiteLevel: number;
  readonly edgeSigmaPx: number;
  readonly noiseSd: number;
  readonly haloSigmaPx: number;
  readonly haloGain: number;
}

/** Opacity at which a pixel counts as metal in the mask. */
export const METAL_MASK_OPACITY = 0.04;

/**
 * Render planned instrumentation onto a film.
 * @param film - bone-bright film in [0, 1]
 * @param plan - from planFusion / planGrowingRods
 * @param r - the film's random stream (halo, white level, noise)
 * @returns the new pixels, the metal mask (1 = metal) and the compositing parameters
 */
export function renderMetal(
  film: SpineFilm,
  plan: Instrumentation,
  r: PhantomRandom,
): { pixels: Float32Array; metalMask: Uint8Array; detail: CompositeDetail } {
  const { width, height } = film;
  const canvas = new MetalCanvas(width, height);
  const jitter = r.uniform(0.85, 1.15);
  const kappaRod = METAL_KAPPA_PER_MM[plan.alloy] * jitter;
  // screws are titanium alloy unless the construct is stainless steel throughout
  const kappaScrew = METAL_KAPPA_PER_MM[plan.alloy === 'stainless-steel' ? 'stainless-steel' : 'titanium'] * jitter;
  for (const rod of plan.rods) canvas.add(drawRod(canvas, rod, plan.mmPerPx), kappaRod);
  for (const c of plan.crossLinks) canvas.add(drawCrossLink(canvas, c, plan.mmPerPx), kappaRod);
  for (const s of plan.screws)
    canvas.add(drawAnchor(canvas, s, plan.rods.find((rod) => rod.side === s.side), plan.mmPerPx), kappaScrew);
  const edgeSigmaPx = estimateEdgeSigmaPx(film);
  const opacity = gaussianBlur(canvas.opacity(), width, height, edgeSigmaPx);
  const noiseSd = estimateNoiseSd(film);
  const sorted = Float32Array.from(film.pixels).sort();
  const p995 = sorted[Math.floor(0.995 * (sorted.length - 1))] ?? 1;
  const whiteLevel = Math.min(1, Math.max(p995 + 0.03, r.uniform(0.93, 0.99)));
  const haloSigmaPx = r.uniform(3, 6) / Math.max(plan.mmPerPx, 1e-3); // glare spreads a few mm
  const haloGain = r.uniform(0.04, 0.1);
  const halo = boxGaussian(opacity, width, height, haloSigmaPx);
  const pixels = new Float32Array(width * height);
  const metalMask = new Uint8Array(width * height);
  const noise = new PhantomRandom(r.int(2 ** 31));
  for (let k = 0; k < pixels.length; k++) {
    const v = film.pixels[k] ?? 0;
    const o = opacity[k] ?? 0;
    const gap = Math.max(0, whiteLevel - v);
    // glare: a faint halo, strongest at the metal's edge (where opacity is still low), none inside saturated metal
    let out = v + gap * o + gap * (1 - o) * haloGain * (halo[k] ?? 0);
    // under the metal the film's own noise was scaled by the transmission (1 − o): add it back to its level
    if (o > 1e-3) out += noiseSd * Math.sqrt(Math.max(0, 1 - (1 - o) * (1 - o))) * noise.normal();
    pixels[k] = out < 0 ? 0 : out > 1 ? 1 : out;
    if (o >= METAL_MASK_OPACITY) metalMask[k] = 1;
  }
  return { pixels, metalMask, detail: { whiteLevel, edgeSigmaPx, noiseSd, haloSigmaPx, haloGain } };
}
