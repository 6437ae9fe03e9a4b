/**
 * Loading and collating one batch through a sample module; shared by the worker threads and the
 * in-thread mode of the data loader.
 *
 * Why: the same code path must run in a worker and on the main thread (workers: 0 for debugging),
 * and each sample's random stream is derived from (seed, epoch, index), so augmentations do not depend
 * on which worker got the item or in which order batches finished.
 */
import { DataLoaderError } from './errors.js';
import { mixSeed, Rng } from './rng.js';

/**
 * The sample field that carries a deferred augmentation (see {@link shownPixels}): per sample, the inverse affine
 * matrix from output to input pixel coordinates (6 values), then gamma, contrast, brightness and the fill value.
 */
export const AUGMENTATION_FIELD = 'augmentation';

/** Values per sample in {@link AUGMENTATION_FIELD}. */
export const AUGMENTATION_FIELD_LENGTH = 10;

/** What a sample function receives besides the item. */
export interface SampleContext {
  /** A random stream unique to (seed, epoch, item index). */
  readonly rng: Rng;
  readonly epoch: number;
  /** The item's index in the loader's item list. */
  readonly index: number;
  /** Whether this is a training pass (augment) or evaluation (do not). */
  readonly train: boolean;
  /** The loader's `moduleOptions`, as given. */
  readonly options: unknown;
  /**
   * Present on training passes of a loader that augments on the batch (`augmentInBatch`): a sample gives its drawn
   * augmentation here instead of warping its image (see shownPixels), once per sample; the batch carries it as a field.
   */
  readonly deferAugmentation?: (values: Float32Array) => void;
}

/** One loaded sample: named arrays (fixed length per name) and scalars. */
export type Sample = Readonly<Record<string, Float32Array | number>>;

/**
 * The contract of a sample module (the file named by the loader's `module` option): it exports
 * `loadSample`, and may export `setup`, called once per worker with the loader's `moduleOptions`.
 */
export interface SampleModule {
  loadSample(item: unknown, context: SampleContext): Sample | Promise<Sample>;
  setup?(options: unknown): void | Promise<void>;
}

/** A collated batch: each sample field stacked into one Float32Array. */
export interface Batch {
  /** Number of samples. */
  readonly size: number;
  /** Item indices in batch order. */
  readonly indices: readonly number[];
  /** Each field, `size * fieldLengths[name]` values, sample-major. */
  readonly fields: Readonly<Record<string, Float32Array>>;
  /** Values per sample of each field (1 for scalars). */
  readonly fieldLengths: Readonly<Record<string, number>>;
}

/**
 * Check that an imported module fulfils the sample-module contract.
 * @param mod - the module namespace
 * @param where - its path, for the error message
 */
export function asSampleModule(mod: unknown, where: string): SampleModule {
  const m = mod as Partial<SampleModule> | null;
  if (m === null || typeof m !== 'object' || typeof m.loadSample !== 'function') {
    throw new DataLoaderError(`${where}: a sample module must export a function loadSample(item, context)`);
  }
  return m as SampleModule;
}

/**
 * Load the samples of one batch and stack them.
 * @param mod - the sample module
 * @param items - all items
 * @param indices - item indices of this batch
 * @param o - seed, epoch, train flag and module options
 */
export async function loadBatch(
  mod: SampleModule,
  items: readonly unknown[],
  indices: readonly number[],
  o: { seed: number; epoch: number; train: boolean; options: unknown; augmentInBatch?: boolean },
): Promise<Batch> {
  const samples: Sample[] = [];
  for (const index of indices) {
    const item = items[index];
    let deferred: Float32Array | undefined;
    const defer = (values: Float32Array): void => {
      if (deferred !== undefined) throw new DataLoaderError('augmentation on the batch takes one augmented image per sample');
      deferred = values;
    };
    const context: SampleContext = {
      rng: new Rng(mixSeed(o.seed, o.epoch, index)),
      epoch: o.epoch,
      index,
      train: o.train,
      options: o.options,
      ...(o.train && o.augmentInBatch === true ? { deferAugmentation: defer } : {}),
    };
    try {
      const sample = await mod.loadSample(item, context);
      samples.push(deferred === undefined ? sample : { ...sample, [AUGMENTATION_FIELD]: deferred });
    } catch (error) {
      const e = error as Error;
      throw new DataLoaderError(`item ${index} (${JSON.stringify(item)?.slice(0, 200)}): ${e.name}: ${e.message}`);
    }
  }
  return collate(samples, indices);
}

/**
 * Stack samples field by field; every sample must have the same fields and lengths.
 * @param samples - loaded samples
 * @param indices - their item indices
 */
export function collate(samples: readonly Sample[], indices: readonly number[]): Batch {
  const first = samples[0];
  if (first === undefined) throw new DataLoaderError('cannot collate an empty batch');
  const names = Object.keys(first).sort();
  const fieldLengths: Record<string, number> = {};
  for (const name of names) {
    const v = first[name];
    fieldLengths[name] = typeof v === 'number' ? 1 : (v as Float32Array).length;
  }
  const fields: Record<string, Float32Array> = {};
  for (const name of names) fields[name] = new Float32Array(samples.length * (fieldLengths[name] as number));
  samples.forEach((s, i) => {
    const keys = Object.keys(s).sort();
    if (keys.join(',') !== names.join(',')) {
      throw new DataLoaderError(`item ${indices[i]} has fields [${keys.join(', ')}], the batch has [${names.join(', ')}]`);
    }
    for (const name of names) {
      const v = s[name];
      const len = fieldLengths[name] as number;
      const dst = fields[name] as Float32Array;
      if (typeof v === 'number') {
        if (len !== 1) throw new DataLoaderError(`item ${indices[i]} field '${name}' is a number, others have ${len} values`);
        dst[i] = v;
      } else if (v instanceof Float32Array) {
        if (v.length !== len) {
          throw new DataLoaderError(`item ${indices[i]} field '${name}' has ${v.length} values, the first sample has ${len}`);
        }
        dst.set(v, i * len);
      } else {
        throw new DataLoaderError(`item ${indices[i]} field '${name}' must be a number or Float32Array`);
      }
    }
  });
  return { size: samples.length, indices: [...indices], fields, fieldLengths };
}
