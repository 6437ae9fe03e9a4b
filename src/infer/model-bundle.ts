/**
 * From a trained zoo model to a bundle: ONNX export with the Grad-CAM feature map as a second output, weights as
 * safetensors (fp32 or fp16), and the card with the architecture filled in from the model itself.
 */
import {
  exportOnnx,
  noGrad,
  ONNX_OPSET,
  serializeSafetensors,
  tensorToRaw,
  type RawTensor,
} from '../torch/index.js';
import { getArchitecture, type ZooModel } from '../models/index.js';
import { physisVersion, saveBundle, type ArtifactContents, type ModelBundle, type ModelCardDraft } from './bundle.js';
import { loadBundleModel } from './torch-predictor.js';
import { PredictorError } from './errors.js';
import { ONNX_EXTRA_NAME, ONNX_INPUT_NAME } from './predictor.js';

/** Name of the feature-map graph output unless the card says otherwise. */
export const DEFAULT_FEATURE_MAP_OUTPUT = 'featureMap';

/** Options of `exportZooModelOnnx`. */
export interface ZooExportOptions {
  /** Input height and width in pixels. */
  readonly height: number;
  readonly width: number;
  /** Graph output name of the head output (the card's first output name). */
  readonly outputName: string;
  /** Graph output name of the last convolutional feature map; omit to export the head output only. */
  readonly featureMapOutput?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Export a zoo model to ONNX: input `input` [batch, C, H, W] (and `extra` [batch, k] when the head takes extra
 * scalars), outputs the head and optionally the feature map that Grad-CAM weighs (Selvaraju et al. 2017).
 * @param model - the model (put in eval mode for the trace, restored after)
 * @param o - input size, output names, metadata
 */
export function exportZooModelOnnx(model: ZooModel, o: ZooExportOptions): Uint8Array {
  const inputs = [{ name: ONNX_INPUT_NAME, shape: [2, model.inChannels, o.height, o.width] }];
  if (model.extraInputs > 0) inputs.push({ name: ONNX_EXTRA_NAME, shape: [2, model.extraInputs] });
  const { bytes } = exportOnnx(model, {
    inputs,
    forward: (x, extra) => {
      const features = model.forwardFeatures(x);
      const out = model.forwardHead(features, extra);
      return o.featureMapOutput
        ? { [o.outputName]: out, [o.featureMapOutput]: features }
        : { [o.outputName]: out };
    },
    graphName: model.architecture,
    producerVersion: physisVersion(),
    ...(o.metadata ? { metadata: o.metadata } : {}),
  });
  return bytes;
}

/** The card fields a caller writes for a zoo model; architecture and feature-map module come from the model. */
export type ZooCardDraft = Omit<ModelCardDraft, 'architecture' | 'featureMap'> & {
  /** Graph output name for the feature map; default `featureMap`; null exports none. */
  readonly featureMapOutput?: string | null;
};

/** Options of `saveModelBundle`. */
export interface SaveModelBundleOptions {
  readonly card: ZooCardDraft;
  /** Weights precision on disk; fp16 halves the file. Default float32. */
  readonly weightsDType?: 'float32' | 'float16';
  /** Export and ship the ONNX graph; default true. */
  readonly onnx?: boolean;
  /** Files that change an answer besides the weights (OOD statistics, calibration), hashed in the card. */
  readonly artifacts?: readonly ArtifactContents[];
  readonly createdAt?: Date;
}

/**
 * Write a zoo model as a bundle. With fp16 weights the model's own weights are first rounded to fp16 (in place)
 * so the libtorch and ONNX Runtime backends compute with exactly the shipped numbers.
 * @param dir - bundle directory
 * @param model - a trained zoo model
 * @param o - card draft, weights precision, whether to ship the ONNX graph
 */
export function saveModelBundle(dir: string, model: ZooModel, o: SaveModelBundleOptions): ModelBundle {
  const { featureMapOutput: fmOption, ...rest } = o.card;
  const shape = rest.input.shape;
  if (shape.length !== 3 || shape[0] !== model.inChannels) {
    throw new PredictorError(
      `${rest.id}: card input.shape [${shape.join(',')}] does not start with the model's ${model.inChannels} input channels`,
    );
  }
  if ((rest.input.extra?.length ?? 0) !== model.extraInputs) {
    throw new PredictorError(
      `${rest.id}: card lists ${rest.input.extra?.length ?? 0} extra inputs, the model takes ${model.extraInputs}`,
    );
  }
  const first = rest.outputs[0];
  if (!first || rest.outputs.length !== 1) {
    throw new PredictorError(
      `${rest.id}: a zoo model has one head output; the card lists ${rest.outputs.length}`,
    );
  }
  const weightsDType = o.weightsDType ?? 'float32';
  const raws = new Map<string, RawTensor>();
  noGrad(() => {
    for (const [name, t] of model.stateDict()) {
      if (weightsDType === 'float16' && t.dtype === 'float32') {
        // libtorch rounds to nearest even, as PyTorch's .half(); the model then computes with the shipped values.
        const half = t.to('float16');
        raws.set(name, tensorToRaw(half));
        t.copy_(half);
        half.dispose();
      } else {
        raws.set(name, tensorToRaw(t));
      }
    }
  });
  const featureMapOutput = fmOption === null ? undefined : (fmOption ?? DEFAULT_FEATURE_MAP_OUTPUT);
  const card: ModelCardDraft = {
    ...rest,
    architecture: { name: model.architecture, options: { ...model.options } },
    ...(featureMapOutput
      ? { featureMap: { output: featureMapOutput, module: getArchitecture(model.architecture).featureBlock } }
      : {}),
  };
  const onnxBytes =
    o.onnx === false
      ? undefined
      : exportZooModelOnnx(model, {
          height: shape[1] as number,
          width: shape[2] as number,
          outputName: first.name,
          ...(featureMapOutput ? { featureMapOutput } : {}),
          metadata: { modelId: rest.id, modelVersion: rest.version },
        });
  return saveBundle(dir, {
    card,
    weights: serializeSafetensors(raws, { format: 'pt', modelId: rest.id, modelVersion: rest.version }),
    weightsDType,
    ...(onnxBytes ? { onnx: { bytes: onnxBytes, opset: ONNX_OPSET } } : {}),
    ...(o.artifacts ? { artifacts: o.artifacts } : {}),
    ...(o.createdAt ? { createdAt: o.createdAt } : {}),
  });
}

/**
 * Add (or replace) the ONNX graph of an existing bundle, e.g. one written by the trainer with weights only:
 * the model is rebuilt from the card and its verified weights, exported with the Grad-CAM feature map, and
 * card.json is rewritten with the graph's sha256 (the weights file is left byte-for-byte unchanged).
 * @param bundle - a loaded bundle
 * @returns the bundle as re-loaded and re-verified
 */
export function addOnnxToBundle(bundle: ModelBundle): ModelBundle {
  const { card } = bundle;
  const first = card.outputs[0];
  if (!first || card.outputs.length !== 1) {
    throw new PredictorError(
      `${bundle.dir}: a zoo model has one head output; card.json lists ${card.outputs.length}`,
    );
  }
  const model = loadBundleModel(bundle);
  try {
    const featureMapOutput = card.featureMap?.output ?? DEFAULT_FEATURE_MAP_OUTPUT;
    const onnx = exportZooModelOnnx(model, {
      height: card.input.shape[1] as number,
      width: card.input.shape[2] as number,
      outputName: first.name,
      featureMapOutput,
      metadata: { modelId: card.id, modelVersion: card.version, weightsSha256: card.files.weights.sha256 },
    });
    const { schemaVersion: _s, files: _f, createdAt, physisVersion: _p, ...draft } = card;
    return saveBundle(bundle.dir, {
      card: {
        ...draft,
        featureMap: { output: featureMapOutput, module: getArchitecture(model.architecture).featureBlock },
      },
      weights: bundle.weightsBytes,
      weightsDType: card.files.weights.dtype,
      onnx: { bytes: onnx, opset: ONNX_OPSET },
      artifacts: [...bundle.artifacts.values()].map((a) => ({ path: a.path, role: a.role, bytes: a.bytes })),
      createdAt: new Date(createdAt),
    });
  } finally {
    model.dispose();
  }
}
