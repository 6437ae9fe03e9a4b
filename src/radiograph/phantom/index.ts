/**
 * What every procedural radiograph phantom shares, whatever the anatomy: a seeded random stream, the detector
 * (dose, scatter, heel effect, noise, processing, collimation) and the DICOM DX and PNG writers.
 *
 * Why: each task's phantom (its growth model, its 3-D anatomy, its cohort) lives in the task's folder; what turns
 * attenuation into a film and a film into a file is the same physics and the same standard for all of them, so it
 * is written once, here at the bottom layer.
 *
 * @example
 * import { PhantomRandom, exposeFilm, encodePhantomDx } from './radiograph/index.js';
 * const r = new PhantomRandom(7); r.normal(); // a reproducible deviate
 */
export { PhantomRandom, mixPhantomSeed } from './random.js';
export {
  exposeFilm,
  boxGaussian,
  MAX_STORED_VALUE,
  NOISE_FREE_DETECTOR,
  type Collimation,
  type DetectorExposure,
  type ExposedFilm,
} from './detector.js';
export {
  encodePhantomDx,
  uidFrom,
  ageString,
  DX_PRESENTATION_SOP_CLASS_UID,
  type AnatomicRegionCode,
  type PhantomDxFilm,
  type PhantomDxFilmAttributes,
} from './dx-writer.js';
export { encodeStoredPng, encodeMaskPng } from './film-png.js';
