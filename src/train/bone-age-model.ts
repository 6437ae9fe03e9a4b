/**
 * Building, running and restoring the hand-bone-age network: a zoo backbone with a 1-channel stem and
 * the hand paper's head (global average pool → features ⊕ sex → linear → ReLU, in months).
 *
 * Why: training, evaluation and explanation must build exactly the same network from a bundle's card;
 * the head follows Larson et al. (Radiology 2018) and the baseline (sex concatenated before the
 * last layer). The final bias starts at the training-set mean age so the first epochs learn structure
 * rather than an offset of ~127 months.
 */
import { loadBundle, type ModelBundle } from '../infer/index.js';
import { createModel, type ModelOptions, type ZooModel } from '../models/index.js';
import { loadSafetensors, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { RegressionSample } from '../eval/index.js';
import { DataLoader } from './data-loader.js';
import type { BoneAgeItem, BoneAgeSampleOptions } from './bone-age-sample.js';

/** The model options of a bone-age network. */
export function boneAgeModelOptions(): ModelOptions {
  return { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true }, extraInputs: 1 };
}

/**
 * A fresh bone-age network.
 * @param arch - zoo architecture name
 * @param initialMonths - value of the final bias (the training mean age)
 */
export function createBoneAgeModel(arch: string, initialMonths: number): ZooModel {
  const model = createModel(arch, boneAgeModelOptions());
  const bias = model.namedParameters().find(([name]) => name === `${model.headLinearName}.bias`)?.[1];
  if (bias) noGrad(() => bias.fill_(initialMonths));
  return model;
}

/**
 * Restore the network of a bundle (weights converted to float32).
 * @param dirOrBundle - bundle folder or an opened bundle
 */
export function loadBoneAgeBundleModel(dirOrBundle: string | ModelBundle): { model: ZooModel; bundle: ModelBundle } {
  const bundle = typeof dirOrBundle === 'string' ? loadBundle(dirOrBundle) : dirOrBundle;
  const model = createModel(bundle.card.architecture.name, bundle.card.architecture.options as ModelOptions);
  const raw = loadSafetensors(bundle.weightsPath);
  const sd = new Map<string, Tensor>();
  for (const [k, t] of raw) sd.set(k, t.dtype === 'float16' ? t.to('float32') : t);
  model.loadStateDict(sd);
  for (const [k, t] of sd) if (raw.get(k) !== t) t.dispose();
  for (const t of raw.values()) t.dispose();
  model.eval();
  return { model, bundle };
}

/**
 * Predict bone ages (months) for a batch of preprocessed images.
 * @param model - the network
 * @param images - `n * size * size` values
 * @param sexes - `n` values, 1 = M, 0 = F
 * @param size - input side
 */
export function predictBatch(model: ZooModel, images: Float32Array, sexes: Float32Array, size: number): Float32Array {
  const n = sexes.length;
  return tidy(() =>
    noGrad(() => {
      const out = model.call(tensor(images, [n, 1, size, size]), tensor(sexes, [n, 1]));
      return out.toFloat32Array();
    }),
  );
}

/** The sample module of bone-age loaders (source or compiled, whichever is running). */
export const BONE_AGE_SAMPLE_MODULE = new URL(
  import.meta.url.endsWith('.ts') ? './bone-age-sample.ts' : './bone-age-sample.js',
  import.meta.url,
);

/** A labelled item with an optional display id (the CSV's file column). */
export type LabelledBoneAgeItem = BoneAgeItem & { readonly id?: string };

/** Options of {@link createBoneAgeLoader}. */
export interface BoneAgeLoaderOptions {
  readonly size: number;
  readonly batchSize?: number;
  readonly workers?: number;
  readonly seed?: number;
  readonly train?: boolean;
  readonly shuffle?: boolean;
  readonly augmentation?: BoneAgeSampleOptions['augmentation'];
  readonly cache?: boolean;
  readonly preprocess?: BoneAgeSampleOptions['preprocess'];
}

/**
 * A data loader over bone-age items running the bone-age sample module in worker threads.
 * @param items - radiographs with reference ages and sex
 * @param o - size, batch, workers, augmentation
 */
export function createBoneAgeLoader(items: readonly LabelledBoneAgeItem[], o: BoneAgeLoaderOptions): DataLoader<BoneAgeItem> {
  const moduleOptions: BoneAgeSampleOptions = {
    size: o.size,
    augmentation: o.augmentation ?? null,
    cache: o.cache ?? false,
    ...(o.preprocess ? { preprocess: o.preprocess } : {}),
  };
  return new DataLoader({
    module: BONE_AGE_SAMPLE_MODULE,
    items: items.map((i) => ({ path: i.path, boneAgeMonths: i.boneAgeMonths, sex: i.sex })),
    batchSize: o.batchSize ?? 16,
    workers: o.workers ?? 1,
    seed: o.seed ?? 0,
    train: o.train ?? false,
    shuffle: o.shuffle ?? false,
    moduleOptions,
  });
}

/**
 * Run a model over a (non-augmenting) loader's items and return predictions with references and sex.
 * @param model - the network (put in eval mode here)
 * @param loader - from {@link createBoneAgeLoader} with `train: false`
 * @param items - the loader's items, for ids
 * @param size - input side
 */
export async function predictWithLoader(
  model: ZooModel,
  loader: DataLoader<BoneAgeItem>,
  items: readonly LabelledBoneAgeItem[],
  size: number,
): Promise<RegressionSample[]> {
  model.eval();
  const out: RegressionSample[] = [];
  for await (const batch of loader.epoch(0)) {
    const pred = predictBatch(model, batch.fields['image'] as Float32Array, batch.fields['sex'] as Float32Array, size);
    batch.indices.forEach((index, j) => {
      const item = items[index] as LabelledBoneAgeItem;
      out.push({ predicted: pred[j] as number, reference: item.boneAgeMonths, sex: item.sex, id: item.id ?? item.path });
    });
  }
  return out;
}

/**
 * Predict every item once (a loader is made and closed here).
 * @param model - the network
 * @param items - radiographs with reference ages and sex
 * @param o - size, batch size and workers
 */
export async function predictBoneAges(
  model: ZooModel,
  items: readonly LabelledBoneAgeItem[],
  o: BoneAgeLoaderOptions,
): Promise<RegressionSample[]> {
  const loader = createBoneAgeLoader(items, { ...o, train: false, augmentation: null });
  try {
    return await predictWithLoader(model, loader, items, o.size);
  } finally {
    await loader.close();
  }
}

/** What {@link initFromWeights} copied and what it left at its fresh initialisation. */
export interface InitReport {
  readonly loaded: readonly string[];
  /** Keys of the model left as initialised, with the reason (missing in the file, or another shape). */
  readonly skipped: readonly string[];
}

/**
 * Transfer weights into a model: every parameter and buffer whose name and shape match is copied;
 * the rest keeps its fresh initialisation (e.g. a head with other extra inputs). The source is a bundle
 * folder or a safetensors file with PyTorch names (issue 5, `--init`; the knee model starts from the hand).
 * @param model - the model to initialise
 * @param source - bundle folder or `.safetensors` file
 */
export function initFromWeights(model: ZooModel, source: string): InitReport {
  const path = source.endsWith('.safetensors') ? source : loadBundle(source).weightsPath;
  const tensors = loadSafetensors(path);
  const loaded: string[] = [];
  const skipped: string[] = [];
  try {
    noGrad(() => {
      for (const [name, target] of [...model.namedParameters(), ...model.namedBuffers()]) {
        const src = tensors.get(name);
        if (!src) {
          skipped.push(`${name} (not in ${path})`);
        } else if (src.shape.join(',') !== target.shape.join(',')) {
          skipped.push(`${name} ([${src.shape.join(', ')}] in the file, [${target.shape.join(', ')}] in the model)`);
        } else {
          const converted = src.dtype === target.dtype ? src : src.to(target.dtype);
          target.copy_(converted);
          if (converted !== src) converted.dispose();
          loaded.push(name);
        }
      }
    });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
  return { loaded, skipped };
}

/**
 * Freeze or unfreeze every parameter outside the final linear layer (the backbone).
 * @param model - the model
 * @param frozen - true stops gradients (and therefore optimizer updates) of the backbone
 */
export function setBackboneFrozen(model: ZooModel, frozen: boolean): void {
  const head = `${model.headLinearName}.`;
  for (const [name, p] of model.namedParameters()) if (!name.startsWith(head)) p.requiresGrad_(!frozen);
}
