/** The ONNX Runtime implementation of `Predictor`, over a bundle's model.onnx. */
import { PredictorError } from './errors.js';
import type { ModelBundle } from './bundle.js';
import { checkPredictorInput } from './check-input.js';
import { openOrtSession, type DenseArray, type OrtSessionOptions } from './ort-adapter.js';
import { ONNX_EXTRA_NAME, ONNX_INPUT_NAME, type PredictionResult, type Predictor } from './predictor.js';

/**
 * Open a predictor that runs the bundle's ONNX graph on ONNX Runtime (CPU).
 * @param bundle - a loaded (hash-verified) bundle with an ONNX graph
 * @param options - thread count
 */
export async function createOnnxPredictor(
  bundle: ModelBundle,
  options: OrtSessionOptions = {},
): Promise<Predictor> {
  const { card } = bundle;
  if (bundle.onnxPath === null) {
    throw new PredictorError(`${bundle.dir}: bundle ${card.id}@${card.version} has no ONNX graph`);
  }
  const session = await openOrtSession(bundle.onnxPath, options);
  const needed = [...card.outputs.map((o) => o.name), ...(card.featureMap ? [card.featureMap.output] : [])];
  for (const name of needed) {
    if (!session.outputNames.includes(name)) {
      await session.release();
      throw new PredictorError(
        `${bundle.onnxPath}: graph has no output '${name}' named in card.json (outputs: ${session.outputNames.join(', ')})`,
      );
    }
  }
  const provenance = {
    modelId: card.id,
    modelVersion: card.version,
    weightsSha256: card.files.weights.sha256,
    backend: 'onnx' as const,
  };
  return {
    backend: 'onnx',
    provenance,
    async run(input, shape, extra): Promise<PredictionResult> {
      const n = checkPredictorInput(card, input, shape, extra);
      const feeds: Record<string, DenseArray> = { [ONNX_INPUT_NAME]: { data: input, shape } };
      if (extra !== undefined) feeds[ONNX_EXTRA_NAME] = { data: extra, shape: [n, extra.length / n] };
      const result = await session.run(feeds);
      const outputs: Record<string, DenseArray> = {};
      for (const o of card.outputs) outputs[o.name] = result[o.name] as DenseArray;
      const featureMap = card.featureMap ? result[card.featureMap.output] : undefined;
      return { outputs, ...(featureMap ? { featureMap } : {}), model: provenance };
    },
    dispose: () => session.release(),
  };
}
