/**
 * Attenuation line integrals through a 3-D model of a child's knee, one antero-posterior ray per pixel, with the
 * physis and ossification-centre labels each ray crosses.
 *
 * Why: the age signal of a knee film is the size and shape of the ossified epiphyses against their metaphyses, the
 * physes and the secondary centres (Pyle & Hoerr 1969; Roche, Wainer & Thissen 1975), and how bright each looks
 * depends on how much bone a ray crosses: a thin oval centre in a thick cartilage anlage is faint, a mature
 * condyle dense. So each bone is a 3-D body and the film integrates attenuation along rays (Beer–Lambert), never a
 * painted intensity. Bodies are of two kinds, each with a cortical shell and a trabecular interior, and each
 * giving its ray chord in closed form: (1) lofted bodies (diaphysis + metaphysis of femur, tibia, fibula) whose
 * cross-section at height z is an ellipse whose half-width flares from the shaft to the physis; (2) centres
 * (epiphyses, patella, fibular head, tibial tubercle, tibial spines) whose outline in the coronal plane is a
 * superellipse (exponent 2 = ellipse; larger = flatter, squarer) and whose depth at each point of the outline is
 * elliptic. Cartilage (anlagen, physes, articular cartilage) attenuates as soft tissue. Attenuation coefficients at
 * an effective energy of ≈ 40 keV, typical of 55–65 kVp paediatric knee technique (Hubbell & Seltzer, NIST X-ray
 * mass attenuation coefficients, NISTIR 5632: water 0.268 cm²/g; ICRU-44 cortical bone 0.665 cm²/g at 1.92 g/cm³).
 *
 * Frame: a left knee seen from the front, x towards the patient's left (lateral, the fibula's side), z proximal,
 * y anterior, origin at the centre of the joint line. A right knee is rendered as the mirror image.
 */
import { PhantomRandom, mixPhantomSeed } from '../../../radiograph/index.js';
import type { KneeAnatomy } from './growth.js';

/** Bits of the per-pixel structure labels (a ray may cross several). */
export const KNEE_STRUCTURE_BITS = Object.freeze({
  femoralPhysis: 1,
  tibialPhysis: 2,
  fibularPhysis: 4,
  femoralEpiphysis: 8,
  tibialEpiphysis: 16,
  patella: 32,
  fibularHead: 64,
  tibialTubercle: 128,
});
/** All physis bits (the physis mask). */
export const PHYSIS_MASK_BITS = 1 | 2 | 4;
/** All ossification-centre bits (the ossification mask). */
export const OSSIFICATION_MASK_BITS = 8 | 16 | 32 | 64 | 128;

/** Linear attenuation of soft tissue (water) at ≈ 40 keV, per mm (NISTIR 5632). */
export const MU_SOFT_PER_MM = 0.0268;
/** Linear attenuation of mature cortical bone at ≈ 40 keV, per mm (NISTIR 5632, ICRU-44 cortical bone). */
export const MU_CORTICAL_BONE_PER_MM = 0.0665 * 1.92;

/** Density of trabecular bone relative to cortical, near the physis (bone volume fraction ≈ 0.25–0.3). */
const TRABECULAR_DENSITY = 0.3;
/** Density of the diaphyseal marrow cavity relative to cortical bone. */
const MARROW_DENSITY = 0.04;

/** Chord of an ellipse of half-width `a` and half-depth `b`, at distance `d` from its axis. */
function ellipticChord(d: number, a: number, b: number): number {
  if (a <= 0 || b <= 0) return 0;
  const u = d / a;
  return u * u >= 1 ? 0 : 2 * b * Math.sqrt(1 - u * u);
}

/** A secondary centre: superellipse outline in x–z, elliptic depth, cortical shell. */
interface Centre {
  readonly cx: number;
  readonly cz: number;
  /** Half-width (x), half-heights above and below the centre (z), half-depth (y), mm. */
  readonly a: number;
  readonly cUp: number;
  readonly cDown: number;
  readonly b: number;
  /** Superellipse exponents of the upper and lower halves. */
  readonly pUp: number;
  readonly pDown: number;
  /** Cortical (subchondral plate) thickness, mm. */
  readonly shellMm: number;
  /** Interior density relative to cortical bone. */
  readonly interior: number;
  readonly bit: number;
}

/** Outer chord and interior chord of a centre at (x, z); zero when the ray misses. */
function centreChords(c: Centre, x: number, z: number, out: Float64Array): void {
  out[0] = 0;
  out[1] = 0;
  const dx = Math.abs(x - c.cx);
  if (dx >= c.a) return;
  const up = z >= c.cz;
  const h = up ? c.cUp : c.cDown;
  const dz = Math.abs(z - c.cz);
  if (dz >= h) return;
  const p = up ? c.pUp : c.pDown;
  const rho = ((dx / c.a) ** p + (dz / h) ** p) ** (1 / p);
  if (rho >= 1) return;
  out[0] = 2 * c.b * Math.sqrt(1 - rho * rho);
  const t = c.shellMm;
  const ai = c.a - t;
  const hi = h - t;
  if (ai <= 0 || hi <= 0 || dx >= ai || dz >= hi) return;
  const ri = ((dx / ai) ** p + (dz / hi) ** p) ** (1 / p);
  if (ri < 1) out[1] = 2 * Math.max(0, c.b - t) * Math.sqrt(1 - ri * ri);
}

/** Upper (or lower) outline of a centre at x: the z of its boundary on the physeal side. */
function centreEdge(c: Centre, x: number, upper: boolean): number | null {
  const dx = Math.abs(x - c.cx);
  if (dx >= c.a) return null;
  const p = upper ? c.pUp : c.pDown;
  const h = upper ? c.cUp : c.cDown;
  const dz = h * (1 - (dx / c.a) ** p) ** (1 / p);
  return upper ? c.cz + dz : c.cz - dz;
}

/** A long bone's shaft and metaphysis flaring towards its physis. */
interface Loft {
  readonly cx: number;
  /** z of the physis' centre line. */
  readonly physisZ: number;
  /** +1 when the shaft runs up from the physis (femur), −1 when down (tibia, fibula). */
  readonly direction: 1 | -1;
  readonly shaftHalfWidth: number;
  readonly metaphysisHalfWidth: number;
  /** Flare length, mm: how fast the metaphysis narrows to the shaft. */
  readonly flareMm: number;
  /** Depth / width of the cross-section. */
  readonly depthRatio: number;
  readonly cortexShaftMm: number;
  /** Open physis width, mm. */
  readonly physisWidthMm: number;
  /** Bridged fraction of the physis, 0..1, from the centre outwards. */
  readonly fusion: number;
  /** Undulation of the physis, mm (the distal femoral physis is gently W-shaped). */
  readonly undulationMm: number;
  /** The epiphysis the metaphysis meets once bridged. */
  readonly epiphysis: Centre | null;
  readonly physisBit: number;
}

/** z of a loft's physis centre line at x. */
function physisLine(l: Loft, x: number): number {
  const u = (x - l.cx) / l.metaphysisHalfWidth;
  return l.physisZ + l.undulationMm * Math.cos(2 * Math.PI * Math.max(-1, Math.min(1, u)));
}

/** Everything the projector needs about one film's knee, prepared once. */
export interface KneeModel {
  readonly lofts: readonly Loft[];
  readonly centres: readonly Centre[];
  /** Intercondylar notch (carved out of the femoral epiphysis' depth). */
  readonly notch: {
    readonly cz: number;
    readonly a: number;
    readonly c: number;
    readonly depthFraction: number;
  };
  readonly softHalfWidthMm: number;
  readonly softHalfDepthMm: number;
  readonly physealScar: number;
  /** Largest extent of the bones from the joint line, mm (for the field of view). */
  readonly femurMetaphysisWidthMm: number;
}

/**
 * Lay out the bones of one knee from its anatomy.
 * @param a - the anatomy at this skeletal age
 * @param axialRotationDeg - rotation of the limb about its long axis (external +): shifts the anterior patella and
 *   tubercle and the posterior fibula sideways against the femur and tibia, as a rotated knee shows
 */
export function kneeModel(a: KneeAnatomy, axialRotationDeg: number): KneeModel {
  const wf = a.femurMetaphysisWidthMm;
  const wt = a.tibiaMetaphysisWidthMm;
  const s = Math.sin((axialRotationDeg * Math.PI) / 180);
  const shift = (y: number): number => -y * s;
  const pw = a.physisWidthMm;
  const flat = a.epiphysisFlatness;
  // Articular cartilage over each ossified surface (≈ 2–3 mm at the knee in adolescence; thicker, with the
  // anlage, in childhood), so the radiographic joint space is wider in young children (Pyle & Hoerr 1969).
  const articularMm = 0.035 * wf;
  const shell = 0.4 + 0.012 * wf;

  // femur: physis at the top of the anlage
  const femurPhysisZ = 0.5 + a.femurEpiphysisHeightMm;
  const fAvail = a.femurEpiphysisHeightMm - articularMm - pw / 2;
  const fH = a.femurEpiphysisHeightFraction * fAvail;
  const fGap = (1 - a.femurEpiphysisHeightFraction) * fAvail * 0.45;
  const femurTop = femurPhysisZ - pw / 2 - fGap;
  const femurHalfWidth = (a.femurEpiphysisRatio * wf) / 2;
  const femoralEpiphysis: Centre = {
    cx: 0,
    cz: femurTop - 0.45 * fH,
    a: femurHalfWidth,
    cUp: 0.45 * fH,
    cDown: 0.55 * fH,
    b: 0.7 * femurHalfWidth,
    pUp: flat,
    pDown: 2 + 0.5 * a.condyleForm,
    shellMm: shell,
    interior: TRABECULAR_DENSITY * 0.9,
    bit: KNEE_STRUCTURE_BITS.femoralEpiphysis,
  };
  // tibia: physis at the bottom of its anlage
  const tibiaPhysisZ = -0.5 - a.tibiaEpiphysisHeightMm;
  const tAvail = a.tibiaEpiphysisHeightMm - articularMm - pw / 2;
  const tH = a.tibiaEpiphysisHeightFraction * tAvail;
  const tGap = (1 - a.tibiaEpiphysisHeightFraction) * tAvail * 0.45;
  const tibiaBottom = tibiaPhysisZ + pw / 2 + tGap;
  const tibiaHalfWidth = (a.tibiaEpiphysisRatio * wt) / 2;
  const tibialEpiphysis: Centre = {
    cx: 0,
    cz: tibiaBottom + 0.45 * tH,
    a: tibiaHalfWidth,
    cUp: 0.55 * tH,
    cDown: 0.45 * tH,
    b: 0.62 * tibiaHalfWidth,
    // the plateau flattens with the physeal side
    pUp: 2 + 0.75 * (flat - 2),
    pDown: flat,
    shellMm: shell,
    interior: TRABECULAR_DENSITY * 0.9,
    bit: KNEE_STRUCTURE_BITS.tibialEpiphysis,
  };
  const plateauZ = tibialEpiphysis.cz + tibialEpiphysis.cUp;
  const cf = a.condyleForm;
  const spine = (side: number): Centre => ({
    cx: side * 0.055 * wt,
    cz: plateauZ - 0.01 * wt,
    a: 0.035 * wt * cf,
    cUp: 0.055 * wt * cf,
    cDown: 0.02 * wt,
    b: 0.12 * wt * cf,
    pUp: 1.6,
    pDown: 2,
    shellMm: shell,
    interior: TRABECULAR_DENSITY * 1.3,
    bit: KNEE_STRUCTURE_BITS.tibialEpiphysis,
  });
  // fibula: lateral and posterior, its physis below the tibial one (the head's apex ≈ 1 cm below the plateau)
  const fibX = 0.41 * wt + shift(-0.22 * wt);
  const fibulaPhysisZ = tibiaPhysisZ - 0.1 * wt;
  const headMatureHalfWidth = 0.12 * wt;
  const fh = a.fibulaHeadSize;
  const fibularHead: Centre = {
    cx: fibX - 0.01 * wt,
    cz: fibulaPhysisZ + pw / 2 + 0.055 * wt * fh + (1 - fh) * 0.03 * wt,
    a: headMatureHalfWidth * fh,
    cUp: 0.06 * wt * fh,
    cDown: 0.05 * wt * fh,
    b: 0.1 * wt * fh,
    pUp: 2.2,
    pDown: 2 + 0.25 * (flat - 2),
    shellMm: shell * 0.8,
    interior: TRABECULAR_DENSITY,
    bit: KNEE_STRUCTURE_BITS.fibularHead,
  };
  // patella: anterior, lower pole ≈ a fifth of the femoral width above the joint line in extension
  const ps = a.patellaSize;
  const patella: Centre = {
    cx: 0.04 * wf + shift(0.55 * wf),
    cz: 0.2 * wf + 0.3 * wf,
    a: 0.29 * wf * ps,
    cUp: 0.3 * wf * ps,
    cDown: 0.3 * wf * ps,
    b: 0.14 * wf * ps,
    pUp: 2.1,
    pDown: 1.9,
    shellMm: shell,
    interior: TRABECULAR_DENSITY,
    bit: KNEE_STRUCTURE_BITS.patella,
  };
  // tibial tubercle apophysis: anterior, on the tongue of the epiphysis below the physis
  const ts = a.tubercleSize;
  const tubercle: Centre = {
    cx: 0.08 * wt + shift(0.4 * wt),
    cz: tibiaPhysisZ - 0.18 * wt,
    a: 0.08 * wt * ts,
    cUp: 0.14 * wt * ts,
    cDown: 0.14 * wt * ts,
    b: 0.06 * wt * ts,
    pUp: 2,
    pDown: 2,
    shellMm: shell * 0.7,
    interior: TRABECULAR_DENSITY,
    bit: KNEE_STRUCTURE_BITS.tibialTubercle,
  };
  const cortex = a.corticalThicknessMm;
  const lofts: Loft[] = [
    {
      cx: 0,
      physisZ: femurPhysisZ,
      direction: 1,
      shaftHalfWidth: a.femurShaftWidthMm / 2,
      metaphysisHalfWidth: wf / 2,
      flareMm: 0.42 * wf,
      depthRatio: 0.85,
      cortexShaftMm: cortex,
      physisWidthMm: pw,
      fusion: a.femurFusion,
      undulationMm: 0.008 * wf,
      epiphysis: femoralEpiphysis,
      physisBit: KNEE_STRUCTURE_BITS.femoralPhysis,
    },
    {
      cx: 0,
      physisZ: tibiaPhysisZ,
      direction: -1,
      shaftHalfWidth: a.tibiaShaftWidthMm / 2,
      metaphysisHalfWidth: wt / 2,
      flareMm: 0.5 * wt,
      depthRatio: 0.75,
      cortexShaftMm: cortex * 1.05,
      physisWidthMm: pw,
      fusion: a.tibiaFusion,
      undulationMm: 0.004 * wt,
      epiphysis: tibialEpiphysis,
      physisBit: KNEE_STRUCTURE_BITS.tibialPhysis,
    },
    {
      cx: fibX,
      physisZ: fibulaPhysisZ,
      direction: -1,
      shaftHalfWidth: 0.055 * wt,
      metaphysisHalfWidth: 0.105 * wt,
      flareMm: 0.18 * wt,
      depthRatio: 1,
      cortexShaftMm: 0.35 * cortex,
      physisWidthMm: pw * 0.8,
      fusion: a.fibulaFusion,
      undulationMm: 0,
      epiphysis: fh > 0 ? fibularHead : null,
      physisBit: KNEE_STRUCTURE_BITS.fibularPhysis,
    },
  ];
  const centres: Centre[] = [femoralEpiphysis, tibialEpiphysis];
  if (cf > 0.02) centres.push(spine(-1), spine(1));
  if (fh > 0) centres.push(fibularHead);
  if (ps > 0) centres.push(patella);
  if (ts > 0) centres.push(tubercle);
  return {
    lofts,
    centres,
    notch: {
      cz: femoralEpiphysis.cz - femoralEpiphysis.cDown,
      a: 0.08 * wf * cf,
      c: 0.6 * fH * cf,
      depthFraction: 0.35,
    },
    softHalfWidthMm: a.softTissueHalfWidthMm,
    softHalfDepthMm: 0.95 * a.softTissueHalfWidthMm,
    physealScar: a.physealScar,
    femurMetaphysisWidthMm: wf,
  };
}

/**
 * A trabecular texture in the knee frame: smooth value noise on a grid of cells elongated along the bone
 * (trabeculae of the metaphyses run mostly along the load axis), two octaves, mean 0, |v| ≲ 1.
 */
export class TrabecularTexture {
  private readonly grid: Float32Array;
  private readonly n: number;
  private readonly originMm: number;
  private readonly cellXMm: number;
  private readonly cellZMm: number;

  /**
   * @param seed - the child's texture seed
   * @param extentMm - half-side of the square the texture covers
   * @param scaleMm - trabecular spacing, mm
   */
  constructor(seed: number, extentMm: number, scaleMm: number) {
    this.cellXMm = scaleMm;
    this.cellZMm = 2.5 * scaleMm;
    this.originMm = -extentMm;
    this.n = Math.ceil((2 * extentMm) / this.cellXMm) + 2;
    const r = new PhantomRandom(mixPhantomSeed(seed, 0x7e87));
    this.grid = new Float32Array(this.n * this.n);
    for (let k = 0; k < this.grid.length; k++) this.grid[k] = 2 * r.float() - 1;
  }

  private lookup(gx: number, gz: number): number {
    const n = this.n;
    const ix = Math.max(0, Math.min(n - 2, Math.floor(gx)));
    const iz = Math.max(0, Math.min(n - 2, Math.floor(gz)));
    const fx = Math.max(0, Math.min(1, gx - ix));
    const fz = Math.max(0, Math.min(1, gz - iz));
    const g = this.grid;
    const v00 = g[iz * n + ix] ?? 0;
    const v10 = g[iz * n + ix + 1] ?? 0;
    const v01 = g[(iz + 1) * n + ix] ?? 0;
    const v11 = g[(iz + 1) * n + ix + 1] ?? 0;
    return (v00 * (1 - fx) + v10 * fx) * (1 - fz) + (v01 * (1 - fx) + v11 * fx) * fz;
  }

  /** Texture value at (x, z), mm. */
  at(x: number, z: number): number {
    const gx = (x - this.originMm) / this.cellXMm;
    const gz = (z - this.originMm) / this.cellZMm;
    return 0.65 * this.lookup(gx, gz) + 0.35 * this.lookup(2.1 * gx + 7.3, 2.1 * gz + 3.1);
  }
}

/** One ray's result. */
export interface RaySample {
  /** Line integral of attenuation (dimensionless). */
  attenuation: number;
  /** The bones' share of it (their excess over soft tissue). */
  bone: number;
  /** {@link KNEE_STRUCTURE_BITS} of the structures the ray crosses. */
  bits: number;
}

/**
 * Trace the antero-posterior ray through knee-frame point (x, z).
 * @param model - the knee
 * @param texture - the trabecular texture
 * @param x - lateral coordinate, mm
 * @param z - proximal coordinate, mm
 * @param muBone - (cortical − soft) attenuation per mm, scaled by density and tube contrast
 * @param bandMm - least half-width of a physis label band (about one pixel, so a closing physis stays visible)
 * @param out - receives the result
 * @param chords - scratch, two entries
 */
export function traceKneeRay(
  model: KneeModel,
  texture: TrabecularTexture,
  x: number,
  z: number,
  muBone: number,
  bandMm: number,
  out: RaySample,
  chords: Float64Array,
): void {
  const soft = ellipticChord(x, model.softHalfWidthMm, model.softHalfDepthMm);
  let cortical = 0;
  let trabecular = 0;
  let bits = 0;
  const tex = texture.at(x, z);
  for (const l of model.lofts) {
    const pz = physisLine(l, x);
    const d = (z - pz) * l.direction;
    const dx = x - l.cx;
    // the physis band: always labelled where the bone is (it stays the region of interest after fusion)
    // (inside the metaphysis' edge, which narrows at once above the physis as the flare begins)
    if (
      Math.abs(dx) < 0.97 * l.metaphysisHalfWidth - 0.5 * bandMm &&
      Math.abs(z - pz) < Math.max(l.physisWidthMm / 2, bandMm)
    )
      bits |= l.physisBit;
    // Where the physis is bridged the metaphysis reaches down to the epiphysis; elsewhere it stops at the band.
    let start = l.physisWidthMm / 2;
    const bridged = l.fusion > 0 && Math.abs(dx) < l.fusion * l.metaphysisHalfWidth;
    if (bridged && l.epiphysis) {
      const edge = centreEdge(l.epiphysis, x, l.direction === 1);
      if (edge !== null) start = Math.min(start, (edge - pz) * l.direction);
    }
    if (d < start) continue;
    // distance from the metaphysis' physeal end: full metaphyseal width there, narrowing towards the shaft
    const dd = Math.max(0, d - l.physisWidthMm / 2);
    const flare = Math.exp(-dd / l.flareMm);
    const half = l.shaftHalfWidth + (l.metaphysisHalfWidth - l.shaftHalfWidth) * flare;
    const outer = ellipticChord(dx, half, half * l.depthRatio);
    if (outer <= 0) continue;
    // thin cortex at the metaphysis, thickening up the shaft
    const t = Math.min(0.45 * half, 0.5 + (l.cortexShaftMm - 0.5) * (1 - Math.exp(-dd / (0.8 * l.flareMm))));
    const inner = ellipticChord(dx, half - t, half * l.depthRatio - t);
    cortical += outer - inner;
    // trabecular bone near the physis, marrow up the shaft; the zone of provisional calcification is a dense band
    // at the metaphyseal side of an open physis (Ogden 2000), the physeal scar a fainter one after fusion
    let density = MARROW_DENSITY + (TRABECULAR_DENSITY - MARROW_DENSITY) * Math.exp(-dd / (1.1 * l.flareMm));
    if (l.physisWidthMm > 0 && d < l.physisWidthMm / 2 + 0.9) density += 0.35 * (1 - l.fusion);
    if (Math.abs(d) < 0.8) density += 0.3 * model.physealScar;
    trabecular += inner * density * (1 + 0.45 * tex * Math.min(1, flare * 2.5));
  }
  const notch = model.notch;
  for (const c of model.centres) {
    centreChords(c, x, z, chords);
    let outer = chords[0] ?? 0;
    if (outer <= 0) continue;
    let inner = chords[1] ?? 0;
    bits |= c.bit;
    if (c.bit === KNEE_STRUCTURE_BITS.femoralEpiphysis && notch.a > 0 && notch.c > 0) {
      // the intercondylar notch opens posteriorly: it removes part of the depth, not the whole ray
      const u = (x - c.cx) / notch.a;
      const w = (z - notch.cz) / notch.c;
      const rr = u * u + w * w;
      if (rr < 1) {
        const keep = 1 - notch.depthFraction * Math.sqrt(1 - rr);
        outer *= keep;
        inner *= keep;
      }
    }
    cortical += outer - inner;
    trabecular += inner * c.interior * (1 + 0.35 * tex);
  }
  out.bone = muBone * (cortical + trabecular);
  out.attenuation = MU_SOFT_PER_MM * soft + out.bone;
  out.bits = bits;
}
