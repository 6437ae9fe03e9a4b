/**
 * Render one infant skull phantom film (AP or lateral) with its suture, fontanelle and calvarium masks.
 *
 * Why: the infant-age-from-skull pipeline (Lee et al., Sci Rep 2024;14:16600) is validated on phantoms because no
 * public infant skull films exist. The film's age signal comes only from the anatomy of {@link infantAnatomy}; the
 * exposure ({@link drawAcquisition}) is drawn independently of age, and nothing on the film marks the age.
 */
import { drawAcquisition, type Acquisition } from './acquisition.js';
import { exposeFilm, mixPhantomSeed } from '../../../radiograph/index.js';
import { PhantomOptionsError } from './errors.js';
import {
  drawInfantTraits,
  infantAnatomy,
  MAX_PHANTOM_AGE_MONTHS,
  type InfantAnatomy,
  type InfantTraits,
} from './growth.js';
import {
  CALVARIUM_MASK_BITS,
  FONTANELLE_MASK_BITS,
  SUTURE_MASK_BITS,
  projectHead,
  projectionGeometry,
  type PhantomView,
  type ProjectionGeometry,
} from './project.js';

/** Side of the film at the detector, mm: room for a one-year-old's head at +3 SD, magnified, in either view. */
export const PHANTOM_FIELD_OF_VIEW_MM = 230;
/** Default film side, pixels. */
export const DEFAULT_PHANTOM_SIZE = 256;

/** What to render. */
export interface SkullPhantomOptions {
  /** True postnatal age, months, 0..12.99. */
  readonly ageMonths: number;
  readonly view: PhantomView;
  readonly sex: 'M' | 'F';
  /** Seed of the acquisition (and of the traits when `traits` is absent). */
  readonly seed: number;
  /** Square film side, pixels (default 256). */
  readonly size?: number;
  /** The infant's own anatomy; default: drawn from `seed`. */
  readonly traits?: InfantTraits;
}

/** A rendered film with its masks and the anatomy it shows. */
export interface SkullPhantom {
  readonly width: number;
  readonly height: number;
  /** 12-bit stored values (0..4095), MONOCHROME2, bone bright. */
  readonly pixels: Uint16Array;
  /** Detector pixel spacing (ImagerPixelSpacing), mm. */
  readonly pixelSpacingMm: number;
  /**
   * 0/1 masks, row-major like `pixels`: projected sutures (bands a few pixels wide), fontanelles, and the calvarium's
   * rim (the vault seen edge-on along the head's outline, see `CALVARIUM_RIM_PATH_FACTOR`; it may overlap the others).
   */
  readonly masks: { readonly sutures: Uint8Array; readonly fontanelles: Uint8Array; readonly calvarium: Uint8Array };
  /** The anatomy drawn, with units in the names (see {@link InfantAnatomy}), plus `magnification`. */
  readonly anatomy: Readonly<Record<string, number>>;
}

/** A film with what went into it, for tests and validation. */
export interface SkullPhantomDetail extends SkullPhantom {
  readonly acquisition: Acquisition;
  readonly geometry: ProjectionGeometry;
  /** Per-pixel structure bits (`STRUCTURE_BITS`), before collimation. */
  readonly labels: Uint8Array;
  /** Line integral of attenuation per pixel. */
  readonly attenuation: Float32Array;
  /** The calvarium's share of the attenuation per pixel. */
  readonly calvarium: Float32Array;
}

/**
 * Render a film with its acquisition drawn from the seed.
 * @param o - age, view, sex, seed, size and optional traits
 *
 * @example
 * const film = renderSkullPhantom({ ageMonths: 4, view: 'AP', sex: 'F', seed: 1 });
 * // film.width === 256, film.pixels.length === 65536, film.anatomy.metopicOpen ∈ [0, 1]
 */
export function renderSkullPhantom(o: SkullPhantomOptions): SkullPhantom {
  return renderSkullPhantomWith(o, drawAcquisition(mixPhantomSeed(o.seed, o.view === 'AP' ? 1 : 2)));
}

/**
 * Render a film under a given acquisition (e.g. `IDEAL_ACQUISITION`: centred, noise-free), returning the
 * intermediate arrays too.
 * @param o - age, view, sex, seed, size and optional traits
 * @param acquisition - the exposure to use
 */
export function renderSkullPhantomWith(o: SkullPhantomOptions, acquisition: Acquisition): SkullPhantomDetail {
  const size = o.size ?? DEFAULT_PHANTOM_SIZE;
  if (!Number.isInteger(size) || size < 16 || size > 4096)
    throw new PhantomOptionsError(`size ${size} must be an integer from 16 to 4096 pixels`);
  if (!(o.ageMonths >= 0 && o.ageMonths < MAX_PHANTOM_AGE_MONTHS))
    throw new PhantomOptionsError(
      `ageMonths ${o.ageMonths} is outside 0..${MAX_PHANTOM_AGE_MONTHS} (exclusive)`,
    );
  if (o.view !== 'AP' && o.view !== 'LATERAL')
    throw new PhantomOptionsError(`view ${String(o.view)} is not AP or LATERAL`);
  if (o.sex !== 'M' && o.sex !== 'F') throw new PhantomOptionsError(`sex ${String(o.sex)} is not M or F`);
  if (!Number.isFinite(o.seed)) throw new PhantomOptionsError(`seed ${o.seed} is not a finite number`);
  const traits = o.traits ?? drawInfantTraits(o.seed);
  const anatomy: InfantAnatomy = infantAnatomy(o.ageMonths, o.sex, traits);
  const pixelSpacingMm = PHANTOM_FIELD_OF_VIEW_MM / size;
  const geometry = projectionGeometry(anatomy, {
    view: o.view,
    size,
    detectorPixelMm: pixelSpacingMm,
    magnification: acquisition.magnification,
    translationMm: acquisition.translationMm,
    inPlaneRotationDeg: acquisition.inPlaneRotationDeg,
    yawDeg: acquisition.yawDeg,
    rollDeg: acquisition.rollDeg,
    pitchDeg: acquisition.pitchDeg,
  });
  const projection = projectHead(anatomy, geometry, acquisition.boneContrast, traits.interdigitationPhase);
  const film = exposeFilm(
    projection.attenuation,
    size,
    size,
    pixelSpacingMm,
    acquisition,
    mixPhantomSeed(o.seed, o.view === 'AP' ? 1 : 2, 0x4e01),
  );
  const n = size * size;
  const sutures = new Uint8Array(n);
  const fontanelles = new Uint8Array(n);
  const calvarium = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    if (!film.field[k]) continue;
    const bits = projection.labels[k] ?? 0;
    if (bits & SUTURE_MASK_BITS) sutures[k] = 1;
    if (bits & FONTANELLE_MASK_BITS) fontanelles[k] = 1;
    if (bits & CALVARIUM_MASK_BITS) calvarium[k] = 1;
  }
  return {
    width: size,
    height: size,
    pixels: film.pixels,
    pixelSpacingMm,
    masks: { sutures, fontanelles, calvarium },
    anatomy: Object.freeze({ ...anatomy, magnification: acquisition.magnification }),
    acquisition,
    geometry,
    labels: projection.labels,
    attenuation: projection.attenuation,
    calvarium: projection.calvarium,
  };
}
