/** Input validation shared by the predictor backends, so both refuse the same inputs with the same message. */
import { PredictorError } from './errors.js';
import type { ModelCard } from './model-card.js';

/**
 * Check an image batch and extra inputs against the card; returns the batch size.
 * @param card - the bundle's model card
 * @param input - NCHW data
 * @param shape - [N, C, H, W]
 * @param extra - [N * k] extra scalars, required exactly when the card lists `input.extra`
 */
export function checkPredictorInput(
  card: ModelCard,
  input: Float32Array,
  shape: readonly number[],
  extra: Float32Array | undefined,
): number {
  const want = card.input.shape;
  const tag = `${card.id}@${card.version}`;
  if (shape.length !== 4 || shape.slice(1).some((d, i) => d !== want[i])) {
    throw new PredictorError(
      `${tag}: input shape [${shape.join(',')}] is not [N,${want.join(',')}] from card.json`,
    );
  }
  const n = shape[0] as number;
  if (!Number.isInteger(n) || n < 1)
    throw new PredictorError(`${tag}: batch size ${n} must be a positive integer`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (input.length !== size) {
    throw new PredictorError(
      `${tag}: input has ${input.length} values but shape [${shape.join(',')}] needs ${size}`,
    );
  }
  const k = card.input.extra?.length ?? 0;
  if (k === 0 && extra !== undefined)
    throw new PredictorError(`${tag}: model takes no extra inputs, got ${extra.length}`);
  if (k > 0 && (extra === undefined || extra.length !== n * k)) {
    throw new PredictorError(
      `${tag}: model needs ${k} extra inputs per image (${card.input.extra?.map((e) => e.name).join(', ')}), ` +
        `got ${extra?.length ?? 0} values for batch ${n}`,
    );
  }
  return n;
}
