/**
 * Attenuation line integrals through a 3-D model of the infant head, one parallel ray per pixel, with the masks
 * of the sutures and fontanelles each ray crosses.
 *
 * Why: the age signal of a skull film lives in the sutures, fontanelles, calvarial thickness and density (Lee et
 * al., Sci Rep 2024;14:16600), and how they look on a film depends on projection: a 1.5 mm suture seen face-on is
 * a faint lucent line, seen tangentially a gap in the bright rim. Projecting a 3-D model gets both right without
 * drawing them by hand. The calvarium is an ellipsoidal shell (outer surface minus inner surface, each chord in
 * closed form: the roots of a quadratic per ray), with sutures and fontanelles as gaps along curves on its
 * surface; skull base, face, orbits, mandible and upper cervical spine are denser ellipsoids; scalp, brain, face
 * and neck are one soft-tissue union. Attenuation coefficients at an effective energy of ≈ 40 keV, typical of
 * 60–70 kVp paediatric skull technique (Hubbell & Seltzer, NIST X-ray mass attenuation coefficients, NISTIR 5632:
 * water 0.268 cm²/g; ICRU-44 cortical bone 0.665 cm²/g at 1.92 g/cm³).
 */
import type { InfantAnatomy } from './growth.js';

/** The projection: antero-posterior (frontal) or left lateral. */
export type PhantomView = 'AP' | 'LATERAL';

/** Bits of the per-pixel structure labels (a ray may cross several). */
export const STRUCTURE_BITS = Object.freeze({
  sagittal: 1,
  metopic: 2,
  coronal: 4,
  lambdoid: 8,
  squamosal: 16,
  anteriorFontanelle: 32,
  posteriorFontanelle: 64,
  /** The vault seen edge-on: see {@link CALVARIUM_RIM_PATH_FACTOR}. */
  calvarium: 128,
});
/** All suture bits. */
export const SUTURE_MASK_BITS = 1 | 2 | 4 | 8 | 16;
/** All fontanelle bits. */
export const FONTANELLE_MASK_BITS = 32 | 64;
/** The calvarium bit. */
export const CALVARIUM_MASK_BITS = 128;

/**
 * A ray is labelled calvarium when its path through vault bone is at least this many times a face-on ray's (two walls
 * of the calvarial thickness each): the band along the head's outline where the walls meet the beam at more than
 * about 60° and the vault shows as the bright rim whose width and brightness carry its thickness, density and the
 * head's size. Why not every ray through vault bone: every ray through the head crosses two walls, so that region is
 * the whole head (half the film), and a map could not be told apart from chance on it.
 */
export const CALVARIUM_RIM_PATH_FACTOR = 2;

/** Linear attenuation of soft tissue (water) at ≈ 40 keV, per mm (NISTIR 5632). */
export const MU_SOFT_PER_MM = 0.0268;
/** Linear attenuation of mature cortical bone at ≈ 40 keV, per mm (NISTIR 5632, ICRU-44 cortical bone). */
export const MU_CORTICAL_BONE_PER_MM = 0.0665 * 1.92;

type Vec3 = [number, number, number];

/** Where the film sits relative to the head: head-frame ray origin per pixel and the ray direction. */
export interface ProjectionGeometry {
  readonly view: PhantomView;
  readonly width: number;
  readonly height: number;
  /** Pixel size at the object (detector spacing / magnification), mm. */
  readonly objectPixelMm: number;
  /** Head-frame origin of the ray through pixel (0, 0), mm. */
  readonly origin: Vec3;
  /** Change of the origin per column, mm. */
  readonly perColumn: Vec3;
  /** Change of the origin per row, mm. */
  readonly perRow: Vec3;
  /** Unit ray direction in the head frame. */
  readonly direction: Vec3;
}

/** The projection of one head: attenuation and structure labels per pixel. */
export interface Projection {
  /** Line integral of attenuation, μ·L summed over tissues (dimensionless), row-major. */
  readonly attenuation: Float32Array;
  /** The calvarium's share of `attenuation` (its excess over soft tissue). */
  readonly calvarium: Float32Array;
  /** {@link STRUCTURE_BITS} of the sutures and fontanelles each ray crosses, and of the calvarium's rim. */
  readonly labels: Uint8Array;
}

const DEG = Math.PI / 180;
/** Angles of bregma, lambda and nasion on the mid-sagittal section, from the vertex, forward positive. */
const BREGMA_RAD = 18 * DEG;
const LAMBDA_RAD = -62 * DEG;
const NASION_RAD = 100 * DEG;

function rotX(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [1, 0, 0, 0, c, -s, 0, s, c];
}
function rotY(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [c, 0, s, 0, 1, 0, -s, 0, c];
}
function rotZ(a: number): number[] {
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [c, -s, 0, s, c, 0, 0, 0, 1];
}
function matMul(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += (a[r * 3 + k] ?? 0) * (b[k * 3 + c] ?? 0);
      out[r * 3 + c] = s;
    }
  return out;
}
/** mᵀ · v. */
function applyT(m: readonly number[], v: readonly number[]): Vec3 {
  const [x = 0, y = 0, z = 0] = v;
  return [
    (m[0] ?? 0) * x + (m[3] ?? 0) * y + (m[6] ?? 0) * z,
    (m[1] ?? 0) * x + (m[4] ?? 0) * y + (m[7] ?? 0) * z,
    (m[2] ?? 0) * x + (m[5] ?? 0) * y + (m[8] ?? 0) * z,
  ];
}

/** Options of {@link projectionGeometry}. */
export interface GeometryOptions {
  readonly view: PhantomView;
  readonly size: number;
  readonly detectorPixelMm: number;
  readonly magnification: number;
  readonly translationMm: readonly [number, number];
  readonly inPlaneRotationDeg: number;
  readonly yawDeg: number;
  readonly rollDeg: number;
  readonly pitchDeg: number;
}

/** Head-frame bounding extents of the skull model, for centring the film. */
function headExtents(a: InfantAnatomy): { zTop: number; zBottom: number; yBack: number; yFront: number } {
  const s = a.scalpMm;
  const ay = a.headLengthMm / 2 - s;
  const az = a.vaultHeightMm - s;
  const nz = az * Math.cos(NASION_RAD);
  return { zTop: az + s, zBottom: nz - a.faceHeightMm - 6, yBack: -(ay + s), yFront: ay + s };
}

/**
 * The ray geometry of one film. Head frame: x towards the patient's left, y anterior, z up, origin at the centre
 * of the vault ellipsoid. AP films are displayed with the patient's left on the viewer's right (facing the
 * patient); left-lateral films as seen from the patient's left, face towards the viewer's left.
 * @param anatomy - the head (for centring)
 * @param o - view, film size, spacing and positioning
 */
export function projectionGeometry(anatomy: InfantAnatomy, o: GeometryOptions): ProjectionGeometry {
  const ext = headExtents(anatomy);
  const eu: Vec3 = o.view === 'AP' ? [1, 0, 0] : [0, -1, 0];
  const ev: Vec3 = [0, 0, 1];
  const ed: Vec3 = o.view === 'AP' ? [0, 1, 0] : [1, 0, 0];
  const centre: Vec3 = [0, o.view === 'AP' ? 0 : (ext.yBack + ext.yFront) / 2, (ext.zTop + ext.zBottom) / 2];
  // Head-to-world rotation; rays are mapped back with its transpose.
  const r = matMul(rotZ(o.yawDeg * DEG), matMul(rotY(o.rollDeg * DEG), rotX(o.pitchDeg * DEG)));
  const px = o.detectorPixelMm / o.magnification;
  const theta = o.inPlaneRotationDeg * DEG;
  const [tx, ty] = o.translationMm;
  const at = (col: number, row: number): Vec3 => {
    const u = (col + 0.5 - o.size / 2) * px - tx;
    const v = (o.size / 2 - row - 0.5) * px - ty;
    const uu = Math.cos(theta) * u + Math.sin(theta) * v;
    const vv = -Math.sin(theta) * u + Math.cos(theta) * v;
    const w = applyT(r, [uu * eu[0] + vv * ev[0], uu * eu[1] + vv * ev[1], uu * eu[2] + vv * ev[2]]);
    return [centre[0] + w[0], centre[1] + w[1], centre[2] + w[2]];
  };
  const o00 = at(0, 0);
  const o10 = at(1, 0);
  const o01 = at(0, 1);
  return {
    view: o.view,
    width: o.size,
    height: o.size,
    objectPixelMm: px,
    origin: o00,
    perColumn: [o10[0] - o00[0], o10[1] - o00[1], o10[2] - o00[2]],
    perRow: [o01[0] - o00[0], o01[1] - o00[1], o01[2] - o00[2]],
    direction: applyT(r, ed),
  };
}

/** An ellipsoid prepared for one geometry: ray q(s) = q0 + col·qc + row·qr + s·qd in its unit-sphere frame. */
interface PreparedEllipsoid {
  readonly q: Float64Array; // q0(3) qc(3) qr(3) qd(3)
  readonly a: number; // qd·qd
}

interface EllipsoidSpec {
  readonly centre: Vec3;
  readonly radii: Vec3;
  /** Row-major rotation, local → head frame (identity when absent). */
  readonly rotation?: readonly number[];
}

function prepare(e: EllipsoidSpec, g: ProjectionGeometry): PreparedEllipsoid {
  const rot = e.rotation ?? [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const local = (v: readonly number[]): Vec3 => {
    const l = applyT(rot, v);
    return [l[0] / e.radii[0], l[1] / e.radii[1], l[2] / e.radii[2]];
  };
  const q0 = local([g.origin[0] - e.centre[0], g.origin[1] - e.centre[1], g.origin[2] - e.centre[2]]);
  const qc = local(g.perColumn);
  const qr = local(g.perRow);
  const qd = local(g.direction);
  return {
    q: Float64Array.from([...q0, ...qc, ...qr, ...qd]),
    a: qd[0] * qd[0] + qd[1] * qd[1] + qd[2] * qd[2],
  };
}

/** Ray–ellipsoid interval for pixel (col, row) into out[k], out[k+1]; false when the ray misses. */
function intersect(e: PreparedEllipsoid, col: number, row: number, out: Float64Array, k: number): boolean {
  const q = e.q;
  const x = (q[0] ?? 0) + col * (q[3] ?? 0) + row * (q[6] ?? 0);
  const y = (q[1] ?? 0) + col * (q[4] ?? 0) + row * (q[7] ?? 0);
  const z = (q[2] ?? 0) + col * (q[5] ?? 0) + row * (q[8] ?? 0);
  const dx = q[9] ?? 0;
  const dy = q[10] ?? 0;
  const dz = q[11] ?? 0;
  const b = x * dx + y * dy + z * dz;
  const c = x * x + y * y + z * z - 1;
  const disc = b * b - e.a * c;
  if (disc <= 0) return false;
  const sq = Math.sqrt(disc);
  out[k] = (-b - sq) / e.a;
  out[k + 1] = (-b + sq) / e.a;
  return true;
}

/** A denser-than-soft-tissue ellipsoid; a negative density carves a cavity out of `parent`. */
interface BoneBlob extends EllipsoidSpec {
  /** Density relative to the calvarium's (mineralisation scales all bone alike). */
  readonly density: number;
  /** Index of the blob a cavity is carved from (its overlap with the parent is subtracted). */
  readonly parent?: number;
}

/** Partial-volume coverage of a pixel of width `px` centred `dist` from the axis of a band of width `w`. */
function bandCoverage(dist: number, w: number, px: number): number {
  const lo = Math.max(dist - px / 2, -w / 2);
  const hi = Math.min(dist + px / 2, w / 2);
  return hi > lo ? (hi - lo) / px : 0;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * The calvarium's sutures and fontanelles as gaps on its surface, evaluated at head-frame points.
 *
 * Curves (on an ellipsoid whose mid-sagittal angles are measured from the vertex): sagittal suture on the midline
 * from bregma (18° forward) to lambda (62° back); metopic suture on the midline from bregma to nasion (100°),
 * fusing from the nasion upwards; coronal suture where a plane through bregma sloping forward as it descends meets
 * the vault, down to the pterion; lambdoid where a plane through lambda sloping forward as it descends meets the
 * occiput, down to the asterion; squamosal as an arch over the temporal squama. Positions follow the infant skull
 * of Gray's Anatomy (41st ed., 2016, the neonatal skull) and Kiesler & Richer 2003 (fontanelle shapes: a kite-shaped
 * anterior, a triangular posterior fontanelle); the ellipsoid simplification is this generator's.
 */
class Calvarium {
  readonly ax: number;
  readonly ay: number;
  readonly az: number;
  private readonly px: number;
  private readonly a: InfantAnatomy;
  private readonly phase: number;
  private readonly bregma: Vec3;
  private readonly bregmaT: Vec3;
  private readonly bregmaN: Vec3;
  private readonly lambda: Vec3;
  private readonly lambdaT: Vec3;
  private readonly lambdaN: Vec3;
  private readonly coronalN: Vec3;
  private readonly lambdoidN: Vec3;
  /** Structure bits the last {@link boneAt} point lies in (mask bands). */
  bits = 0;

  constructor(a: InfantAnatomy, objectPixelMm: number, phase: number) {
    this.a = a;
    this.px = objectPixelMm;
    this.phase = phase;
    this.ax = a.headBreadthMm / 2 - a.scalpMm;
    this.ay = a.headLengthMm / 2 - a.scalpMm;
    this.az = a.vaultHeightMm - a.scalpMm;
    const onSurface = (phi: number): { p: Vec3; t: Vec3; n: Vec3 } => {
      const p: Vec3 = [0, this.ay * Math.sin(phi), this.az * Math.cos(phi)];
      const t = unit([0, this.ay * Math.cos(phi), -this.az * Math.sin(phi)]);
      const n = unit([0, Math.sin(phi) / this.ay, Math.cos(phi) / this.az]);
      return { p, t, n };
    };
    const b = onSurface(BREGMA_RAD);
    const l = onSurface(LAMBDA_RAD);
    this.bregma = b.p;
    this.bregmaT = b.t;
    this.bregmaN = b.n;
    this.lambda = l.p;
    this.lambdaT = l.t;
    this.lambdaN = l.n;
    // Coronal plane: in normalised coordinates y − yB = −0.3 (z − zB), i.e. 0.3 forward per unit of descent.
    this.coronalN = unit([0, 1 / this.ay, 0.3 / this.az]);
    // Lambdoid plane: y − yL = −0.35 (z − zL).
    this.lambdoidN = unit([0, 1 / this.ay, 0.35 / this.az]);
  }

  /**
   * Bone present at a point (1 = bone, 0 = gap or outside the vault), with {@link bits} set to the structures
   * whose mask band contains it.
   */
  boneAt(x: number, y: number, z: number): number {
    const a = this.a;
    const px = this.px;
    const nx = x / this.ax;
    const ny = y / this.ay;
    const nz = z / this.az;
    this.bits = 0;
    // The vault ends at the skull base: higher in front (orbital roofs at the nasion), lower behind (occiput);
    // it thins out over ≈ 6 mm there instead of stopping at a knife edge no skull has.
    const cut = clamp01(((nz - (-0.4 + 0.22 * ny)) * this.az) / Math.max(px, 6) + 0.5);
    if (cut <= 0) return 0;
    let gap = 0;
    let inFontanelle = false;
    // a fontanelle at signed distance d (mm; 1e9 = not facing it): the gap it opens, its mask bit, whether inside
    const fontanelle = (d: number, bit: number): void => {
      if (d >= 1e9) return;
      gap = Math.max(gap, clamp01(0.5 - d / px));
      if (d < 1.5 * px) this.bits |= bit;
      if (d < 0) inFontanelle = true;
    };
    // Anterior fontanelle: a kite at bregma, longer in front (Kiesler & Richer 2003), in bregma's tangent plane.
    const af = a.anteriorFontanelleMm;
    if (af > 0) {
      const d = this.kiteDistance(
        x,
        y,
        z,
        this.bregma,
        this.bregmaT,
        this.bregmaN,
        0.69 * af,
        0.46 * af,
        0.42 * af,
      );
      fontanelle(d, STRUCTURE_BITS.anteriorFontanelle);
    }
    const pf = a.posteriorFontanelleMm;
    if (pf > 0) {
      // Posterior fontanelle: a small triangle at lambda, apex forward into the sagittal suture.
      const d = this.kiteDistance(
        x,
        y,
        z,
        this.lambda,
        this.lambdaT,
        this.lambdaN,
        0.6 * pf,
        0.3 * pf,
        0.5 * pf,
      );
      fontanelle(d, STRUCTURE_BITS.posteriorFontanelle);
    }
    const amp = a.sutureInterdigitationMm;
    const minBand = 1.5 * px;
    const phi = Math.atan2(ny, nz);
    const rMean = 0.5 * (this.ay + this.az);
    // Sagittal and metopic sutures on the midline; the wiggle along the arc is the interdigitation.
    if (Math.abs(nx) < 0.3 && nz > -0.3) {
      const dist = Math.abs(x - amp * Math.sin((phi * rMean) / 1.2 + this.phase));
      if (phi > LAMBDA_RAD && phi < BREGMA_RAD) {
        gap = Math.max(gap, bandCoverage(dist, a.sagittalSutureMm, px));
        if (dist < Math.max(a.sagittalSutureMm / 2, minBand) && !inFontanelle)
          this.bits |= STRUCTURE_BITS.sagittal;
      } else if (phi >= BREGMA_RAD && phi < BREGMA_RAD + a.metopicOpen * (NASION_RAD - BREGMA_RAD)) {
        gap = Math.max(gap, bandCoverage(dist, a.metopicSutureMm, px));
        if (dist < Math.max(a.metopicSutureMm / 2, minBand) && !inFontanelle)
          this.bits |= STRUCTURE_BITS.metopic;
      }
    }
    const around = Math.atan2(nx, nz) * rMean;
    if (nz > -0.05 && ny > -0.2) {
      const f =
        (x - this.bregma[0]) * this.coronalN[0] +
        (y - this.bregma[1]) * this.coronalN[1] +
        (z - this.bregma[2]) * this.coronalN[2];
      const dist = Math.abs(f + amp * Math.sin(around / 1.2 + this.phase * 1.7));
      gap = Math.max(gap, bandCoverage(dist, a.coronalSutureMm, px));
      if (dist < Math.max(a.coronalSutureMm / 2, minBand) && !inFontanelle)
        this.bits |= STRUCTURE_BITS.coronal;
    }
    if (nz > -0.3 && ny < -0.2) {
      const f =
        (x - this.lambda[0]) * this.lambdoidN[0] +
        (y - this.lambda[1]) * this.lambdoidN[1] +
        (z - this.lambda[2]) * this.lambdoidN[2];
      // The lambdoid is the most serrated of the vault sutures (Gray's Anatomy): larger amplitude.
      const dist = Math.abs(f + 1.3 * amp * Math.sin(around / 1.0 + this.phase * 2.3));
      gap = Math.max(gap, bandCoverage(dist, a.lambdoidSutureMm, px));
      if (dist < Math.max(a.lambdoidSutureMm / 2, minBand) && !inFontanelle)
        this.bits |= STRUCTURE_BITS.lambdoid;
    }
    if (Math.abs(nx) > 0.45) {
      const t = (ny + 0.02) / 0.58;
      if (Math.abs(t) < 1) {
        // Squamosal: an arch over the temporal squama, bevelled rather than serrated (small wiggle).
        const zs = this.az * (-0.2 + 0.3 * (1 - t * t));
        const dist = Math.abs(z - zs + 0.3 * amp * Math.sin(y / 1.5 + this.phase));
        gap = Math.max(gap, bandCoverage(dist, a.squamosalSutureMm, px));
        if (dist < Math.max(a.squamosalSutureMm / 2, minBand)) this.bits |= STRUCTURE_BITS.squamosal;
      }
    }
    if (cut < 0.5) this.bits = 0;
    return cut * (1 - Math.min(1, gap));
  }

  /**
   * Signed distance (mm, negative inside) from a kite in the tangent plane at `c`: half-lengths `front` (along
   * +t), `back` and half-width `half`. 1e9 when the point is on the far side of the head.
   */
  private kiteDistance(
    x: number,
    y: number,
    z: number,
    c: Vec3,
    t: Vec3,
    n: Vec3,
    front: number,
    back: number,
    half: number,
  ): number {
    const dx = x - c[0];
    const dy = y - c[1];
    const dz = z - c[2];
    if (dx * n[0] + dy * n[1] + dz * n[2] < -12) return 1e9;
    const s = dx * t[0] + dy * t[1] + dz * t[2];
    const len = s >= 0 ? front : back;
    const r = Math.abs(s) / len + Math.abs(x) / half;
    return (r - 1) * Math.min(len, half);
  }
}

/** Length of the union of `n` intervals stored as [a0, b0, a1, b1, …] (sorted here in place by start). */
function unionLength(iv: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    for (let j = i; j > 0 && (iv[2 * j] ?? 0) < (iv[2 * j - 2] ?? 0); j--) {
      const a = iv[2 * j] ?? 0;
      const b = iv[2 * j + 1] ?? 0;
      iv[2 * j] = iv[2 * j - 2] ?? 0;
      iv[2 * j + 1] = iv[2 * j - 1] ?? 0;
      iv[2 * j - 2] = a;
      iv[2 * j - 1] = b;
    }
  }
  let total = 0;
  let curA = iv[0] ?? 0;
  let curB = iv[1] ?? 0;
  for (let i = 1; i < n; i++) {
    const a = iv[2 * i] ?? 0;
    const b = iv[2 * i + 1] ?? 0;
    if (a > curB) {
      total += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  return total + curB - curA;
}

function unit(v: readonly number[]): Vec3 {
  const [x = 0, y = 0, z = 0] = v;
  const n = Math.hypot(x, y, z) || 1;
  return [x / n, y / n, z / n];
}

/** Bones other than the calvarium, scaled to the vault and the face (positions from Gray's Anatomy, infant skull). */
function skeleton(a: InfantAnatomy, cal: Calvarium): BoneBlob[] {
  const { ax, ay, az } = cal;
  const f = a.faceHeightMm;
  const nz = az * Math.cos(NASION_RAD);
  const rx = (deg: number): number[] => rotX(deg * DEG);
  const rz = (deg: number): number[] => rotZ(deg * DEG);
  const blobs: BoneBlob[] = [
    // 0: floor of the anterior and middle cranial fossae, sloping down behind
    {
      centre: [0, 0.12 * ay, -0.36 * az],
      radii: [0.6 * ax, 0.62 * ay, 0.07 * az],
      rotation: rx(8),
      density: 0.11,
    },
    // 1, 2: petrous pyramids, the densest bone of the skull, running antero-medially at ≈ 45°
    {
      centre: [0.42 * ax, -0.16 * ay, -0.42 * az],
      radii: [0.32 * ax, 0.05 * ax, 0.055 * az],
      rotation: rz(-40),
      density: 1.2,
    },
    {
      centre: [-0.42 * ax, -0.16 * ay, -0.42 * az],
      radii: [0.32 * ax, 0.05 * ax, 0.055 * az],
      rotation: rz(40),
      density: 1.2,
    },
    // 3: sphenoid body and clivus, sloping down and back
    {
      centre: [0, -0.02 * ay, -0.55 * az],
      radii: [0.12 * ax, 0.24 * ay, 0.07 * az],
      rotation: rx(-38),
      density: 0.6,
    },
    // 4: lower occipital squama around the foramen magnum
    {
      centre: [0, -0.6 * ay, -0.58 * az],
      radii: [0.42 * ax, 0.22 * ay, 0.1 * az],
      rotation: rx(-25),
      density: 0.45,
    },
    // 5: supra-orbital bar (orbital roofs and rims) and 6, 7 the orbits carved out of it
    { centre: [0, 0.7 * ay, nz - 0.16 * f], radii: [0.74 * ax, 0.2 * ay, 0.28 * f], density: 0.3 },
    {
      centre: [0.38 * ax, 0.7 * ay, nz - 0.18 * f],
      radii: [0.27 * ax, 0.19 * ay, 0.21 * f],
      density: -1,
      parent: 5,
    },
    {
      centre: [-0.38 * ax, 0.7 * ay, nz - 0.18 * f],
      radii: [0.27 * ax, 0.19 * ay, 0.21 * f],
      density: -1,
      parent: 5,
    },
    // 8: maxilla and zygomas; 9 the nasal cavity carved out of it
    { centre: [0, 0.66 * ay, nz - 0.55 * f], radii: [0.5 * ax, 0.2 * ay, 0.2 * f], density: 0.4 },
    {
      centre: [0, 0.7 * ay, nz - 0.5 * f],
      radii: [0.11 * ax, 0.14 * ay, 0.16 * f],
      density: -0.4,
      parent: 8,
    },
    // 10, 11: mandibular rami up to the condyles
    {
      centre: [0.58 * ax, 0.3 * ay, nz - 0.66 * f],
      radii: [0.05 * ax, 0.08 * ay, 0.26 * f],
      rotation: rx(-15),
      density: 0.7,
    },
    {
      centre: [-0.58 * ax, 0.3 * ay, nz - 0.66 * f],
      radii: [0.05 * ax, 0.08 * ay, 0.26 * f],
      rotation: rx(-15),
      density: 0.7,
    },
    // 12–14: atlas, axis and C3 below the skull base
    { centre: [0, -0.12 * ay, -0.86 * az], radii: [0.22 * ax, 0.12 * ay, 0.06 * az], density: 0.6 },
    { centre: [0, -0.12 * ay, -1.04 * az], radii: [0.12 * ax, 0.1 * ay, 0.1 * az], density: 0.7 },
    { centre: [0, -0.12 * ay, -1.24 * az], radii: [0.12 * ax, 0.1 * ay, 0.08 * az], density: 0.7 },
  ];
  return blobs;
}

/**
 * Project one head: the attenuation line integral and the structure labels of every pixel.
 * @param a - the anatomy
 * @param g - the ray geometry
 * @param boneContrast - multiplier on bone's excess attenuation over soft tissue (tube voltage)
 * @param phase - interdigitation phase (an individual trait)
 */
export function projectHead(
  a: InfantAnatomy,
  g: ProjectionGeometry,
  boneContrast: number,
  phase: number,
): Projection {
  const cal = new Calvarium(a, g.objectPixelMm, phase);
  const { ax, ay, az } = cal;
  const t = a.calvarialThicknessMm;
  const s = a.scalpMm;
  const f = a.faceHeightMm;
  const nz = az * Math.cos(NASION_RAD);
  const outer = prepare({ centre: [0, 0, 0], radii: [ax, ay, az] }, g);
  const inner = prepare({ centre: [0, 0, 0], radii: [ax - t, ay - t, az - t] }, g);
  // Mandibular body: a vertical elliptical band (outer minus a taller inner ellipsoid), front half only.
  const mandibleCentre: Vec3 = [0, 0.34 * ay, nz - 0.9 * f];
  const mandibleRadii: Vec3 = [0.6 * ax, 0.5 * ay, 0.1 * f];
  const mOuter = prepare({ centre: mandibleCentre, radii: mandibleRadii }, g);
  const mInner = prepare(
    { centre: mandibleCentre, radii: [mandibleRadii[0] - 4, mandibleRadii[1] - 4, mandibleRadii[2] * 1.6] },
    g,
  );
  const softSpecs: EllipsoidSpec[] = [
    { centre: [0, 0, 0], radii: [ax + s, ay + s, az + s] },
    // face and jaw soft tissue
    { centre: [0, 0.5 * ay, nz - 0.55 * f], radii: [0.7 * ax, 0.48 * ay, 0.6 * f] },
    // neck
    { centre: [0, -0.15 * ay, -2.3 * az], radii: [0.58 * ax, 0.6 * ay, 1.6 * az] },
  ];
  const soft = softSpecs.map((e) => prepare(e, g));
  const blobs = skeleton(a, cal);
  const preparedBlobs = blobs.map((b) => prepare(b, g));

  const muBone = (MU_CORTICAL_BONE_PER_MM - MU_SOFT_PER_MM) * a.boneDensity * boneContrast;
  const { width, height } = g;
  const n = width * height;
  const attenuation = new Float32Array(n);
  const calvarium = new Float32Array(n);
  const labels = new Uint8Array(n);
  const iv = new Float64Array(2 * Math.max(4, blobs.length));
  const segs = new Float64Array(4);
  const [dx, dy, dz] = g.direction;
  const [o0x, o0y, o0z] = g.origin;
  const [cx, cy, cz] = g.perColumn;
  const [rx, ry, rz] = g.perRow;
  const softIv = new Float64Array(2 * softSpecs.length);
  const counts = new Int32Array(7);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const k = row * width + col;
      // soft tissue: the union of convex bodies is a union of intervals along the ray
      let nSoft = 0;
      for (const e of soft) if (intersect(e, col, row, softIv, 2 * nSoft)) nSoft++;
      if (nSoft === 0) continue;
      const softLen = unionLength(softIv, nSoft);

      const ox = o0x + col * cx + row * rx;
      const oy = o0y + col * cy + row * ry;
      const oz = o0z + col * cz + row * rz;
      // calvarium: outer chord minus inner chord, sampled along each wall for its sutures and fontanelles
      let vault = 0;
      let bits = 0;
      if (intersect(outer, col, row, iv, 0)) {
        const o1 = iv[0] ?? 0;
        const o2 = iv[1] ?? 0;
        let nSeg = 0;
        if (intersect(inner, col, row, iv, 0)) {
          segs[0] = o1;
          segs[1] = iv[0] ?? 0;
          segs[2] = iv[1] ?? 0;
          segs[3] = o2;
          nSeg = 2;
        } else {
          segs[0] = o1;
          segs[1] = o2;
          nSeg = 1;
        }
        for (let si = 0; si < nSeg; si++) {
          const sa = segs[2 * si] ?? 0;
          const sb = segs[2 * si + 1] ?? 0;
          const len = sb - sa;
          if (len <= 0) continue;
          // face-on walls: one sample; oblique and tangential walls: one per 0.9 mm (up to 40)
          const steps = len <= 3 * t ? 1 : Math.min(40, Math.ceil(len / 0.9));
          const h = len / steps;
          let bone = 0;
          counts.fill(0);
          for (let j = 0; j < steps; j++) {
            const sm = sa + (j + 0.5) * h;
            bone += cal.boneAt(ox + sm * dx, oy + sm * dy, oz + sm * dz);
            const b = cal.bits;
            if (b !== 0)
              for (let bit = 0; bit < 7; bit++) if (b & (1 << bit)) counts[bit] = (counts[bit] ?? 0) + 1;
          }
          vault += bone * h;
          // A wall is labelled with a suture when at least half its samples lie in the suture's band (a ray that
          // merely crosses a suture tangentially shows no line), with a fontanelle when any sample does (a
          // fontanelle seen edge-on is the gap in the rim).
          for (let bit = 0; bit < 7; bit++) {
            const c = counts[bit] ?? 0;
            if ((1 << bit) & FONTANELLE_MASK_BITS ? c > 0 : c * 2 >= steps) bits |= 1 << bit;
          }
        }
      }
      // mandibular body
      let jaw = 0;
      if (intersect(mOuter, col, row, iv, 0)) {
        const o1 = iv[0] ?? 0;
        const o2 = iv[1] ?? 0;
        let nSeg = 0;
        if (intersect(mInner, col, row, iv, 0)) {
          const i1 = Math.max(o1, iv[0] ?? 0);
          const i2 = Math.min(o2, iv[1] ?? 0);
          if (i2 > i1) {
            segs[0] = o1;
            segs[1] = i1;
            segs[2] = i2;
            segs[3] = o2;
            nSeg = 2;
          }
        }
        if (nSeg === 0) {
          segs[0] = o1;
          segs[1] = o2;
          nSeg = 1;
        }
        for (let si = 0; si < nSeg; si++) {
          const sa = segs[2 * si] ?? 0;
          const sb = segs[2 * si + 1] ?? 0;
          const len = sb - sa;
          if (len <= 0) continue;
          const steps = Math.min(16, Math.max(1, Math.ceil(len / 1.5)));
          const h = len / steps;
          for (let j = 0; j < steps; j++) {
            const sm = sa + (j + 0.5) * h;
            // front half of the band only: the rami are separate blobs
            if (oy + sm * dy > mandibleCentre[1]) jaw += h;
          }
        }
      }
      let other = 0.9 * jaw;
      for (let b = 0; b < blobs.length; b++) {
        const blob = blobs[b];
        const e = preparedBlobs[b];
        if (!blob || !e) continue;
        if (!intersect(e, col, row, iv, 0)) continue;
        if (blob.parent === undefined) {
          other += blob.density * ((iv[1] ?? 0) - (iv[0] ?? 0));
        } else {
          const pe = preparedBlobs[blob.parent];
          const parent = blobs[blob.parent];
          if (!pe || !parent || !intersect(pe, col, row, iv, 2)) continue;
          const lo = Math.max(iv[0] ?? 0, iv[2] ?? 0);
          const hi = Math.min(iv[1] ?? 0, iv[3] ?? 0);
          if (hi > lo) other -= parent.density * (hi - lo);
        }
      }
      if (vault >= CALVARIUM_RIM_PATH_FACTOR * 2 * t) bits |= CALVARIUM_MASK_BITS;
      const vaultMu = muBone * vault;
      attenuation[k] = MU_SOFT_PER_MM * softLen + vaultMu + muBone * Math.max(0, other);
      calvarium[k] = vaultMu;
      labels[k] = bits;
    }
  }
  return { attenuation, calvarium, labels };
}
