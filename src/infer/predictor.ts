/**
 * The predictor interface: one way to run a bundled model, whichever runtime executes it.
 *
 * Why one interface: ONNX Runtime is the fast CPU path hospitals deploy, libtorch is what trained the model
 * and the fallback when a bundle has no graph; callers (tasks, CLI, server) must not care which ran. Every
 * result names the model id, version and weights hash so a stored prediction can be traced to its model.
 */
import type { DenseArray } from './ort-adapter.js';

export type { DenseArray } from './ort-adapter.js';

/** Graph input name for the image batch [N, C, H, W]. */
export const ONNX_INPUT_NAME = 'input';
/** Graph input name for the extra scalar inputs [N, k] (sex, chronological age), when the model has them. */
export const ONNX_EXTRA_NAME = 'extra';

/** Which runtime executes a predictor. */
export type PredictorBackend = 'onnx' | 'torch';

/** Identifies the model behind a result. */
export interface PredictionProvenance {
  readonly modelId: string;
  readonly modelVersion: string;
  readonly weightsSha256: string;
  readonly backend: PredictorBackend;
}

/** The outputs of one batch: by card output name, plus the Grad-CAM feature map when the model exports it. */
export interface PredictionResult {
  readonly outputs: Readonly<Record<string, DenseArray>>;
  readonly featureMap?: DenseArray;
  readonly model: PredictionProvenance;
}

/** Runs a bundled model on preprocessed float32 batches. */
export interface Predictor {
  readonly backend: PredictorBackend;
  readonly provenance: PredictionProvenance;
  /**
   * Run one batch.
   * @param input - NCHW float32 image batch, already preprocessed as the card's `input.preprocessing` says
   * @param shape - [N, C, H, W]; C, H, W must equal the card's `input.shape`
   * @param extra - [N * k] scalar inputs in the card's `input.extra` order, when the model has them
   */
  run(input: Float32Array, shape: readonly number[], extra?: Float32Array): Promise<PredictionResult>;
  /** Free the session / model. */
  dispose(): Promise<void>;
}
