/**
 * Errors raised by the clinical tasks.
 *
 * Why: a labels file with one bad row should fail with the file, line and column named, not train on
 * garbage; a sex value that is neither M nor F must never be guessed.
 */

/** A labels or manifest CSV that does not follow its schema; the message names file, line and column. */
export class LabelsError extends Error {
  override name = 'LabelsError';
}

/** A sex value that cannot be read as M or F where one is required (e.g. `--sex X`). */
export class SexError extends Error {
  override name = 'SexError';
}

/** An out-of-distribution model that cannot be fitted or applied (too few images, wrong descriptor count). */
export class OodModelError extends Error {
  override name = 'OodModelError';
}

/** A task name registered twice, or one that is not registered. */
export class TaskRegistryError extends Error {
  override name = 'TaskRegistryError';
}

/** A film's input value that cannot be used (an invalid manifest value, a required input that is unknown). */
export class InputError extends Error {
  override name = 'InputError';
}

/** An output file that exists and would be overwritten without `force` (e.g. a pairs.csv from an earlier run). */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
}
