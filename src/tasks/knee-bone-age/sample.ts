/**
 * The sample module of knee-bone-age loaders (run inside data-loader workers): read the knee film, mirror a right
 * knee to a left one by its laterality, preprocess it to the model's square input, augment it when training, and
 * return `image`, `target` (bone age, months) and `extra` (sex: 1 = M, 0 = F; chronological age / 100 months).
 *
 * Why mirror: the published system used left and right knees alike; mirroring every right knee to the left gives the
 * network one geometry (the fibula on one side) instead of two, as the hand model sees only left hands.
 */
import { preprocess, type AugmentationConfig, type GrayImage, type PreprocessOptions } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { preparedOnce, shownPixels, type Sample, type SampleContext } from '../../train/index.js';
import { kneeExtraInputs } from './config.js';

/** One item as the loader sends it to a worker. */
export interface KneeLoaderItem {
  readonly path: string;
  readonly boneAgeMonths: number;
  readonly sex: 'M' | 'F';
  readonly chronologicalAgeMonths: number;
  /** From the labels file; null: the DICOM header's (or none: the film as stored). */
  readonly laterality: 'L' | 'R' | null;
}

/** Options of this sample module. */
export interface KneeSampleOptions {
  readonly preprocessing: PreprocessOptions & { readonly size: number };
  readonly augmentation: AugmentationConfig | null;
  readonly cache: boolean;
}

/**
 * Preprocess one knee film to the model's input, mirrored to a left knee when its laterality says right.
 * @param item - the film and its laterality
 * @param options - preprocessing and cache
 */
export async function preprocessKneeImage(item: Pick<KneeLoaderItem, 'path' | 'laterality'>, options: Pick<KneeSampleOptions, 'preprocessing' | 'cache'>): Promise<GrayImage> {
  return preparedOnce(item.path, [options.preprocessing, item.laterality], options.cache, async (): Promise<GrayImage> => {
    const read = await readRadiograph(item.path);
    const radiograph = item.laterality === null ? read : { ...read, metadata: { ...read.metadata, laterality: item.laterality, lateralitySource: 'sidecar' as const } };
    return preprocess(radiograph, { ...options.preprocessing, lateralityTarget: 'L' }).image;
  });
}

/**
 * Load one sample.
 * @param item - a {@link KneeLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as KneeLoaderItem;
  const options = context.options as KneeSampleOptions;
  return {
    image: shownPixels(await preprocessKneeImage(it, options), context, options.augmentation),
    target: it.boneAgeMonths,
    extra: Float32Array.from(kneeExtraInputs(it.sex, it.chronologicalAgeMonths)),
  };
}
