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
