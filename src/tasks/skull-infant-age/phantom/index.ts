/**
 * Procedural infant skull radiograph phantoms, AP and lateral, 0–12 months: films with suture, fontanelle and
 * calvarium masks, and whole cohorts with a labels table.
 *
 * Why: no public infant skull radiographs exist, so the infant-age-from-skull pipeline (Lee et al., Sci Rep
 * 2024;14:16600) is exercised on phantoms whose anatomy changes with age as the literature describes (WHO head
 * circumference 2007; fontanelle closure, Duc & Largo 1986; metopic fusion, Vu et al. 2001 and Weinzweig et al.
 * 2003; suture widths, Mitchell et al. 2011; calvarial thickness and mineralisation), projected through a 3-D head
 * model and exposed with realistic acquisition variation. Age is carried by anatomy only, never by a marker.
 *
 * @example
 * import { renderSkullPhantom, writeSkullPhantomCohort } from './tasks/skull-infant-age/phantom/index.js';
 * const film = renderSkullPhantom({ ageMonths: 3, view: 'LATERAL', sex: 'M', seed: 42 });
 * // film.width === 256, film.masks.sutures.length === 65536, film.anatomy.anteriorFontanelleMm > 0
 * await writeSkullPhantomCohort({ outDir: 'out/skull-phantoms', infants: 100, seed: 1, format: 'dicom' });
 * // out/skull-phantoms/labels.csv, films/SKP0001_V1_AP.dcm, masks/SKP0001_V1_AP_sutures.png, …
 */
export type { PhantomView } from './project.js';
export { STRUCTURE_BITS, CALVARIUM_RIM_PATH_FACTOR } from './project.js';
export {
  drawInfantTraits,
  infantAnatomy,
  WHO_HEAD_CIRCUMFERENCE,
  MAX_PHANTOM_AGE_MONTHS,
  type InfantTraits,
  type InfantAnatomy,
} from './growth.js';
export { drawAcquisition, IDEAL_ACQUISITION, type Acquisition, type Collimation } from './acquisition.js';
export {
  renderSkullPhantom,
  renderSkullPhantomWith,
  PHANTOM_FIELD_OF_VIEW_MM,
  DEFAULT_PHANTOM_SIZE,
  type SkullPhantomOptions,
  type SkullPhantom,
  type SkullPhantomDetail,
} from './render.js';
export {
  writeSkullPhantomCohort,
  PHANTOM_GENERATOR_VERSION,
  PHANTOM_LABELS_HEADER,
  type PhantomCohortOptions,
  type PhantomCohortResult,
} from './cohort.js';
export { CohortExistsError, PhantomOptionsError } from './errors.js';
