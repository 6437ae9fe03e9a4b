/**
 * Errors of the post-operative spine simulator and its cohort writer.
 *
 * Why: a cohort folder that already holds films is someone's data set; overwriting it silently would lose it, so the
 * refusal is a typed error a caller can catch and explain (or pass `force`). Bad landmarks or options are refused
 * before any metal is drawn, with the input that made them bad.
 */

/** Invalid simulator input: landmarks of the wrong length or outside the film, an unknown kind, a bad seed. */
export class SpinePostopOptionsError extends Error {
  override name = 'SpinePostopOptionsError';
}

/** The cohort folder exists and is not empty, and `force` was not given. */
export class SpineCohortExistsError extends Error {
  override name = 'SpineCohortExistsError';
}

/** The AASCE (or anatomy) folder has no usable labels.csv, or a listed film is missing. */
export class SpineFolderError extends Error {
  override name = 'SpineFolderError';
}
