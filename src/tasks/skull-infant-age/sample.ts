/**
 * The sample module of skull-infant-age loaders (run inside data-loader workers): read the film, preprocess it as the
 * recipe or card says, augment it when training, and return `image`, `target` (age in months, monthly class) and
 * `extra` (the view: AP 0, LATERAL 1).
 *
 * Why in workers: decoding and preprocessing are the parallel part of a step; the un-augmented image is cached per
 * worker when `cache` is set, so later epochs only pay for the augmentation warp.
 */
import { augment, preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import type { Sample, SampleContext } from '../../train/index.js';
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

const cache = new Map<string, GrayImage>();

/**
 * Load one sample.
 * @param item - a {@link SkullLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as SkullLoaderItem;
  const options = context.options as SkullSampleOptions;
  let image = options.cache ? cache.get(it.path) : undefined;
  if (image === undefined) {
    const pre = preprocess(await readRadiograph(it.path), options.preprocessing);
    image = { width: pre.image.width, height: pre.image.height, data: pre.image.data };
    if (options.cache) cache.set(it.path, image);
  }
  const shown = context.train && options.augmentation ? augment(image, context.rng, options.augmentation) : image;
  // copies: cached arrays must not be transferred (detached) to the main thread
  return {
    image: Float32Array.from(shown.data),
    target: Float32Array.from([it.ageMonths, ageClassOf(it.ageMonths)]),
    extra: viewInput(it.view),
  };
}
