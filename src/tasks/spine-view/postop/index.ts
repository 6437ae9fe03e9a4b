/**
 * Simulated post-operative AP spine films: real pre-operative AASCE films with a simulated AIS posterior spinal
 * fusion (pedicle screws, rods, cross-links) or dual growing rods (proximal and distal foundations, tandem
 * connectors) composited into the film, and the semi-synthetic AP spine-view cohort written from them.
 *
 * Why: the spine-view classifier (Spine Deformity 2024;12(6):1607, doi 10.1007/s43390-024-00933-9) needs
 * post-operative films and no public ones exist. The construct follows the surgical literature cited in plan.ts;
 * the metal model is in render.ts; what the cohort lacks of the paper's 10 classes is written into its COHORT.md.
 *
 * @example
 * import { aasceLandmarks, simulatePostop, writeSpineViewCohort } from './tasks/spine-view/postop/index.js';
 * const sim = simulatePostop(film, aasceLandmarks(norm, film.width, film.height), { kind: 'fusion', seed: 1 });
 * // sim.instrumentation.levels.upper === 'T4', sim.instrumentation.screws.length === 18, sim.metalMask
 * await writeSpineViewCohort({ aasceDir: '../shared/data/aasce-spine', outDir: 'runs/spine-cohort', seed: 1 });
 * // runs/spine-cohort/labels.csv (file,class,patient_key,view,stage,simulated,source), films/, masks/, COHORT.md
 */
export {
  SPINE_LEVELS,
  VERTEBRA_WIDTH_MM,
  aasceLandmarks,
  repairMissingL5,
  vertebraGeometry,
  mmPerPixel,
  spineCurves,
  type SpineLevel,
  type Point,
  type VertebraLandmarks,
  type VertebraGeometry,
  type SpineCurve,
} from './landmarks.js';
export {
  chooseFusionLevels,
  planFusion,
  planGrowingRods,
  levelIndex,
  type PostopKind,
  type ImageSide,
  type Anchor,
  type Rod,
  type CrossLink,
  type InstrumentedLevels,
  type Instrumentation,
} from './plan.js';
export {
  renderMetal,
  estimateNoiseSd,
  estimateEdgeSigmaPx,
  METAL_KAPPA_PER_MM,
  METAL_MASK_OPACITY,
  type SpineFilm,
  type CompositeDetail,
} from './render.js';
export { simulatePostop, type SimulatePostopOptions, type SimulatedPostop } from './simulate.js';
export {
  writeSpineViewCohort,
  SPINE_POSTOP_GENERATOR_VERSION,
  SPINE_VIEW_COHORT_CLASSES,
  SPINE_VIEW_LABELS_HEADER,
  EXCLUDED_ANATOMY_FILMS,
  type SpineViewCohortClass,
  type SpineViewCohortOptions,
  type SpineViewCohortResult,
} from './cohort.js';
export { SpinePostopOptionsError, SpineCohortExistsError, SpineFolderError } from './errors.js';
