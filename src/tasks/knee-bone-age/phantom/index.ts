/**
 * Procedural paediatric AP knee radiograph phantoms, left and right, skeletal ages 0–18 years, with physis and
 * ossification-centre masks; and the semi-synthetic paired cohort (real RSNA hands, phantom knees) that validates
 * knee bone age by transfer from the hand model.
 *
 * Why: knee bone age by transfer (doi 10.1177/23259671261424923) labels cropped AP knee films of children with
 * the bone age of a hand film taken within 3 months; no public paediatric knee films with bone age exist, so the
 * pipeline is exercised on phantom knees whose maturity follows the knee atlases (Pyle & Hoerr 1969; Roche,
 * Wainer & Thissen 1975; O'Connor et al. 2008, 2013), projected through a 3-D model and exposed with realistic
 * acquisition variation. Age is carried by anatomy only, never by a marker.
 *
 * @example
 * import { renderKneePhantom, writeKneePhantomCohort } from './tasks/knee-bone-age/phantom/index.js';
 * const film = renderKneePhantom({ skeletalAgeMonths: 96, sex: 'F', laterality: 'R', seed: 42 });
 * // film.width === 256, film.masks.physes.length === 65536, film.anatomy.patellaSize > 0
 * await writeKneePhantomCohort({ handsDir: '../shared/data/rsna-hand', outDir: 'out/knees', seed: 1, format: 'dicom' });
 * // out/knees/manifest.csv, knees/RSNA1377_K1_L.dcm, masks/RSNA1377_K1_L_physes.png, COHORT.md
 */
export { KNEE_STRUCTURE_BITS, PHYSIS_MASK_BITS, OSSIFICATION_MASK_BITS } from './project.js';
export {
  drawKneeTraits,
  kneeAnatomy,
  femaleEquivalentMonths,
  KNEE_EVENT_MONTHS,
  MAX_KNEE_SKELETAL_AGE_MONTHS,
  type KneeTraits,
  type KneeAnatomy,
} from './growth.js';
export { drawKneeAcquisition, IDEAL_KNEE_ACQUISITION, type KneeAcquisition } from './acquisition.js';
export {
  renderKneePhantom,
  renderKneePhantomWith,
  DEFAULT_KNEE_PHANTOM_SIZE,
  type KneeLaterality,
  type KneePhantomOptions,
  type KneePhantom,
  type KneePhantomDetail,
} from './render.js';
export { encodeKneePhantomDicom, SIMULATED_COMMENT, type KneeDicomFilm } from './dicom-writer.js';
export {
  writeKneePhantomCohort,
  KNEE_PHANTOM_GENERATOR_VERSION,
  KNEE_MANIFEST_HEADER,
  KNEE_EXCLUSION_COLUMNS,
  KNEE_COHORT_RATES,
  KNEE_HAND_DISCORDANCE_SD_MONTHS,
  type KneeCohortOptions,
  type KneeCohortResult,
} from './cohort.js';
export { KneeCohortExistsError, KneePhantomOptionsError, HandsFolderError } from './errors.js';
