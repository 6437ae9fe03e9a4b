/**
 * Errors raised by the saliency module.
 *
 * Why: a saliency map asked of the wrong output index, or of an input of the wrong shape, must fail
 * with the shape named rather than return a misleading picture.
 */

/** A saliency request that cannot be served (bad input shape, output index out of range, map size mismatch). */
export class SaliencyError extends Error {
  override name = 'SaliencyError';
}

/** A saliency map asked at a stage the model cannot be cut at (an architecture without stages, a stage out of range). */
export class SaliencyStageError extends SaliencyError {
  override name = 'SaliencyStageError';
}
