/**
 * The one file that touches onnxruntime-node; it is loaded lazily so Physis works (libtorch backend) where
 * the ONNX Runtime binary is absent, and so importing src/infer costs nothing until a graph is run.
 *
 * Why a thin adapter: STYLE.md "heavy or optional dependencies live behind one adapter file each and load
 * lazily" (the pattern of onnxruntime's own backend registration).
 */
import type * as OrtTypes from 'onnxruntime-node';
import { PredictorError } from './errors.js';

/** A dense float32 array with its shape, as the predictors exchange them. */
export interface DenseArray {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** An open ONNX Runtime session over one graph. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, DenseArray>>): Promise<Record<string, DenseArray>>;
  release(): Promise<void>;
}

/** Session options Physis exposes. */
export interface OrtSessionOptions {
  /** Intra-op threads; default ONNX Runtime's choice (one per physical core). */
  readonly threads?: number;
}

type OrtModule = typeof OrtTypes;
let ortModule: Promise<OrtModule> | null = null;

function loadOrt(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-node').catch((e: unknown) => {
    ortModule = null;
    throw new PredictorError(`onnxruntime-node could not be loaded (${(e as Error).message})`);
  });
  return ortModule;
}

/**
 * Open an ONNX Runtime CPU session with full graph optimisation (operator fusion such as Conv+BN+ReLU).
 * @param model - path to a .onnx file or its bytes
 * @param options - thread count
 */
export async function openOrtSession(
  model: string | Uint8Array,
  options: OrtSessionOptions = {},
): Promise<OrtSession> {
  const ort = await loadOrt();
  const sessionOptions: OrtTypes.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    ...(options.threads !== undefined ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
  };
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model, sessionOptions)
      : await ort.InferenceSession.create(model, sessionOptions);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds) {
      const ortFeeds: Record<string, OrtTypes.Tensor> = {};
      for (const [name, a] of Object.entries(feeds))
        ortFeeds[name] = new ort.Tensor('float32', a.data, [...a.shape]);
      const result = await session.run(ortFeeds);
      const out: Record<string, DenseArray> = {};
      for (const [name, t] of Object.entries(result)) {
        if (t.type !== 'float32')
          throw new PredictorError(`ONNX output '${name}' is ${t.type}, expected float32`);
        out[name] = { data: t.data as Float32Array, shape: [...t.dims] };
      }
      return out;
    },
    release: () => session.release(),
  };
}
