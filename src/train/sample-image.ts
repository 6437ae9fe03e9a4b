/**
 * The image part of a loader's sample module (run inside data-loader workers): a film read and preprocessed once per
 * worker when the loader asks for a cache, augmented on training passes only, and copied out.
 *
 * Why one place: decoding and preprocessing are the expensive part of a step, and every task repeats the same three
 * rules — keep the preprocessed film so later epochs pay only for the augmentation warp; never augment an evaluation
 * pass; never pass a cached array to the main thread (a transferred buffer is detached, and the cache would be emptied
 * under the next epoch). The cache key names the preprocessing as well as the file, so two loaders in one process
 * that prepare the same film differently (another size, another fit) never read each other's entry.
 */
import { augment, augmentationInverseMatrix, sampleAugmentation, type AugmentationConfig, type AugmentationParams, type GrayImage } from '../preprocess/index.js';
import type { SampleContext } from './load-batch.js';

/**
 * One drawn augmentation as the values of the batch field `augmentation` (AUGMENTATION_FIELD in load-batch).
 * @param p - drawn parameters (no crop: output size = input size)
 * @param width - the image's width
 * @param height - the image's height
 * @param fill - value outside the image
 */
export function encodeAugmentation(p: AugmentationParams, width: number, height: number, fill: number): Float32Array {
  return Float32Array.from([...augmentationInverseMatrix(p, width, height), p.gamma, p.contrast, p.brightness, fill]);
}

const prepared = new Map<string, unknown>();

/**
 * The prepared value of one film, made once per worker (process or thread) when `cache` is set.
 * @param path - the film
 * @param how - everything that changes what `prepare` makes (e.g. the preprocessing options), JSON-serialisable
 * @param cache - keep it for later calls
 * @param prepare - read and preprocess the film
 */
export async function preparedOnce<T>(path: string, how: unknown, cache: boolean, prepare: () => Promise<T>): Promise<T> {
  if (!cache) return prepare();
  const key = `${path}\u0000${JSON.stringify(how)}`;
  if (prepared.has(key)) return prepared.get(key) as T;
  const value = await prepare();
  prepared.set(key, value);
  return value;
}

/**
 * The pixels a pass sees: the image augmented on a training pass (with the sample's own random stream), as it is
 * otherwise, always as a fresh copy. Where the loader applies the augmentation to the whole batch on the trainer's
 * side (`context.deferAugmentation`), the same parameters are drawn from the same stream, handed over as
 * the sample field `augmentation` and the image is returned as it is; a crop (another output size) is always done here.
 * @param image - the prepared (possibly cached) image
 * @param context - the sample's random stream and train flag
 * @param augmentation - the training augmentation; null: none
 */
export function shownPixels(
  image: GrayImage,
  context: Pick<SampleContext, 'rng' | 'train' | 'deferAugmentation'>,
  augmentation: AugmentationConfig | null,
): Float32Array {
  if (!context.train || augmentation === null) return Float32Array.from(image.data);
  if (context.deferAugmentation !== undefined && augmentation.cropSize === null) {
    const p = sampleAugmentation(context.rng, augmentation, image.width, image.height);
    context.deferAugmentation(encodeAugmentation(p, image.width, image.height, augmentation.fill));
    return Float32Array.from(image.data);
  }
  return Float32Array.from(augment(image, context.rng, augmentation).data);
}
