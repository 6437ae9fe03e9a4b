/**
 * The sample module of hand-bone-age loaders (run inside data-loader workers): read the radiograph, preprocess it to
 * the model's square input, augment it when training, and return `image`, `target` (months), `extra` (sex: 1 = M,
 * 0 = F), the un-augmented film's OOD `descriptors` and its `filmSize` (columns, rows).
 *
 * Why: decoding and preprocessing are the expensive, parallel part of each step; running them here keeps the engine
 * busy. The preprocessed (un-augmented) image is cached per worker when `cache` is set, so later epochs only pay for
 * the augmentation warp.
 */
import { preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { preparedOnce, shownPixels, type Sample, type SampleContext } from '../../train/index.js';
import { sexInput } from './config.js';
import { handDescriptors } from './ood.js';

/** One item as the loader sends it to a worker. */
export interface HandLoaderItem {
  readonly path: string;
  readonly boneAgeMonths: number;
  readonly sex: 'M' | 'F';
}

/** Options of this sample module (the loader's `moduleOptions`). */
export interface HandSampleOptions {
  /** How a film becomes the square input (the card's `input.preprocessing`). */
  readonly preprocessing: PreprocessOptions & { readonly size: number };
  /** Augmentation for training passes; null: none. */
  readonly augmentation: AugmentationConfig | null;
  /** Keep preprocessed images in this worker's memory between epochs. */
  readonly cache: boolean;
}

/**
 * Preprocess one radiograph to the square model input in [0, 1], with its OOD descriptors.
 * @param path - the image file
 * @param options - preprocessing and cache
 */
export async function preprocessHandImage(path: string, options: Pick<HandSampleOptions, 'preprocessing' | 'cache'>): Promise<{ image: GrayImage; descriptors: Float32Array; filmSize: Float32Array }> {
  return preparedOnce(path, options.preprocessing, options.cache, async () => {
    const radiograph = await readRadiograph(path);
    const pre = preprocess(radiograph, options.preprocessing);
    return {
      image: pre.image,
      descriptors: Float32Array.from(handDescriptors({ width: radiograph.columns, height: radiograph.rows }, pre)),
      filmSize: Float32Array.from([radiograph.columns, radiograph.rows]),
    };
  });
}

/**
 * Load one sample.
 * @param item - a {@link HandLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as HandLoaderItem;
  const options = context.options as HandSampleOptions;
  const pre = await preprocessHandImage(it.path, options);
  // copies: cached arrays must not be transferred (detached) to the main thread
  return {
    image: shownPixels(pre.image, context, options.augmentation),
    target: it.boneAgeMonths,
    extra: sexInput(it.sex),
    descriptors: Float32Array.from(pre.descriptors),
    filmSize: Float32Array.from(pre.filmSize),
  };
}
