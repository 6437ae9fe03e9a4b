/** A bundle directory lacks a file its model card requires (or lacks the card itself); the message names it. */
export class BundleIncompleteError extends Error {
  override name = 'BundleIncompleteError';
}

/**
 * A bundle file does not match the sha256 its card records, or a file is present that the card does not
 * vouch for; the message names the file and both hashes.
 */
export class BundleIntegrityError extends Error {
  override name = 'BundleIntegrityError';
}

/** card.json is not a valid model card; the message names the field and what was expected. */
export class ModelCardError extends Error {
  override name = 'ModelCardError';
}

/** A predictor was asked for something it cannot do (wrong input shape, unavailable backend, unknown output). */
export class PredictorError extends Error {
  override name = 'PredictorError';
}

/** composite.json is not a valid composite manifest; the message names the field and what was expected. */
export class CompositeError extends Error {
  override name = 'CompositeError';
}

/**
 * A composite's member bundle is not the one composite.json pins (another card id or weights sha256), is of
 * another task, or is not trained on the sex its slot needs; the message names the member folder.
 */
export class CompositeMemberError extends Error {
  override name = 'CompositeMemberError';
}
