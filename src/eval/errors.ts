/**
 * Errors raised by the evaluation module.
 *
 * Why: metric code runs at the end of long trainings; a mismatch must say which array and which index
 * was wrong instead of producing a silent NaN in a report.
 */

/** Metric inputs that cannot be scored (length mismatch, non-finite value, empty set, bad class index). */
export class MetricInputError extends Error {
  override name = 'MetricInputError';
}
