/**
 * The sample module of skull-infant-age loaders (run inside data-loader workers): read the film, preprocess it as the
 * recipe or card says, augment it when training, and return `image`, `target` (age in months, monthly class) and
 * `extra` (the view: AP 0, LATERAL 1).
 *
 * Why in workers: decoding and preprocessing are the parallel part of a step; the un-augmented image is cached per
 * worker when `cache` is set, so later epochs only pay for the augmentation warp.
 */
import { preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { preparedOnce, shownPixels, type Sample, type SampleContext } from '../../train/index.js';
import { ageClassOf, type SkullView } from './config.js';

/** One item as the loader sends it to a worker. */
export interface SkullLoaderItem {
  readonly path: string;
  readonly ageMonths: number;
  readonly view: SkullView;
}

/** Options of this sample module. */
export interface SkullSampleOptions {
  readonly preprocessing: PreprocessOptions & { readonly size: number };
  readonly augmentation: AugmentationConfig | null;
  readonly cache: boolean;
}

/** The network's view input. @param view - AP or LATERAL */
export function viewInput(view: SkullView): number {
  return view === 'LATERAL' ? 1 : 0;
}

/**
 * Load one sample.
 * @param item - a {@link SkullLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as SkullLoaderItem;
  const options = context.options as SkullSampleOptions;
  const image = await preparedOnce(it.path, options.preprocessing, options.cache, async (): Promise<GrayImage> => preprocess(await readRadiograph(it.path), options.preprocessing).image);
  return {
    image: shownPixels(image, context, options.augmentation),
    target: Float32Array.from([it.ageMonths, ageClassOf(it.ageMonths)]),
    extra: viewInput(it.view),
  };
}
