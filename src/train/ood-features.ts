/**
 * The features the hand OOD check measures: the global average of the network's last convolutional
 * feature map, one vector per image (Lee et al., NeurIPS 2018, use the same penultimate features).
 *
 * Why here: the check in tasks/ is plain arithmetic; computing the features needs the network.
 */
import type { ZooModel } from '../models/index.js';
import { noGrad, tensor, tidy } from '../torch/index.js';

/** How ood.json describes the features. */
export const OOD_FEATURES_DESCRIPTION =
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
 * One no-grad forward of one un-augmented image that serves both the OOD check and a prediction: the pooled
 * features (as {@link pooledFeatures}, bit for bit) and the head's output for each sex input.
 * Why: an ensemble member needs both for every image; sex enters only the head, so one backbone pass suffices.
 * @param model - bone-age network (eval mode)
 * @param image - `size`×`size` values, row-major
 * @param size - the input side
 * @param sexValues - the model's sex inputs (1 = M, 0 = F)
 */
export function featuresAndHead(
  model: ZooModel,
  image: Float32Array,
  size: number,
  sexValues: readonly number[],
): { pooled: Float32Array; months: number[] } {
  return tidy(() =>
    noGrad(() => {
      const features = model.forwardFeatures(tensor(image, [1, 1, size, size]));
      const pooled = features.mean([2, 3]).toFloat32Array();
      const months = sexValues.map((s) => model.forwardHead(features, tensor([s], [1, 1])).item());
      return { pooled, months };
    }),
  );
}
