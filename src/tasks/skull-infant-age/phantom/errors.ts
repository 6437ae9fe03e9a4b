/**
 * Errors of the phantom generator.
 *
 * Why: a cohort folder that already holds labels is someone's data set; overwriting it silently would lose it, so
 * the refusal is a typed error a caller can catch and explain (or pass `force`).
 */

/** Invalid generator options (an age outside 0–13 months, a non-positive size or infant count). */
export class PhantomOptionsError extends Error {
  override name = 'PhantomOptionsError';
}

/** The cohort folder already holds a `labels.csv` and `force` was not given. */
export class CohortExistsError extends Error {
  override name = 'CohortExistsError';
}
