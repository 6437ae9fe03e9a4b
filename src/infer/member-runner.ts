/**
 * Running a set member on square images for several values of its extra inputs at once: the pooled last feature
 * map of each image (what a feature-distance check measures) and the head's first output for each variant — on
 * libtorch, or on ONNX Runtime when the bundle ships a graph.
 *
 * Why one interface: the pipeline must not care which runtime answered (ONNX Runtime is what hospitals deploy;
 * libtorch trained the model and is the fallback), and every answer names the backend. On libtorch the backbone runs
 * once and the head once per variant (extra inputs enter only the head); the graph takes image and extra inputs
 * together, so ONNX Runtime runs it once per variant.
 *
 * @example
 * const runner = await createMemberRunner(member, 'auto');
 * const { pooled, outputs } = await runner.run(image, 1, 224, [[1], [0]]); // outputs[v][i]
 */
import type { ZooModel } from '../models/index.js';
import { noGrad, tensor, tidy } from '../torch/index.js';
import { createOnnxPredictor } from './onnx-predictor.js';
import { PredictorError } from './errors.js';
import type { ModelSetMember } from './model-set.js';
import type { PredictorBackend } from './predictor.js';

/** What one run gives: per image its pooled features; per variant, per image the head's first output. */
export interface VariantOutputs {
  readonly pooled: readonly Float32Array[];
  readonly outputs: readonly (readonly number[])[];
  /** Per variant, per image: every output of the head (a classifier's logits). */
  readonly heads: readonly (readonly Float32Array[])[];
}

/** A member ready to run on a backend. */
export interface MemberRunner {
  readonly backend: PredictorBackend;
  /**
   * @param images - `n` single-channel `size`×`size` images, row-major, concatenated
   * @param n - number of images
   * @param size - input side
   * @param extras - one extra-input vector per variant (empty vectors when the network takes none)
   */
  run(images: Float32Array, n: number, size: number, extras: readonly (readonly number[])[]): Promise<VariantOutputs>;
  dispose(): Promise<void>;
}

/**
 * The libtorch forward of {@link MemberRunner.run}: one no-grad backbone pass, the pooled features, and the head once
 * per variant (each variant's extra inputs repeated for every image).
 * @param model - the network (eval mode)
 * @param images - `n` images of `size`×`size`
 * @param n - number of images
 * @param size - input side
 * @param extras - one extra-input vector per variant
 */
export function forwardVariants(model: ZooModel, images: Float32Array, n: number, size: number, extras: readonly (readonly number[])[]): VariantOutputs {
  const k = model.extraInputs;
  return tidy(() =>
    noGrad(() => {
      const features = model.forwardFeatures(tensor(images, [n, 1, size, size]));
      const pooledFlat = features.mean([2, 3]).toFloat32Array();
      const d = pooledFlat.length / n;
      const heads = extras.map((e) => {
        const extra = k === 0 ? undefined : tensor(Float32Array.from({ length: n * k }, (_, j) => e[j % k] as number), [n, k]);
        const out = model.forwardHead(features, extra).toFloat32Array();
        const per = out.length / n;
        return Array.from({ length: n }, (_, i) => out.slice(i * per, (i + 1) * per));
      });
      const outputs = heads.map((h) => h.map((o) => o[0] as number));
      return { pooled: Array.from({ length: n }, (_, i) => pooledFlat.slice(i * d, (i + 1) * d)), outputs, heads };
    }),
  );
}

/** Mean over H and W of a [n, C, h, w] feature map, one vector per image. */
function poolFeatureMap(data: Float32Array, shape: readonly number[]): Float32Array[] {
  const [n = 0, c = 0, h = 0, w = 0] = shape;
  const hw = h * w;
  return Array.from({ length: n }, (_, i) => {
    const v = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      const base = (i * c + ch) * hw;
      for (let p = 0; p < hw; p++) sum += data[base + p] as number;
      v[ch] = sum / hw;
    }
    return v;
  });
}

/**
 * A runner for a member: ONNX Runtime when `backend` is `onnx`, or `auto` and the bundle ships a graph with its
 * feature map; libtorch otherwise.
 * @param member - a set member (its libtorch network is already built)
 * @param backend - `auto` (default), `onnx` or `torch`
 * @throws PredictorError when `onnx` is asked of a bundle without a graph and feature map
 */
export async function createMemberRunner(member: ModelSetMember, backend: 'auto' | PredictorBackend = 'auto'): Promise<MemberRunner> {
  const { bundle, model } = member;
  const graph = bundle.onnxPath !== null && bundle.card.featureMap !== undefined;
  if (backend === 'onnx' && !graph) {
    throw new PredictorError(`${bundle.dir}: no ONNX graph with a feature map to run (add one with \`physis bundle add-onnx\`)`);
  }
  if (backend === 'torch' || !graph) {
    return { backend: 'torch', run: (images, n, size, extras) => Promise.resolve(forwardVariants(model, images, n, size, extras)), dispose: () => Promise.resolve() };
  }
  const predictor = await createOnnxPredictor(bundle);
  const outputName = bundle.card.outputs[0]?.name as string;
  const k = model.extraInputs;
  return {
    backend: 'onnx',
    async run(images, n, size, extras) {
      let pooled: Float32Array[] = [];
      const outputs: number[][] = [];
      const heads: Float32Array[][] = [];
      for (const [v, e] of extras.entries()) {
        const extra = k === 0 ? undefined : Float32Array.from({ length: n * k }, (_, j) => e[j % k] as number);
        const r = await predictor.run(images, [n, 1, size, size], extra);
        const out = r.outputs[outputName];
        if (!out || !r.featureMap) throw new PredictorError(`${bundle.dir}: the graph gave no '${outputName}' or feature map`);
        const per = out.data.length / n;
        outputs.push(Array.from({ length: n }, (_, i) => out.data[i * per] as number));
        heads.push(Array.from({ length: n }, (_, i) => Float32Array.from(out.data.subarray(i * per, (i + 1) * per))));
        if (v === 0) pooled = poolFeatureMap(r.featureMap.data, r.featureMap.shape);
      }
      return { pooled, outputs, heads };
    },
    dispose: () => predictor.dispose(),
  };
}
