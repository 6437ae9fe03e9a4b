/**
 * The training augmentation applied to a whole batch in the engine: one affine grid and one bilinear grid sample for
 * the warp, then gamma, contrast about each image's mean and brightness as tensor ops, each image with the parameters
 * its sample drew (the batch field `augmentation`, see shownPixels).
 *
 * Why: the same warp done film by film in JavaScript in a loader worker competes with the training step for the
 * CPU's cores, and on a GPU it leaves the device waiting for the CPU; batched in the engine it is a few milliseconds
 * a batch and runs wherever the batch is. It computes what the per-film augmentation (preprocess/augment) computes, to
 * float32 rounding: the same inverse affine map of pixel centres, bilinear weights, the same fill outside the
 * image (sampled as zeros after subtracting it), the same intensity steps. The grid follows
 * torch.nn.functional.affine_grid and grid_sample with align_corners=False, where a pixel x sits at the normalised
 * coordinate (2x + 1) / W − 1.
 */
import { F, tensor, type Tensor } from '../torch/index.js';
import { AUGMENTATION_FIELD_LENGTH } from './load-batch.js';
import { TrainConfigError } from './errors.js';

/**
 * Augment a batch [N, C, H, W] (values in [0, 1]) with each sample's drawn parameters; the output has the input's size.
 * @param x - the batch as the loader gave it (un-augmented)
 * @param params - the batch field `augmentation`: N × AUGMENTATION_FIELD_LENGTH values
 */
export function augmentBatch(x: Tensor, params: Float32Array): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (x.shape.length !== 4 || params.length !== n * AUGMENTATION_FIELD_LENGTH) {
    throw new TrainConfigError(
      `augmentation on the batch: ${params.length} parameter values for a batch of shape [${x.shape.join(', ')}] (expected ${AUGMENTATION_FIELD_LENGTH} per image)`,
    );
  }
  const theta = new Float32Array(n * 6);
  const gamma = new Float32Array(n);
  const contrast = new Float32Array(n);
  const brightness = new Float32Array(n);
  const fill = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = params.subarray(i * AUGMENTATION_FIELD_LENGTH, (i + 1) * AUGMENTATION_FIELD_LENGTH);
    const [a, b, cx, d, e, fy] = [p[0], p[1], p[2], p[3], p[4], p[5]] as number[] as [number, number, number, number, number, number];
    // output pixel u = ((xo + 1) W − 1) / 2 maps to input pixel x = a u + b v + cx, normalised as (2x + 1) / W − 1
    theta.set(
      [
        a,
        (b * h) / w,
        (2 / w) * ((a * (w - 1)) / 2 + (b * (h - 1)) / 2 + cx) + 1 / w - 1,
        (d * w) / h,
        e,
        (2 / h) * ((d * (w - 1)) / 2 + (e * (h - 1)) / 2 + fy) + 1 / h - 1,
      ],
      i * 6,
    );
    gamma[i] = p[6] as number;
    contrast[i] = p[7] as number;
    brightness[i] = p[8] as number;
    fill[i] = p[9] as number;
  }
  const device = x.device;
  const perImage = (v: Float32Array): Tensor => tensor(v, [n, 1, 1, 1], { device });
  const fillT = perImage(fill);
  const grid = F.affineGrid(tensor(theta, [n, 2, 3], { device }), [n, c, h, w], false);
  const warped = F.gridSample(x.sub(fillT), grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false }).add(fillT);
  // gamma as exp(γ ln v): 0 stays 0 (ln 0 = −inf), as in the per-film path
  const g = warped.clamp(0, 1).log().mul(perImage(gamma)).exp();
  const mean = g.mean([1, 2, 3], true);
  return g.sub(mean).mul(perImage(contrast)).add(mean).add(perImage(brightness)).clamp(0, 1);
}
