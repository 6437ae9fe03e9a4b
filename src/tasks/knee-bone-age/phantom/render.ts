/**
 * Render one paediatric AP knee phantom film, left or right, with its physis and ossification-centre masks.
 *
 * Why: knee bone age by transfer from the hand model (doi 10.1177/23259671261424923) is validated on phantoms
 * because no public paediatric knee films with bone age exist. The film's age signal comes only from the anatomy
 * of {@link kneeAnatomy}; the exposure ({@link drawKneeAcquisition}) is drawn independently of age, and nothing on
 * the film marks the age (no text, no marker).
 */
import { boxGaussian, exposeFilm, mixPhantomSeed } from '../../../radiograph/index.js';
import { drawKneeAcquisition, type KneeAcquisition } from './acquisition.js';
import { KneePhantomOptionsError } from './errors.js';
import {
  drawKneeTraits,
  kneeAnatomy,
  MAX_KNEE_SKELETAL_AGE_MONTHS,
  type KneeAnatomy,
  type KneeTraits,
} from './growth.js';
import {
  OSSIFICATION_MASK_BITS,
  PHYSIS_MASK_BITS,
  TrabecularTexture,
  kneeModel,
  traceKneeRay,
  MU_CORTICAL_BONE_PER_MM,
  MU_SOFT_PER_MM,
  type RaySample,
} from './project.js';

/** Default film side, pixels. */
export const DEFAULT_KNEE_PHANTOM_SIZE = 256;

/** Which knee. */
export type KneeLaterality = 'L' | 'R';

/** What to render. */
export interface KneePhantomOptions {
  /** Skeletal age, months, 0..216, against same-sex standards. */
  readonly skeletalAgeMonths: number;
  readonly sex: 'M' | 'F';
  readonly laterality: KneeLaterality;
  /** Seed of the acquisition (and of the traits when `traits` is absent). */
  readonly seed: number;
  /** Square film side, pixels (default 256). */
  readonly size?: number;
  /** The child's own knee; default: drawn from `seed`. */
  readonly traits?: KneeTraits;
}

/** A rendered film with its masks and the anatomy it shows. */
export interface KneePhantom {
  readonly width: number;
  readonly height: number;
  /** 12-bit stored values (0..4095), MONOCHROME2, bone bright. */
  readonly pixels: Uint16Array;
  /** Detector pixel spacing (ImagerPixelSpacing), mm. */
  readonly pixelSpacingMm: number;
  readonly laterality: KneeLaterality;
  /**
   * 0/1 masks, row-major like `pixels`: the distal femoral, proximal tibial and fibular physes (bands at least a
   * pixel either side of the physeal line, kept after fusion as the region where the physis was), and the ossified
   * centres (femoral and tibial epiphyses, patella, fibular head, tibial tubercle). Empty under the collimator.
   */
  readonly masks: { readonly physes: Uint8Array; readonly ossificationCentres: Uint8Array };
  /** The anatomy drawn, with units in the names (see {@link KneeAnatomy}), plus `magnification`. */
  readonly anatomy: Readonly<Record<string, number>>;
}

/** A film with what went into it, for tests and validation. */
export interface KneePhantomDetail extends KneePhantom {
  readonly acquisition: KneeAcquisition;
  /** Per-pixel structure bits (`KNEE_STRUCTURE_BITS`), before collimation. */
  readonly labels: Uint8Array;
  /** Line integral of attenuation per pixel. */
  readonly attenuation: Float32Array;
  /** The bones' share of the attenuation per pixel (0 where a ray crosses no bone). */
  readonly bone: Float32Array;
  /** Pixel size at the knee, mm. */
  readonly objectPixelMm: number;
}

/**
 * Render a film with its acquisition drawn from the seed.
 * @param o - skeletal age, sex, side, seed, size and optional traits
 *
 * @example
 * const film = renderKneePhantom({ skeletalAgeMonths: 96, sex: 'F', laterality: 'L', seed: 1 });
 * // film.width === 256, film.masks.physes.length === 65536, film.anatomy.femurEpiphysisRatio ≈ 0.9
 */
export function renderKneePhantom(o: KneePhantomOptions): KneePhantom {
  return renderKneePhantomWith(o, drawKneeAcquisition(mixPhantomSeed(o.seed, 0x6b1)));
}

/** Mirror a row-major image left–right in place. */
function mirrorRows<T extends Uint8Array | Uint16Array | Float32Array>(
  a: T,
  width: number,
  height: number,
): T {
  for (let row = 0; row < height; row++) {
    const base = row * width;
    for (let i = 0, j = width - 1; i < j; i++, j--) {
      const t = a[base + i] ?? 0;
      a[base + i] = a[base + j] ?? 0;
      a[base + j] = t;
    }
  }
  return a;
}

/** The q-th quantile of the values (q in [0, 1]). */
function quantile(values: Float32Array, q: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Render a film under a given acquisition (e.g. `IDEAL_KNEE_ACQUISITION`: centred, noise-free), returning the
 * intermediate arrays too. A right knee is the mirror image of the left knee under the same acquisition.
 * @param o - skeletal age, sex, side, seed, size and optional traits
 * @param acquisition - the exposure to use
 */
export function renderKneePhantomWith(
  o: KneePhantomOptions,
  acquisition: KneeAcquisition,
): KneePhantomDetail {
  const size = o.size ?? DEFAULT_KNEE_PHANTOM_SIZE;
  if (!Number.isInteger(size) || size < 16 || size > 4096)
    throw new KneePhantomOptionsError(`size ${size} must be an integer from 16 to 4096 pixels`);
  if (!(o.skeletalAgeMonths >= 0 && o.skeletalAgeMonths <= MAX_KNEE_SKELETAL_AGE_MONTHS))
    throw new KneePhantomOptionsError(
      `skeletalAgeMonths ${o.skeletalAgeMonths} is outside 0..${MAX_KNEE_SKELETAL_AGE_MONTHS}`,
    );
  if (o.sex !== 'M' && o.sex !== 'F') throw new KneePhantomOptionsError(`sex ${String(o.sex)} is not M or F`);
  if (o.laterality !== 'L' && o.laterality !== 'R')
    throw new KneePhantomOptionsError(`laterality ${String(o.laterality)} is not L or R`);
  if (!Number.isFinite(o.seed)) throw new KneePhantomOptionsError(`seed ${o.seed} is not a finite number`);
  const traits = o.traits ?? drawKneeTraits(o.seed);
  const anatomy: KneeAnatomy = kneeAnatomy(o.skeletalAgeMonths, o.sex, traits);
  const model = kneeModel(anatomy, acquisition.axialRotationDeg);
  const fieldMm = acquisition.fieldOfViewRatio * anatomy.femurMetaphysisWidthMm;
  const objectPixelMm = fieldMm / size;
  const pixelSpacingMm = objectPixelMm * acquisition.magnification;
  const texture = new TrabecularTexture(
    traits.textureSeed,
    1.3 * fieldMm,
    Math.max(0.5, 0.012 * anatomy.femurMetaphysisWidthMm),
  );
  const muBone = (MU_CORTICAL_BONE_PER_MM - MU_SOFT_PER_MM) * anatomy.boneDensity * acquisition.boneContrast;

  const n = size * size;
  const attenuation = new Float32Array(n);
  const bone = new Float32Array(n);
  const labels = new Uint8Array(n);
  const theta = (acquisition.inPlaneRotationDeg * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const [tx, ty] = acquisition.translationFraction;
  const sample: RaySample = { attenuation: 0, bone: 0, bits: 0 };
  const chords = new Float64Array(2);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      // film coordinates (mm at the knee, right and up from the centre), then into the knee frame
      const u = (col + 0.5 - size / 2) * objectPixelMm - tx * fieldMm;
      const v = (size / 2 - row - 0.5) * objectPixelMm - ty * fieldMm;
      const x = cos * u + sin * v;
      const z = -sin * u + cos * v;
      traceKneeRay(model, texture, x, z, muBone, 1.2 * objectPixelMm, sample, chords);
      const k = row * size + col;
      attenuation[k] = sample.attenuation;
      bone[k] = sample.bone;
      labels[k] = sample.bits;
    }
  }
  // focal-spot and detector blur (≈ 0.3 mm at the knee; Bushberg et al. 2012, ch. 7), at least half a pixel
  const blurred = boxGaussian(attenuation, size, size, Math.max(0.5, 0.3 / objectPixelMm));
  const exposure = {
    ...acquisition,
    displayMaxAttenuation: acquisition.displayHeadroom * quantile(blurred, 0.995),
  };
  const film = exposeFilm(
    blurred,
    size,
    size,
    pixelSpacingMm,
    exposure,
    mixPhantomSeed(o.seed, 0x6b1, 0x4e01),
  );
  const physes = new Uint8Array(n);
  const ossificationCentres = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    if (!film.field[k]) continue;
    const bits = labels[k] ?? 0;
    if (bits & PHYSIS_MASK_BITS) physes[k] = 1;
    if (bits & OSSIFICATION_MASK_BITS) ossificationCentres[k] = 1;
  }
  const pixels = film.pixels;
  if (o.laterality === 'R')
    for (const a of [pixels, physes, ossificationCentres, labels, blurred, bone]) mirrorRows(a, size, size);
  return {
    width: size,
    height: size,
    pixels,
    pixelSpacingMm,
    laterality: o.laterality,
    masks: { physes, ossificationCentres },
    anatomy: Object.freeze({ ...anatomy, magnification: acquisition.magnification }),
    acquisition: exposure,
    labels,
    attenuation: blurred,
    bone,
    objectPixelMm,
  };
}
