/**
 * The sample module of spine-view loaders (run inside data-loader workers): read the film, preprocess it as the recipe
 * or card says (foreground crop, letterbox), augment it when training, and return `image` and `target` (the class
 * index, its loss weight and the number of classes of the labels file).
 *
 * Why the weight and class count travel in the target: the loss sees only the network's output and the collated
 * target, and both depend on the labels file (its class list and class frequencies), not on the recipe.
 */
import { preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { preparedOnce, shownPixels, type Sample, type SampleContext } from '../../train/index.js';

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

/**
 * Load one sample.
 * @param item - a {@link SpineViewLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as SpineViewLoaderItem;
  const options = context.options as SpineViewSampleOptions;
  const image = await preparedOnce(it.path, options.preprocessing, options.cache, async (): Promise<GrayImage> => preprocess(await readRadiograph(it.path), options.preprocessing).image);
  return { image: shownPixels(image, context, options.augmentation), target: Float32Array.from([it.classIndex, it.weight, it.classCount]) };
}
