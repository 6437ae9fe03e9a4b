/**
 * The spine-view task: labels (classes from the data, a grouped 70/15/15 split when the file has none, class
 * weights), recipes, the bundle's artifacts (class list, reject threshold, feature distance), the answer with its
 * reject option, and the task object registered as `spine-view`. The simulated post-operative cohort is in postop/.
 *
 * @example
 * import { getTask } from './tasks/index.js';
 * getTask('spine-view').readLabels('runs/spine-cohort/labels.csv'); // items with className, classIndex, split
 */
export {
  SPINE_VIEW_DEFAULT_CLASSES,
  SPINE_VIEW_RECIPE,
  SPINE_VIEW_EFFICIENTNET_RECIPE,
  SPINE_VIEW_PUBLISHED_RESULTS,
  SPINE_VIEW_PAPER,
  SPINE_TARGET_ACCURACY,
  SIMULATED_NOTICE,
  type SpineViewRecipe,
} from './config.js';
export {
  parseSpineViewLabels,
  readSpineViewLabels,
  classListOf,
  classWeights,
  groupedStratifiedSplit,
  SPINE_VIEW_SPLIT_SHARES,
  SPINE_VIEW_SPLIT_SEED,
  type SpineViewLabel,
} from './labels.js';
export {
  openSpineViewMember,
  parseSpineClasses,
  parseSpineReject,
  spineFeatureRefusal,
  SPINE_CLASSES_FILE,
  SPINE_REJECT_FILE,
  SPINE_OOD_FILE,
  type SpineViewState,
  type SpineClassesRecord,
  type SpineRejectRecord,
} from './state.js';
export { decide, spineProbabilities, predictSpineView, type SpineViewAnswer } from './predict.js';
export { SPINE_VIEW_TASK, formatSpineView, type SpineViewItem } from './task.js';
