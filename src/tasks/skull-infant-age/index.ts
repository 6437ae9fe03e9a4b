/**
 * The skull-infant-age task: labels, recipes, the feature-distance check, the saliency check against masks, the
 * phantom generator, and the task object registered as `skull-infant-age`.
 *
 * @example
 * import { getTask } from './tasks/index.js';
 * getTask('skull-infant-age').readLabels('phantoms/labels.csv');
 */
export {
  AGE_CLASS_COUNT,
  AGE_CLASS_NAMES,
  MAX_AGE_MONTHS,
  PHANTOM_NOTICE,
  SKULL_INFANT_AGE_RECIPE,
  SKULL_PUBLISHED_RESULTS,
  SKULL_VIEWS,
  ageClassOf,
  type SkullView,
} from './config.js';
export { parseSkullLabels, readSkullLabels, parseSkullView, type SkullLabel } from './labels.js';
export { fitSkullOod, checkSkullFeatures, parseSkullOod, type SkullOodModel, type SkullState } from './state.js';
export {
  measureSaliency,
  SKULL_SALIENCY_MASK_SETS,
  type MaskedFilm,
  type SaliencySummary,
  type SkullSaliencyMaskSet,
  type SkullSaliencyStage,
} from './saliency.js';
export { viewAnswer, classProbabilities, predictedClass, type SkullViewAnswer } from './predict.js';
export { SKULL_INFANT_AGE_TASK, formatSkullInfantAge, type SkullItem } from './task.js';
export * from './phantom/index.js';
export { runSkullDemo, SKULL_DEMO, type SkullDemoResult } from './demo.js';
