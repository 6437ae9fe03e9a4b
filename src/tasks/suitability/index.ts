/**
 * The suitability gate: a task of its own (trained and shipped like any other) and the verdict every other task's
 * films pass first.
 */
export { SUITABILITY_TASK } from './task.js';
export { SUITABILITY_RECIPE, ANATOMY, VIEW, MODALITY, ORIENTATION, POLARITY, LATERALITY, HEAD_GROUPS, HEAD_WIDTH, type Anatomy } from './config.js';
export { collectSuitabilityRows, mergeSuitabilityRows, writeSuitabilityLabels, readSuitabilityLabels, parseSuitabilityLabels, type SuitabilityItem, type SuitabilitySources } from './labels.js';
export { readVerdict, judgeVerdict, gateProbabilities, openSetDistances, type GateVerdict, type GateAnswer, type Judgement } from './verdict.js';
export { parseGateFile, openGateMember, GATE_FILE, GATE_ROLE, type GateFile, type GateState } from './state.js';
export { gateDisplay, gateInput } from './gate-input.js';
export { targetsOf, drawTransform } from './sample.js';
export { openGate, closeGate, gateFilm, gateVerdict, gateProvenance, checkMetadata, triageRadiograph, type Gate, type GateReport, type GateOutcome, type GateProvenance } from './gate.js';
export { cleanSideLabels } from './clean.js';
