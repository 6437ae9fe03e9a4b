/**
 * Errors raised by the training module.
 *
 * Why: training failures surface in the CLI as one line; the name says which part failed (a fold
 * split that cannot be made, a checkpoint that cannot be resumed, a worker that crashed).
 */

/** Invalid training configuration (fold count larger than the data, bad augmentation range). */
export class TrainConfigError extends Error {
  override name = 'TrainConfigError';
}

/** A checkpoint that is missing, unreadable or inconsistent with the run being resumed. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A data-loader worker failed to load a sample; the message names the item and the worker's error. */
export class DataLoaderError extends Error {
  override name = 'DataLoaderError';
}

/** A run whose loss or dev metric stopped being finite; the message names the epoch and step. */
export class TrainDivergedError extends Error {
  override name = 'TrainDivergedError';
}
