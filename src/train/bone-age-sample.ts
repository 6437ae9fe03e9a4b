/**
 * The sample module of bone-age training (run inside data-loader workers): read the radiograph,
 * preprocess it to the model's square input, augment it when training, and return image, target and sex.
 *
 * Why: decoding and preprocessing are the expensive, parallel part of each step; running them here
 * keeps the engine busy. The preprocessed (un-augmented) image is cached per worker when `cache` is
 * set, so later epochs only pay for the augmentation warp.
 */
import { preprocess, type PreprocessOptions } from '../preprocess/index.js';
import { readRadiograph } from '../radiograph/index.js';
import { handDescriptors, sexInput, type Sex } from '../tasks/index.js';
import { augment, type AugmentationConfig, type GrayImage } from './augment.js';
import type { Sample, SampleContext } from './load-batch.js';

/** One training item: a radiograph path, its reference bone age and sex. */
export interface BoneAgeItem {
  readonly path: string;
  readonly boneAgeMonths: number;
  readonly sex: Sex;
}

/** Options of the bone-age sample module (the loader's `moduleOptions`). */
export interface BoneAgeSampleOptions {
  /** Square input side in pixels. */
  readonly size: number;
  /** Augmentation for training passes; null or absent: none. */
  readonly augmentation?: AugmentationConfig | null;
  /** Extra preprocessing options (size is set from `size`). */
  readonly preprocess?: Omit<PreprocessOptions, 'size'>;
  /** Keep preprocessed images in this worker's memory between epochs. */
  readonly cache?: boolean;
}

const cache = new Map<string, { image: GrayImage; descriptors: Float32Array }>();

/**
 * Preprocess one radiograph to the square model input in [0, 1], with its OOD descriptors.
 * @param path - the image file
 * @param options - size and preprocessing
 */
export async function preprocessBoneAgeImage(
  path: string,
  options: BoneAgeSampleOptions,
): Promise<{ image: GrayImage; descriptors: Float32Array }> {
  const hit = options.cache === true ? cache.get(path) : undefined;
  if (hit) return hit;
  const radiograph = await readRadiograph(path);
  const pre = preprocess(radiograph, { ...(options.preprocess ?? {}), size: options.size });
  const result = {
    image: { width: pre.image.width, height: pre.image.height, data: pre.image.data },
    descriptors: Float32Array.from(handDescriptors({ width: radiograph.columns, height: radiograph.rows }, pre)),
  };
  if (options.cache === true) cache.set(path, result);
  return result;
}

/**
 * Load one bone-age sample: `image` [size × size], `target` (months), `sex` (1 = M, 0 = F) and the
 * un-augmented image's OOD `descriptors`.
 * @param item - a {@link BoneAgeItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as BoneAgeItem;
  const options = context.options as BoneAgeSampleOptions;
  const pre = await preprocessBoneAgeImage(it.path, options);
  let image = pre.image;
  if (context.train && options.augmentation) image = augment(image, context.rng, options.augmentation);
  // copies: cached arrays must not be transferred (detached) to the main thread
  return {
    image: Float32Array.from(image.data),
    target: it.boneAgeMonths,
    sex: sexInput(it.sex),
    descriptors: Float32Array.from(pre.descriptors),
  };
}
