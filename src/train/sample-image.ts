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
import { augment, type AugmentationConfig, type GrayImage } from '../preprocess/index.js';
import type { SampleContext } from './load-batch.js';

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
 * otherwise, always as a fresh copy.
 * @param image - the prepared (possibly cached) image
 * @param context - the sample's random stream and train flag
 * @param augmentation - the training augmentation; null: none
 */
export function shownPixels(image: GrayImage, context: Pick<SampleContext, 'rng' | 'train'>, augmentation: AugmentationConfig | null): Float32Array {
  const shown = context.train && augmentation ? augment(image, context.rng, augmentation) : image;
  return Float32Array.from(shown.data);
}
