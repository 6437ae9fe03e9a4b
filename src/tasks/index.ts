/**
 * Clinical tasks: the Task interface and registry, the one inference pipeline, training and evaluation of a
 * registered task, and one folder per task. Each built-in task is registered here with one line.
 *
 * @example
 * import { getTask, openTaskModels, analyseFilm } from './tasks/index.js';
 * const models = openTaskModels(getTask('hand-bone-age'), 'models/hand-bone-age');
 */
import { HAND_BONE_AGE_TASK } from './hand-bone-age/index.js';
import { SKULL_INFANT_AGE_TASK } from './skull-infant-age/index.js';
import { KNEE_BONE_AGE_TASK } from './knee-bone-age/index.js';
import { SUITABILITY_TASK } from './suitability/index.js';
import { SPINE_VIEW_TASK } from './spine-view/index.js';
import { registerTask } from './registry.js';

export { LabelsError, SexError, OodModelError, TaskRegistryError, InputError } from './errors.js';
export type {
  Task,
  Acceptance,
  GateSummary,
  InputSpec,
  InputSource,
  GateViewVerdict,
  SaliencyTarget,
  ResolvedInput,
  Refusal,
  FirstPass,
  Variant,
  MemberRoute,
  FilmContext,
  TaskAnswer,
  ModelProvenance,
  FilmResult,
  CodedConcept,
  FindingQualifier,
  NumericFinding,
  CodedFinding,
  ReportFinding,
  RecalibrateIntervalOptions,
} from './task.js';
export {
  PHYSIS_CODING_SCHEME,
  PHYSIS_CODING_SCHEME_NAME,
  physisCode,
  UCUM_MONTH,
  UCUM_NO_UNITS,
  SEX_CODES,
  ASSUMED_SEX,
  GIVEN_SEX,
  sexQualifier,
} from './report-codes.js';
export { registerTask, unregisterTask, getTask, listTasks } from './registry.js';
export { inputRefusal, resolveInputs, variantsOf, type GivenInputs } from './inputs.js';
export { registryTrainingTable } from './registry-labels.js';
export { readManifest, type ManifestEntry } from './manifest.js';
export { openTaskModels, closeTaskModels, analyseFilm, cardPreprocessing, type TaskModels, type AnalyseOptions } from './pipeline.js';
export { trainTask, labelsPath, type TrainTaskOptions, type TrainTaskResult } from './training.js';
export { evaluateModels, type EvaluateOptions, type EvaluateResult } from './evaluate.js';
export { ingestFolder, ingestBytes, type IngestFilm, openIngestModels, closeIngestModels, readOrCreateKey, deidentifiedInstance, pseudonymOf, shiftedDate, predictionFields, type IngestModels, type IngestTask, type IngestOptions, type IngestSummary, type IngestFilmOutcome, type IngestTaskOutcome, type IngestProgress } from './ingest.js';
export * as handBoneAge from './hand-bone-age/index.js';
export * as suitability from './suitability/index.js';
export * as skullInfantAge from './skull-infant-age/index.js';
export * as kneeBoneAge from './knee-bone-age/index.js';
export * as spineViewPostop from './spine-view/postop/index.js';
export * as spineView from './spine-view/index.js';
export { SUITABILITY_TASK, SUITABILITY_RECIPE } from './suitability/index.js';
export { HAND_BONE_AGE_TASK, HAND_BONE_AGE_RECIPE, HAND_GPU_RECIPE, HAND_SWA_RECIPE, HAND_AGE_BANDS_MONTHS, HAND_WITHIN_THRESHOLDS_MONTHS } from './hand-bone-age/index.js';

registerTask(HAND_BONE_AGE_TASK);
registerTask(SUITABILITY_TASK);
registerTask(SKULL_INFANT_AGE_TASK);
registerTask(KNEE_BONE_AGE_TASK);
registerTask(SPINE_VIEW_TASK);
