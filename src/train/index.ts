/**
 * Training building blocks: seeded RNG, radiograph augmentation, K-fold splits, progress events, JSONL
 * logs, checkpoints, early stopping and a worker-thread data loader.
 *
 * @example
 * import { Rng, stratifiedKFold } from './train/index.js';
 * const folds = stratifiedKFold(rows.map((r) => ({ target: r.boneAgeMonths, stratum: r.sex })), 5, { seed: 1 });
 */
export { TrainConfigError, CheckpointError, DataLoaderError } from './errors.js';
export { Rng, mixSeed, type RngState } from './rng.js';
export {
  augment,
  applyAugmentation,
  sampleAugmentation,
  validateAugmentation,
  augmentationInverseMatrix,
  warpAffine,
  adjustIntensity,
  randomCrop,
  identityParams,
  type GrayImage,
  type AffineMatrix,
  type AugmentationConfig,
  type AugmentationParams,
} from './augment.js';
export { stratifiedKFold, groupedKFold, type Fold, type StratifyItem, type StratifiedKFoldOptions } from './folds.js';
export {
  ProgressReporter,
  formatDuration,
  formatProgress,
  type ProgressEvent,
  type ProgressListener,
  type ProgressOptions,
} from './progress.js';
export { JsonlLogger, readJsonl } from './jsonl-logger.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  configFingerprint,
  CHECKPOINT_FILE,
  CHECKPOINT_VERSION,
  type TrainState,
} from './checkpoint.js';
export {
  EarlyStopping,
  type EarlyStoppingOptions,
  type EarlyStoppingState,
  type EarlyStoppingDecision,
} from './early-stopping.js';
export { DataLoader, type DataLoaderOptions } from './data-loader.js';
export { collate, loadBatch, type Batch, type Sample, type SampleContext, type SampleModule } from './load-batch.js';
export { loadSample as loadBoneAgeSample, preprocessBoneAgeImage, type BoneAgeItem, type BoneAgeSampleOptions } from './bone-age-sample.js';
export {
  boneAgeModelOptions,
  createBoneAgeModel,
  loadBoneAgeBundleModel,
  predictBatch,
  predictBoneAges,
  predictWithLoader,
  createBoneAgeLoader,
  initFromWeights,
  setBackboneFrozen,
  BONE_AGE_SAMPLE_MODULE,
  type InitReport,
  type LabelledBoneAgeItem,
  type BoneAgeLoaderOptions,
} from './bone-age-model.js';
export {
  trainBoneAge,
  evaluateBoneAgeBundle,
  loadBundleOodModel,
  OOD_FILE,
  type BoneAgeTrainOptions,
  type BoneAgeTrainResult,
  type EpochRecord,
} from './train-bone-age.js';
export {
  ttaViews,
  predictTta,
  predictTtaSexes,
  calibrateInterval,
  heldOutCoverage,
  intervalOf,
  TTA_AUGMENTATION,
  DEFAULT_TTA_VIEWS,
  TTA_SD_FLOOR_MONTHS,
  type TtaPrediction,
  type IntervalCalibration,
} from './tta.js';
export { pooledFeatures, featuresAndHead, OOD_FEATURES_DESCRIPTION } from './ood-features.js';
export {
  openBoneAgeModels,
  disposeBoneAgeModels,
  ensembleMean,
  calibrateOofInterval,
  predictBoneAgesWithSet,
  evaluateBoneAgeModels,
  type BoneAgeMember,
  type BoneAgeModelSet,
  type ResidualIntervalCalibration,
} from './bone-age-composite.js';
