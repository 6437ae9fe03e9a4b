/**
 * The hand-bone-age task: labels and manifest schema, sex parsing, Greulich-Pyle reference SDs and SDS, the OOD
 * check, the default recipe, and the task object registered as `hand-bone-age`.
 *
 * @example
 * import { getTask } from './tasks/index.js';
 * const rows = getTask('hand-bone-age').readLabels('../shared/data/rsna-hand/labels.csv'); // 1023 rows
 */
export { parseSex, requireSex, type Sex } from './sex.js';
export { parseBoneAgeLabels, readBoneAgeLabels, MAX_BONE_AGE_MONTHS, type BoneAgeLabel } from './labels.js';
export {
  GP_REFERENCE,
  referenceSdMonths,
  boneAgeSds,
  type BoneAgeReference,
  type BoneAgeSds,
  type ReferenceSdRow,
} from './gp-reference.js';
export { HAND_BONE_AGE_RECIPE, HAND_GPU_RECIPE, HAND_SWA_RECIPE, HAND_WITHIN_THRESHOLDS_MONTHS, HAND_AGE_BANDS_MONTHS, sexInput, type HandRecipe } from './config.js';
export {
  OOD_DESCRIPTORS,
  OOD_FORMAT,
  OOD_FORMAT_VERSION,
  DEFAULT_OOD_PERCENTILE,
  DEFAULT_OOD_MARGIN,
  handDescriptors,
  fitOodModel,
  mahalanobis,
  checkHand,
  parseOodModel,
  serializeOodModel,
  type OodModel,
  type OodFitOptions,
  type OodVerdict,
} from './ood.js';
export { OOD_ROLE, OOD_FILE, INTERVAL_ROLE, INTERVAL_FILE, parseIntervalCalibration, type HandState, type IntervalCalibrationFile } from './state.js';
export { preprocessHandImage } from './sample.js';
export { measureHandSaliency, HAND_SALIENCY } from './saliency.js';
export { upgradeHandBundle, recordHandTrainingRows } from './upgrade.js';
export { HAND_BONE_AGE_TASK, SEX_INPUT, calibrateHandEnsemble, formatHandBoneAge, type HandItem } from './task.js';
export { TTA_SD_FLOOR_MONTHS, INTERVAL_TTA_VIEWS, calibrateHandInterval, recalibrateHandBundle, nextPatchVersion, type IntervalCase } from './interval.js';
