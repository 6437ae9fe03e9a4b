/**
 * Errors of the knee phantom generator.
 *
 * Why: a cohort folder that already holds a manifest is someone's data set; overwriting it silently would lose it,
 * so the refusal is a typed error a caller can catch and explain (or pass `force`).
 */

/** Invalid generator options (a skeletal age outside 0–216 months, a bad size, sex or laterality). */
export class KneePhantomOptionsError extends Error {
  override name = 'KneePhantomOptionsError';
}

/** The cohort folder exists and is not empty, and `force` was not given. */
export class KneeCohortExistsError extends Error {
  override name = 'KneeCohortExistsError';
}

/** The hands folder has no usable labels.csv (missing, or without the RSNA columns). */
export class HandsFolderError extends Error {
  override name = 'HandsFolderError';
}
