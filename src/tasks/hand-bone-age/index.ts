/**
 * The hand-bone-age task: labels and manifest schema, sex resolution, Greulich-Pyle reference SDs and
 * SDS, and the default model/recipe.
 *
 * @example
 * import { readBoneAgeLabels, resolveSex } from './tasks/index.js';
 * const rows = readBoneAgeLabels('../shared/data/rsna-hand/labels.csv'); // 1023 rows
 * resolveSex({ manifest: '', dicom: 'O' }); // { sex: null, sexSource: 'unknown' }
 */
export { parseSex, requireSex, resolveSex, type Sex, type SexSource, type ResolvedSex, type SexSources } from './sex.js';
export {
  parseBoneAgeLabels,
  readBoneAgeLabels,
  parseManifest,
  labelsInSplit,
  MAX_BONE_AGE_MONTHS,
  type BoneAgeLabel,
  type ManifestEntry,
} from './labels.js';
export {
  GP_REFERENCE,
  referenceSdMonths,
  boneAgeSds,
  type BoneAgeReference,
  type BoneAgeSds,
  type ReferenceSdRow,
} from './gp-reference.js';
export { HAND_BONE_AGE_DEFAULT_CONFIG, sexInput, type HandBoneAgeConfig, type TaskAugmentation } from './config.js';
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
  type OodModel,
  type OodFitOptions,
  type OodVerdict,
} from './ood.js';
