/**
 * Backend resolution for predictors (the pattern of onnxruntime's `registerBackend`/`resolveBackend`):
 * ONNX Runtime when the bundle ships a graph, libtorch otherwise, or whichever the caller names.
 */
import type { ModelBundle } from './bundle.js';
import { PredictorError } from './errors.js';
import { createOnnxPredictor } from './onnx-predictor.js';
import type { Predictor, PredictorBackend } from './predictor.js';
import { createTorchPredictor } from './torch-predictor.js';

/** Options of `createPredictor`. */
export interface CreatePredictorOptions {
  /** 'auto' (default): ONNX Runtime if the bundle has a graph, else libtorch. */
  readonly backend?: 'auto' | PredictorBackend;
  /** Intra-op threads for the chosen runtime. */
  readonly threads?: number;
}

/**
 * Open a predictor over a loaded bundle.
 *
 * ```ts
 * const predictor = await createPredictor(loadBundle('bundles/my-model'));
 * const r = await predictor.run(pixels, [1, 1, 512, 512], Float32Array.from([1]));
 * // r.outputs[card.outputs[0].name].data[0] -> the first output; r.model -> { modelId, modelVersion, weightsSha256, backend: 'onnx' }
 * ```
 * @param bundle - from `loadBundle`
 * @param options - backend choice and threads
 */
export async function createPredictor(
  bundle: ModelBundle,
  options: CreatePredictorOptions = {},
): Promise<Predictor> {
  const backend = options.backend ?? 'auto';
  const threads = options.threads !== undefined ? { threads: options.threads } : {};
  if (backend === 'onnx' || (backend === 'auto' && bundle.onnxPath !== null)) {
    return createOnnxPredictor(bundle, threads);
  }
  if (backend === 'torch' || backend === 'auto') return createTorchPredictor(bundle, threads);
  throw new PredictorError(
    `unknown predictor backend '${String(backend)}'; expected 'auto', 'onnx' or 'torch'`,
  );
}
