/**
 * Test-time augmentation (TTA): seeded, mild geometric views of a preprocessed image and the network's outputs on
 * them, with one backbone forward shared by every variant of the extra inputs.
 *
 * Why: the spread of the outputs over plausible re-acquisitions of the same film is a per-film uncertainty that a
 * calibrated interval can scale (see eval's conformal calibration); when an extra input is unknown (sex), every
 * candidate value needs an answer, and since extra inputs enter only the head, the backbone runs once.
 */
import type { ZooModel } from '../models/index.js';
import { applyAugmentation, identityParams, NO_AUGMENTATION, sampleAugmentation, type AugmentationConfig, type GrayImage } from '../preprocess/index.js';
import { TrainConfigError } from './errors.js';
import { Rng } from './rng.js';
import { noGrad, tensor, tidy } from '../torch/index.js';

/** Milder than training augmentation: geometry only, so every view is a plausible acquisition. */
export const TTA_AUGMENTATION: AugmentationConfig = Object.freeze({ ...NO_AUGMENTATION, rotationDeg: 8, scale: [0.95, 1.05] as const, translate: 0.03 });

/** Default number of TTA views (the identity plus seven augmented). */
export const DEFAULT_TTA_VIEWS = 8;

/**
 * The TTA views of an image: the image itself, then `views - 1` seeded augmentations (same seed → same views).
 * @param image - preprocessed square image in [0, 1]
 * @param views - number of views, at least 1
 * @param seed - seed of the view parameters
 */
export function ttaViews(image: GrayImage, views = DEFAULT_TTA_VIEWS, seed = 0): GrayImage[] {
  if (!Number.isInteger(views) || views < 1) throw new TrainConfigError(`TTA views ${views} must be an integer >= 1`);
  const rng = new Rng(seed);
  const out: GrayImage[] = [applyAugmentation(image, identityParams(image.width, image.height))];
  for (let v = 1; v < views; v++) {
    out.push(applyAugmentation(image, sampleAugmentation(rng, TTA_AUGMENTATION, image.width, image.height)));
  }
  return out;
}

/**
 * Head outputs of one image's TTA views for several values of the extra inputs, the backbone run once on the batch
 * of views. Result `[v][i]` is variant v's output on view i (first output of the head).
 * @param model - the network (eval mode)
 * @param image - preprocessed square image
 * @param extras - one extra-input vector per variant (length `model.extraInputs`; empty when it takes none)
 * @param views - number of views
 */
export function predictTtaVariants(model: ZooModel, image: GrayImage, extras: readonly (readonly number[])[], views = DEFAULT_TTA_VIEWS): number[][] {
  const vs = ttaViews(image, views);
  const size = image.width;
  const data = new Float32Array(vs.length * size * size);
  vs.forEach((v, i) => data.set(v.data, i * size * size));
  const k = model.extraInputs;
  return tidy(() =>
    noGrad(() => {
      const features = model.forwardFeatures(tensor(data, [vs.length, 1, size, size]));
      return extras.map((e) => {
        const extra = k === 0 ? undefined : tensor(Float32Array.from({ length: vs.length * k }, (_, j) => e[j % k] as number), [vs.length, k]);
        const out = model.forwardHead(features, extra).toFloat32Array();
        const per = out.length / vs.length;
        return Array.from({ length: vs.length }, (_, i) => out[i * per] as number);
      });
    }),
  );
}
