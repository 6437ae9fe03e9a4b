/**
 * The sample module of spine-view loaders (run inside data-loader workers): read the film, preprocess it as the recipe
 * or card says (foreground crop, letterbox), augment it when training, and return `image` and `target` (the class
 * index, its loss weight and the number of classes of the labels file).
 *
 * Why the weight and class count travel in the target: the loss sees only the network's output and the collated
 * target, and both depend on the labels file (its class list and class frequencies), not on the recipe.
 */
import { augment, preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import type { Sample, SampleContext } from '../../train/index.js';

/** One item as the loader sends it to a worker. */
export interface SpineViewLoaderItem {
  readonly path: string;
  readonly classIndex: number;
  readonly weight: number;
  readonly classCount: number;
}

/** Options of this sample module. */
export interface SpineViewSampleOptions {
  readonly preprocessing: PreprocessOptions & { readonly size: number };
  readonly augmentation: AugmentationConfig | null;
  readonly cache: boolean;
}

const cache = new Map<string, GrayImage>();

/**
 * Load one sample.
 * @param item - a {@link SpineViewLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as SpineViewLoaderItem;
  const options = context.options as SpineViewSampleOptions;
  let image = options.cache ? cache.get(it.path) : undefined;
  if (image === undefined) {
    const pre = preprocess(await readRadiograph(it.path), options.preprocessing);
    image = { width: pre.image.width, height: pre.image.height, data: pre.image.data };
    if (options.cache) cache.set(it.path, image);
  }
  const shown = context.train && options.augmentation ? augment(image, context.rng, options.augmentation) : image;
  // copies: cached arrays must not be transferred (detached) to the main thread
  return { image: Float32Array.from(shown.data), target: Float32Array.from([it.classIndex, it.weight, it.classCount]) };
}
