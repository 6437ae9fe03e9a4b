/**
 * Errors raised before a training run starts: its output folder, its data split and its recipe.
 *
 * Why: these are the mistakes a user makes at the command line (a second run into the same folder, a
 * finished bundle about to be overwritten, a split column with no dev rows, a typo in a recipe key). Each
 * surfaces as one line whose class names the check that failed, and carries the facts in fields so a
 * caller can react without parsing the message. Kept apart from errors.ts, which holds the errors of a
 * running trainer (checkpoints, loader workers).
 */
import { TrainConfigError } from './errors.js';

/** Another live run holds the output folder's lock; two runs writing one bundle would interleave files. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  /**
   * @param message - one line naming the folder, the holder's pid and start time
   * @param dir - the output folder
   * @param pid - the holder's process id (null when the lock file could not be read)
   * @param startedAt - the holder's start time, ISO 8601 (null when unreadable)
   */
  constructor(
    message: string,
    readonly dir: string,
    readonly pid: number | null,
    readonly startedAt: string | null,
  ) {
    super(message);
  }
}

/** The output folder already holds a finished bundle, and neither force nor resume was asked for. */
export class OutputExistsError extends Error {
  override name = 'OutputExistsError';
  /**
   * @param message - one line naming the folder and the files found
   * @param dir - the output folder
   * @param files - the bundle files that exist there
   */
  constructor(
    message: string,
    readonly dir: string,
    readonly files: readonly string[],
  ) {
    super(message);
  }
}

/** Resume was asked for, but the output folder has no checkpoint to resume from. */
export class NothingToResumeError extends Error {
  override name = 'NothingToResumeError';
  /**
   * @param message - one line naming the folder
   * @param dir - the output folder
   */
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super(message);
  }
}

/** The rows' split values cannot give a training and a dev set (e.g. only `test` and `dev` rows). */
export class SplitError extends TrainConfigError {
  override name = 'SplitError';
  /**
   * @param message - one line naming the split values found
   * @param values - each distinct split value with its row count
   */
  constructor(
    message: string,
    readonly values: readonly { readonly split: string; readonly count: number }[],
  ) {
    super(message);
  }
}

/** Too few training or dev rows to train, checked before any image is loaded. */
export class DatasetTooSmallError extends TrainConfigError {
  override name = 'DatasetTooSmallError';
}

/** A recipe file or override names an unknown key, gives a value of the wrong type, or is not valid JSON. */
export class RecipeError extends TrainConfigError {
  override name = 'RecipeError';
  /**
   * @param message - one line naming the key and what was expected
   * @param key - the dotted key path at fault ('' for the whole recipe)
   */
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}
