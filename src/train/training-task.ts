/**
 * What the generic trainer needs from a task: how to load an item in a loader worker, the network's options, the
 * loss, the dev evaluation that drives early stopping, and the finalisation that turns the best weights into the
 * bundle's files and card metrics.
 *
 * Why: one trainer runs every task (MONAI's `SupervisedTrainer` takes the loss, batch preparation and metrics as
 * arguments; Lightning splits the module from the trainer). Everything that differs between tasks is passed in
 * here and never branched on in the trainer; nothing in src/train names a task.
 */
import type { MeanSd, PublishedResult, ReportTable } from '../eval/index.js';
import type { ArtifactContents, CardExtraInput, CardMetric, CardOutput } from '../infer/index.js';
import type { ModelOptions, ZooModel } from '../models/index.js';
import type { Tensor } from '../torch/index.js';
import type { AugmentationConfig, PreprocessOptions } from '../preprocess/index.js';
import { RecipeError } from './run-errors.js';
import type { DataLoader } from './data-loader.js';
import type { WeightAveragingConfig } from './weight-averaging.js';

/** A labelled item: a stable id (the labels file's `file` column) and the image path; the task adds its labels. */
export interface TrainingItem {
  readonly id: string;
  readonly path: string;
}

/** The recipe fields the trainer reads; a task's recipe may hold more (read by the task's own functions). */
export interface TrainRecipe {
  /** Zoo architecture name. */
  readonly arch: string;
  /** Square input side in pixels (letterboxed). */
  readonly inputSize: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** AdamW (Loshchilov & Hutter 2019). */
  readonly optimizer: { readonly lr: number; readonly weightDecay: number };
  /** Linear warm-up then cosine decay to `minLrFactor × lr`. */
  readonly schedule: { readonly warmupEpochs: number; readonly minLrFactor: number };
  /** Stop after `patience` epochs without a better primary dev metric. */
  readonly earlyStopping: { readonly patience: number };
  readonly augmentation: AugmentationConfig;
  readonly seed: number;
  /** How a film becomes the square input; absent: the foreground crop, then letterboxed. Recorded in the card. */
  readonly preprocessing?: RecipePreprocessing;
  /**
   * Weight averaging (SWA): ship the mean of the weights at `perEpoch` steps of every epoch from `fromEpoch` (1-based)
   * on, batch norm recomputed, instead of the best epoch's; absent or `fromEpoch` 0: off.
   */
  readonly averaging?: WeightAveragingConfig;
}

/**
 * The recipe's preprocessing choices, which the card records and prediction replays. `fit`: `letterbox` or `stretch`
 * (the whole film resized to the square, aspect not kept); `stretchVia`: with `stretch`, the side the film is first
 * resized to (0: none), with `stretchFilter` (`cubic`, the default, or `nearest`: how the training set was made);
 * `crop`: the foreground crop before fitting.
 */
export interface RecipePreprocessing {
  readonly fit: string;
  readonly stretchVia: number;
  readonly stretchFilter?: string;
  readonly crop: boolean;
}

/**
 * The preprocessing options of a recipe (as the card records them and the sample modules apply them).
 * @param recipe - the recipe
 * @throws RecipeError for a fit that is neither letterbox nor stretch, or a stretchVia that is not a side
 */
export function recipePreprocessing(recipe: TrainRecipe): PreprocessOptions & { readonly size: number } {
  const p = recipe.preprocessing;
  if (p === undefined) return { size: recipe.inputSize };
  if (p.fit !== 'letterbox' && p.fit !== 'stretch') throw new RecipeError(`recipe key "preprocessing.fit" must be letterbox or stretch, got ${JSON.stringify(p.fit)}`, 'preprocessing.fit');
  if (!Number.isInteger(p.stretchVia) || p.stretchVia < 0 || (p.stretchVia > 0 && p.fit !== 'stretch')) {
    throw new RecipeError(`recipe key "preprocessing.stretchVia" must be 0, or a side in pixels with fit stretch, got ${p.stretchVia}`, 'preprocessing.stretchVia');
  }
  const filter = p.stretchFilter;
  if (filter !== undefined && ((filter !== 'cubic' && filter !== 'nearest') || p.stretchVia === 0)) {
    throw new RecipeError(`recipe key "preprocessing.stretchFilter" must be cubic or nearest, with a stretchVia side, got ${JSON.stringify(filter)}`, 'preprocessing.stretchFilter');
  }
  return {
    size: recipe.inputSize,
    fit: p.fit,
    crop: p.crop,
    ...(p.stretchVia > 0 ? { stretchVia: p.stretchVia } : {}),
    ...(filter === undefined ? {} : { stretchFilter: filter }),
  };
}

/** One dev evaluation: named metrics, units in the names (e.g. `devMaeMonths`). */
export interface Evaluation {
  readonly metrics: Readonly<Record<string, number>>;
}

/** A report the task built from predictions, written where the trainer or evaluator says. */
export interface TaskReport {
  /** The numbers of the report as card metrics (each with the data it was measured on). */
  readonly metrics: readonly CardMetric[];
  /** Write HTML and JSON into a folder; returns their paths. */
  write(dir: string): { htmlPath: string; jsonPath: string };
}

/** What the finalisation of a run may use: the best weights (as shipped), the data and a way to run the network. */
export interface FinaliseContext<Item extends TrainingItem> {
  /** The network with the best weights (rounded to the shipped precision), eval mode. */
  readonly model: ZooModel;
  readonly recipe: TrainRecipe;
  readonly train: readonly Item[];
  readonly dev: readonly Item[];
  /** Head outputs of the dev items with these weights, in dev order. */
  readonly devOutputs: readonly Float32Array[];
  /** A loader over items without augmentation (closed by the caller), for extra passes (features, TTA). */
  loader(items: readonly Item[], o?: { cache?: boolean }): DataLoader<unknown>;
  /** What the dev data is, in words (for card metrics). */
  readonly devData: string;
  readonly modelId: string;
}

/** A picture for a report (e.g. a saliency example), written next to it. */
export interface ReportImage {
  /** File name inside the report folder. */
  readonly file: string;
  readonly caption: string;
  readonly bytes: Uint8Array;
}

/** What a task's finalisation adds to the bundle. */
export interface Finalised {
  /** Pictures the dev report shows (saliency examples made with the shipped weights). */
  readonly reportImages?: readonly ReportImage[];
  /** Tables the dev report shows (e.g. saliency against masks, with the shipped weights). */
  readonly reportTables?: readonly ReportTable[];
  /** Card metrics beyond the report's (interval calibration, coverage…). */
  readonly metrics: readonly CardMetric[];
  /** Files that change an answer (OOD statistics, calibration), hashed in the card. */
  readonly artifacts: readonly ArtifactContents[];
}

/**
 * A task as the trainer sees it.
 * @typeParam Item - the task's labelled item
 */
export interface TrainingTask<Item extends TrainingItem> {
  /** The registered task name (recorded in the card). */
  readonly name: string;
  /**
   * The sample module run in loader workers. Its `loadSample` returns at least `image` (size × size, [0, 1]) and
   * `target`, and `extra` (k values) when the network takes extra inputs.
   */
  readonly sampleModule: URL;
  /** The item as the worker receives it (structured-cloneable). */
  loaderItem(item: Item): unknown;
  /**
   * The sample module's options. `preprocessing` is how films become the input: the recipe's when training, the
   * card's when a bundle is evaluated (they can differ from the task's current default recipe).
   */
  sampleOptions(recipe: TrainRecipe, augmentation: AugmentationConfig | null, cache: boolean, preprocessing: PreprocessOptions & { readonly size: number }): unknown;
  /** The network's options (channels, head, extra inputs). */
  modelOptions(recipe: TrainRecipe): ModelOptions;
  /** Prepare a fresh network for these training items (e.g. the final bias at the mean target). */
  initModel?(model: ZooModel, train: readonly Item[]): void;
  /** The training loss of a batch: the network's output and the collated `target` field. */
  loss(output: Tensor, target: Tensor): Tensor;
  /** Values of the `target` field per sample. */
  readonly targetLength: number;
  /** The dev metric (a key of {@link Evaluation.metrics}) that early stopping and the best checkpoint follow. */
  readonly selection: { readonly metric: string; readonly mode: 'min' | 'max' };
  /** Evaluate head outputs (one per item, in item order) against the items' labels. */
  evaluate(outputs: readonly Float32Array[], items: readonly Item[]): Evaluation;
  /** A report over head outputs (dev, out-of-fold or external evaluation). */
  report(
    outputs: readonly Float32Array[],
    items: readonly Item[],
    o: {
      title: string;
      facts: Record<string, string>;
      data: string;
      folds?: Readonly<Record<string, MeanSd>>;
      images?: readonly ReportImage[];
      tables?: readonly ReportTable[];
      /** Published results a user adds (`physis evaluate --published`), shown after the task's own list. */
      published?: readonly PublishedResult[];
    },
  ): TaskReport;
  /** Whether {@link report} shows the published results a user adds; absent: a report that has no place for them. */
  readonly reportShowsPublished?: boolean;
  /** The card's description of the network's inputs and outputs. */
  card(recipe: TrainRecipe): { readonly extra: readonly CardExtraInput[]; readonly outputs: readonly CardOutput[] };
  /** Artifacts and metrics made from the best weights (OOD statistics, interval calibration). */
  finalise(ctx: FinaliseContext<Item>): Promise<Finalised>;
  /** Stratum (e.g. sex) and target for stratified splits and folds. */
  stratum(item: Item): string;
  /**
   * The group an item belongs to when several items come from one subject (one patient's films): splits and folds
   * then keep each group on one side. Absent: items are independent.
   */
  groupOf?(item: Item): string;
  target(item: Item): number;
}
