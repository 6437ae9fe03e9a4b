/** The libtorch implementation of `Predictor`: the zoo model rebuilt from the card, weights from safetensors. */
import {
  noGrad,
  parseSafetensors,
  rawToTensor,
  setNumThreads,
  tensor,
  tidy,
  type Tensor,
} from '../torch/index.js';
import { createModel, type ModelOptions, type ZooModel } from '../models/index.js';
import type { ModelBundle } from './bundle.js';
import { checkPredictorInput } from './check-input.js';
import { PredictorError } from './errors.js';
import type { DenseArray, PredictionResult, Predictor } from './predictor.js';

/** Options of the libtorch predictor. */
export interface TorchPredictorOptions {
  /** Sets libtorch's intra-op thread count (process-wide) when given. */
  readonly threads?: number;
}

/**
 * Build the card's architecture and load the bundle's weights into it strictly (every key, every shape), in eval
 * mode. The weights are parsed from the very bytes whose sha256 `loadBundle` checked, so the file is read once and
 * a file swapped afterwards cannot slip in.
 * @param bundle - a loaded bundle
 */
export function loadBundleModel(bundle: ModelBundle): ZooModel {
  const { card } = bundle;
  const bytes = bundle.weightsBytes;
  let model: ZooModel;
  try {
    model = createModel(card.architecture.name, card.architecture.options as ModelOptions);
  } catch (e) {
    throw new PredictorError(
      `${bundle.dir}: cannot build architecture from card.json (${(e as Error).message})`,
    );
  }
  const { tensors } = parseSafetensors(bytes, bundle.weightsPath);
  try {
    tidy(() => {
      const sd = new Map<string, Tensor>();
      for (const [name, raw] of tensors) sd.set(name, rawToTensor(raw, name));
      model.loadStateDict(sd); // copy_ converts fp16 weights to the model's fp32
    });
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  return model;
}

/**
 * A predictor running the bundle's model on libtorch (see `loadBundleModel` for how it is loaded).
 * @param bundle - a loaded bundle
 * @param options - thread count
 */
export async function createTorchPredictor(
  bundle: ModelBundle,
  options: TorchPredictorOptions = {},
): Promise<Predictor> {
  const { card } = bundle;
  if (options.threads !== undefined) setNumThreads(options.threads);
  const model = loadBundleModel(bundle);
  const provenance = {
    modelId: card.id,
    modelVersion: card.version,
    weightsSha256: card.files.weights.sha256,
    backend: 'torch' as const,
  };
  const outputName = card.outputs[0]?.name ?? 'output';
  const wantFeatures = card.featureMap !== undefined;
  return {
    backend: 'torch',
    provenance,
    run(input, shape, extra): Promise<PredictionResult> {
      const n = checkPredictorInput(card, input, shape, extra);
      const [out, fm] = tidy(() =>
        noGrad(() => {
          const x = tensor(input, shape);
          const e = extra === undefined ? undefined : tensor(extra, [n, extra.length / n]);
          const features = model.forwardFeatures(x);
          const y = model.forwardHead(features, e);
          const dense = (t: Tensor): DenseArray => ({ data: t.toFloat32Array(), shape: [...t.shape] });
          return [dense(y), wantFeatures ? dense(features) : undefined] as const;
        }),
      );
      return Promise.resolve({
        outputs: { [outputName]: out },
        ...(fm ? { featureMap: fm } : {}),
        model: provenance,
      });
    },
    dispose(): Promise<void> {
      model.dispose();
      return Promise.resolve();
    },
  };
}
