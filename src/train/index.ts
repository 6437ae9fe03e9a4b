/**
 * Training building blocks: seeded RNG, radiograph augmentation, K-fold splits, progress events, JSONL
 * logs, checkpoints, early stopping and a worker-thread data loader.
 *
 * @example
 * import { Rng, stratifiedKFold } from './train/index.js';
 * const folds = stratifiedKFold(rows.map((r) => ({ target: r.target, stratum: r.group })), 5, { seed: 1 });
 */
export { TrainConfigError, CheckpointError, DataLoaderError } from './errors.js';
export { Rng, mixSeed, type RngState } from './rng.js';
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
export { collate, loadBatch, AUGMENTATION_FIELD, AUGMENTATION_FIELD_LENGTH, type Batch, type Sample, type SampleContext, type SampleModule } from './load-batch.js';
export { preparedOnce, shownPixels, encodeAugmentation } from './sample-image.js';
export { augmentBatch } from './batch-augment.js';
export { TrainDivergedError } from './errors.js';
export {
  RunLockedError,
  OutputExistsError,
  NothingToResumeError,
  SplitError,
  DatasetTooSmallError,
  RecipeError,
} from './run-errors.js';
export {
  acquireRunLock,
  assertFreshOutput,
  isProcessAlive,
  RUN_LOCK_FILE,
  RUN_CHECKPOINT_DIR,
  type RunLock,
  type RunLockInfo,
  type RunLockOptions,
  type FreshOutputOptions,
} from './run-lock.js';
export {
  assignSplits,
  checkMinimumSizes,
  TRAIN_SPLIT,
  DEV_SPLIT,
  type SplitPlan,
  type ExcludedSplit,
  type AssignSplitsOptions,
  type MinimumSizesOptions,
  type MinimumSizes,
} from './splits.js';
export { applyRecipe, recipeDiff, NO_AUGMENTATION_KEYS, type RecipeValue, type ApplyRecipeOptions } from './recipe.js';
export type { TrainingItem, TrainRecipe, RecipePreprocessing, Evaluation, TaskReport, FinaliseContext, Finalised, ReportImage, TrainingTask } from './training-task.js';
export { recipePreprocessing } from './training-task.js';
export {
  trainModel,
  trainModelOnRank,
  taskLoader,
  predictOutputs,
  initFromWeights,
  setBackboneFrozen,
  TRAINING_ROWS_ROLE,
  trainingRowHashes,
  sha256File,
  TRAINING_ROWS_FILE,
  type TrainOptions,
  type TrainResult,
  type TrainWorkerResult,
  type EpochRecord,
  type InitReport,
  type AveragedWeights,
} from './trainer.js';
export { WeightAverager, recomputeBatchNorm, snapshotSteps, type WeightAveragingConfig } from './weight-averaging.js';
export { launchWorkers, visibleGpus, distributedEnv, threadsPerWorker, freePort, WorkerFailedError, type DistributedEnv, type LaunchOptions } from './launch.js';
export {
  crossValidate,
  type CrossValidateOptions,
  type CrossValidateResult,
  type EnsembleCalibration,
} from './cross-validate.js';
export { ttaViews, stackViews, predictTtaVariants, TTA_AUGMENTATION, DEFAULT_TTA_VIEWS } from './tta.js';
export { pooledFeatures, loaderPooledFeatures, featuresAndHead, predictWithFeatures, POOLED_FEATURES_DESCRIPTION, type ItemPass } from './features.js';
