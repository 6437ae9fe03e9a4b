/**
 * Knee bone age by transfer from the hand model: the task, its labels file, the pairing of knee and hand films, the
 * teacher's pseudo-labels, and the procedural knee phantoms of the semi-synthetic validation cohort.
 *
 * @example
 * $ physis phantoms knee-bone-age --out runs/knee-cohort
 * $ physis train knee-bone-age --pairs runs/knee-cohort/manifest.csv --teacher models/hand-bone-age --init models/hand-bone-age --folds 5 --out runs/knee
 */
export { KNEE_BONE_AGE_TASK, formatKneeBoneAge, type KneeItem } from './task.js';
export { KNEE_BONE_AGE_RECIPE, KNEE_CONVNEXT_RECIPE, KNEE_MAX_AGE_MONTHS, KNEE_PHANTOM_NOTICE, KNEE_PUBLISHED_RESULTS, kneeExtraInputs } from './config.js';
export { AGE_INPUT } from './inputs.js';
export { parseKneeLabels, readKneeLabels, KNEE_LABELS_HEADER, type KneeLabel, type LabelSource } from './labels.js';
export { prepareKneeLabels, KNEE_LABEL_POLICIES, type KneeLabelPolicy, type PrepareKneeOptions, type PreparedKneeLabels } from './prepare.js';
export { openKneeMember, type KneeState, type KneeLabelProvenance, type KneeIntervalFile } from './state.js';
export { measureKneeSaliency, type KneeMaskedFilm } from './saliency.js';
export * from './pairing.js';
export * from './phantom/index.js';
