/**
 * Pooled features: the global average of the network's last convolutional feature map, one vector per image — what
 * a feature-distance out-of-distribution check measures (Lee et al., NeurIPS 2018, use the same penultimate
 * features) — computed in the same forward as the head's outputs for several extra-input variants.
 */
import { forwardVariants } from '../infer/index.js';
import type { ZooModel } from '../models/index.js';
import type { DataLoader } from './data-loader.js';
import { noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { TrainConfigError } from './errors.js';

/**
 * The image (and the extra inputs, when the network takes them) of a collated batch as tensors.
 * @param fields - the batch's fields (`image`, and `extra` when `extraInputs` > 0)
 * @param n - batch size
 * @param size - input side
 * @param extraInputs - the network's extra inputs
 * @throws TrainConfigError when the sample module gave no `extra` field for a network that takes one
 */
export function batchInputs(fields: Readonly<Record<string, Float32Array>>, n: number, size: number, extraInputs: number): [Tensor, Tensor | undefined] {
  const x = tensor(fields['image'] as Float32Array, [n, 1, size, size]);
  if (extraInputs === 0) return [x, undefined];
  const extra = fields['extra'];
  if (!extra) throw new TrainConfigError(`the sample module gave no 'extra' field, but the network takes ${extraInputs} extra input(s)`);
  return [x, tensor(extra, [n, extraInputs])];
}

/**
 * Pooled last-layer features of every image a non-augmenting loader yields, in item order (one no-grad forward per
 * batch), e.g. for a feature-distance model of the training films.
 * @param model - the network (in eval mode)
 * @param loader - a loader whose samples have `image` fields of size × size
 * @param size - the square input side
 */
export async function loaderPooledFeatures(model: ZooModel, loader: DataLoader<unknown>, size: number): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for await (const batch of loader.epoch(0)) rows.push(...pooledFeatures(model, batch.fields['image'] as Float32Array, size));
  return rows;
}

/** How a bundle's OOD statistics describe these features. */
export const POOLED_FEATURES_DESCRIPTION =
  'global-average-pooled last feature map (forwardFeatures, mean over H and W), un-augmented image, eval mode';

/**
 * Pooled last-layer features of a batch of square grey images, one no-grad forward.
 * @param model - the network (in eval mode)
 * @param images - `n` images of `size`×`size`, row-major, concatenated
 * @param size - the input side
 * @returns `n` feature vectors
 */
export function pooledFeatures(model: ZooModel, images: Float32Array, size: number): Float32Array[] {
  const n = images.length / (size * size);
  const flat = tidy(() =>
    noGrad(() =>
      model
        .forwardFeatures(tensor(images, [n, 1, size, size]))
        .mean([2, 3])
        .toFloat32Array(),
    ),
  );
  const d = flat.length / n;
  return Array.from({ length: n }, (_, i) => flat.slice(i * d, (i + 1) * d));
}

/**
 * One no-grad forward of one un-augmented image that serves both a feature-distance check and the prediction: the
 * pooled features (as {@link pooledFeatures}, bit for bit) and the head's first output for each extra-input variant
 * (infer's `forwardVariants` on a batch of one).
 * @param model - the network (eval mode)
 * @param image - `size`×`size` values, row-major
 * @param size - the input side
 * @param extras - one extra-input vector per variant (empty vectors when the network takes none)
 */
export function featuresAndHead(
  model: ZooModel,
  image: Float32Array,
  size: number,
  extras: readonly (readonly number[])[],
): { pooled: Float32Array; outputs: number[] } {
  const r = forwardVariants(model, image, 1, size, extras);
  return { pooled: r.pooled[0] as Float32Array, outputs: r.outputs.map((o) => o[0] as number) };
}

/** One item's pass through {@link predictWithFeatures}. */
export interface ItemPass {
  /** Head outputs. */
  readonly outputs: Float32Array;
  /** Pooled last-layer features. */
  readonly pooled: Float32Array;
  /** The sample's other fields (all but `image`), e.g. film descriptors for a task's own film check. */
  readonly fields: Readonly<Record<string, Float32Array>>;
}

/**
 * Head outputs and pooled features of every item through a non-augmenting loader, one forward per batch, in item
 * order; the head outputs equal {@link predictOutputs}' bit for bit (the same backbone and head calls).
 * @param model - the network (eval mode)
 * @param loader - a loader over the items (train: false)
 * @param count - number of items
 * @param size - input side
 */
export async function predictWithFeatures(model: ZooModel, loader: DataLoader<unknown>, count: number, size: number): Promise<ItemPass[]> {
  model.eval();
  const out = new Array<ItemPass>(count);
  for await (const batch of loader.epoch(0)) {
    const n = batch.size;
    const [flat, pooledFlat] = tidy(() =>
      noGrad(() => {
        const [x, extra] = batchInputs(batch.fields, n, size, model.extraInputs);
        const features = model.forwardFeatures(x);
        return [model.forwardHead(features, extra).toFloat32Array(), features.mean([2, 3]).toFloat32Array()] as const;
      }),
    );
    const per = flat.length / n;
    const d = pooledFlat.length / n;
    batch.indices.forEach((index, j) => {
      const fields: Record<string, Float32Array> = {};
      for (const [name, values] of Object.entries(batch.fields)) {
        if (name === 'image') continue;
        const len = batch.fieldLengths[name] ?? 1;
        fields[name] = values.slice(j * len, (j + 1) * len);
      }
      out[index] = { outputs: flat.slice(j * per, (j + 1) * per), pooled: pooledFlat.slice(j * d, (j + 1) * d), fields };
    });
  }
  return out;
}
