/**
 * Film results of two tasks as the pipeline gives them, for the PACS writers' tests: a numeric task (hand bone age,
 * sex unknown: one answer per sex) and a coded one (spine view), each answered and refused by the gate.
 */
import type { FilmResult, GateSummary } from '../../src/tasks/index.js';

const GATE: GateSummary = {
  model: { id: 'suitability-gate-test', weightsSha256: 'cd'.repeat(32), dir: 'models/suitability' },
  verdict: {},
  corrections: [],
  metadata: [],
};

/** A hand-bone-age answer for a film of unknown sex. */
export const HAND_ANSWERED: FilmResult = {
  file: 'film.dcm',
  task: 'hand-bone-age',
  inputs: { sex: { value: null, source: 'unknown' } },
  model: { id: 'hand-bone-age-r18-test', version: '1.2.0', weightsSha256: 'ab'.repeat(32), dir: 'models/hand-bone-age' },
  gate: GATE,
  answer: {
    boneAgeMonthsBySex: { M: 15.612345678, F: 15.3 },
    interval90BySex: { M: { lowMonths: 0.5, highMonths: 30.8 }, F: { lowMonths: 3.6, highMonths: 27.0123456789 } },
    sex: null,
    sexSource: 'unknown',
  },
};

/** A hand film the gate refused (its reason has a non-ASCII character, as real reasons do). */
export const HAND_REFUSED: FilmResult = {
  file: 'film.dcm',
  task: 'hand-bone-age',
  model: HAND_ANSWERED.model,
  gate: GATE,
  rejected: { reason: 'chest radiograph (p 0.97), not a left-hand PA radiograph; children ≤ 18 y only' },
};

/** A spine-view answer above the reject threshold. */
export const SPINE_ANSWERED: FilmResult = {
  file: 'film.dcm',
  task: 'spine-view',
  inputs: {},
  model: { id: 'spine-view-test', version: '0.3.1', weightsSha256: 'ef'.repeat(32), dir: 'models/spine-view' },
  gate: GATE,
  answer: {
    decision: 'class',
    class: 'lateral_postop_3',
    mostLikely: 'lateral_postop_3',
    probability: 0.9731,
    probabilities: { lateral_postop_3: 0.9731, ap_preop_1: 0.0269 },
    rejectThreshold: 0.9,
  },
};

/** A spine film the gate refused. */
export const SPINE_REFUSED: FilmResult = {
  file: 'film.dcm',
  task: 'spine-view',
  model: SPINE_ANSWERED.model,
  gate: GATE,
  rejected: { reason: 'hand radiograph (p 0.99), not an AP or lateral spine radiograph' },
};

/** The cases, by name. */
export const RESULT_CASES: readonly { readonly name: string; readonly result: FilmResult }[] = [
  { name: 'hand answered, sex unknown', result: HAND_ANSWERED },
  { name: 'hand refused by the gate', result: HAND_REFUSED },
  { name: 'spine answered', result: SPINE_ANSWERED },
  { name: 'spine refused by the gate', result: SPINE_REFUSED },
];
