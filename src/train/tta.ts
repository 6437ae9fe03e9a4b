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
import { forwardVariants } from '../infer/index.js';

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
 * of views (infer's `forwardVariants`). Result `[v][i]` is variant v's output on view i (first output of the head).
 * @param model - the network (eval mode)
 * @param image - preprocessed square image
 * @param extras - one extra-input vector per variant (length `model.extraInputs`; empty when it takes none)
 * @param views - number of views
 */
export function predictTtaVariants(model: ZooModel, image: GrayImage, extras: readonly (readonly number[])[], views = DEFAULT_TTA_VIEWS): number[][] {
  return forwardVariants(model, stackViews(image, views), views, image.width, extras).outputs.map((o) => [...o]);
}

/**
 * The TTA views of an image stacked into one batch (`views` images of the image's size, concatenated).
 * @param image - preprocessed square image
 * @param views - number of views
 */
export function stackViews(image: GrayImage, views = DEFAULT_TTA_VIEWS): Float32Array {
  const vs = ttaViews(image, views);
  const n = image.width * image.height;
  const data = new Float32Array(vs.length * n);
  vs.forEach((v, i) => data.set(v.data, i * n));
  return data;
}
