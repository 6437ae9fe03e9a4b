/**
 * The generic trainer: AdamW with linear warm-up and cosine decay, the task's loss, early stopping on the task's
 * primary dev metric, a checkpoint every epoch with `resume`, progress events, a JSONL epoch log, and at the end
 * a bundle whose every answer-changing file is hashed in the card.
 *
 * Why one loop: every task trains the same way and differs only in what {@link TrainingTask} supplies (MONAI's
 * `SupervisedTrainer` and its handlers; Lightning's trainer/module split). Checkpoints hold the optimiser moments
 * and the seed stream, so an interrupted run resumes where it stopped and gives the same weights. A loss that is
 * not finite stops the run at the step it happens, with the epoch and step named.
 *
 * @example
 * const result = await trainModel(task, { train, dev, outDir: 'runs/a', recipe: { ...task.defaultRecipe, epochs: 2 } });
 * result.evaluation.metrics; // e.g. { devMaeMonths: 30.1, … }
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { loadBundle, saveBundle, type ArtifactContents, type CardMetric, type ModelBundle } from '../infer/index.js';
import { createModel, type ZooModel } from '../models/index.js';
import type { PreprocessOptions } from '../preprocess/index.js';
import {
  AdamW,
  GradientAllReducer,
  getDefaultDevice,
  loadSafetensors,
  manualSeed,
  noGrad,
  readSafetensors,
  safetensorsBytes,
  saveSafetensors,
  setDefaultDevice,
  setDeterministic,
  setNumThreads,
  tensor,
  tidy,
  warmupCosine,
  type Device,
  type ProcessGroup,
  type Tensor,
} from '../torch/index.js';
import { CHECKPOINT_VERSION, configFingerprint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { augmentBatch } from './batch-augment.js';
import { DataLoader } from './data-loader.js';
import { EarlyStopping } from './early-stopping.js';
import { batchInputs, predictWithFeatures } from './features.js';
import { TrainConfigError, TrainDivergedError } from './errors.js';
import { JsonlLogger } from './jsonl-logger.js';
import { AUGMENTATION_FIELD, type Batch } from './load-batch.js';
import { acquireRunLock, assertFreshOutput } from './run-lock.js';
import { checkMinimumSizes } from './splits.js';
import { ProgressReporter, type ProgressListener } from './progress.js';
import { mixSeed, Rng } from './rng.js';
import { recipePreprocessing, type Evaluation, type TrainingItem, type TrainingTask, type TrainRecipe } from './training-task.js';
import { recomputeBatchNorm, snapshotSteps, WeightAverager } from './weight-averaging.js';

/** The bundle artifact listing every training row (id and image sha256), so evaluation can flag overlap. */
export const TRAINING_ROWS_ROLE = 'training-rows';
/** Its file name in a bundle. */
export const TRAINING_ROWS_FILE = 'training-rows.json';

/** One epoch's record, as written to the JSONL log. */
export interface EpochRecord {
  readonly epoch: number;
  /** Mean training loss of the epoch (in the task's loss unit). */
  readonly trainLoss: number;
  /** The task's dev metrics, units in their names. */
  readonly dev: Readonly<Record<string, number>>;
  readonly lr: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly improved: boolean;
}

/** Options of {@link trainModel}. */
export interface TrainOptions<Item extends TrainingItem> {
  readonly train: readonly Item[];
  readonly dev: readonly Item[];
  /** Bundle folder; also holds `train.jsonl`, `checkpoint/` and `report/`. */
  readonly outDir: string;
  readonly recipe: TrainRecipe;
  /** Data-loader worker threads (default 1). */
  readonly workers?: number;
  /** Engine threads (default: cores − workers, at least 1). */
  readonly threads?: number;
  /** Where the network trains (default cpu); CUDA runs are not bit-reproducible (no deterministic kernels). */
  readonly device?: Device;
  /** Continue from `outDir/checkpoint` (which must exist). */
  readonly resume?: boolean;
  /** Replace a finished bundle already in `outDir` (otherwise refused). */
  readonly force?: boolean;
  /** Initialise from a bundle folder or safetensors file (matching names and shapes only). */
  readonly init?: string;
  /** Epochs at the start with the backbone frozen (only the final layer trains); default 0. */
  readonly freezeBackboneEpochs?: number;
  /** Keep preprocessed images in worker memory (default true). */
  readonly cache?: boolean;
  /**
   * Where the training augmentation is applied: 'batch' (default) in the engine on each whole batch, after the loader
   * (augmentBatch; on the training device), or 'loader' film by film in the loader's workers. Both draw the same
   * parameters from the same streams and give the same images to float32 rounding; a recipe with a crop is always
   * augmented in the loader.
   */
  readonly augmentOn?: 'batch' | 'loader';
  readonly modelId: string;
  readonly version?: string;
  /** One line on the training data for the card. */
  readonly dataSummary: string;
  /** The command line that reproduces this run, recorded in the card. */
  readonly command?: string;
  /** Precision of the bundle's weights (default float32); the card's metrics are measured with the rounded weights. */
  readonly weightsDType?: 'float32' | 'float16';
  /** The subset of the data this model is for (e.g. `{ sex: 'M' }`), recorded in the card. */
  readonly subset?: Readonly<Record<string, string>>;
  readonly onProgress?: ProgressListener;
  readonly onEpoch?: (record: EpochRecord) => void;
  /**
   * Data-parallel training over a process group (PyTorch DistributedDataParallel's scheme): `recipe.batchSize` is the
   * global batch, each rank loads batchSize / worldSize items of its shard (DistributedSampler), gradients are
   * averaged over the ranks every step, batch norm normalises with each rank's own batch (no SyncBatchNorm) and its
   * running statistics are rank 0's. Every rank evaluates the dev split, rank 0's early-stopping decision is taken
   * by all; rank 0 alone writes the log, checkpoints, report and bundle. `resume` reads the checkpoint on every rank
   * (multi-node: `outDir` on a shared file system).
   */
  readonly distributed?: { readonly group: ProcessGroup };
}

/** What a rank other than 0 of a data-parallel run returns (rank 0 returns the {@link TrainResult}). */
export interface TrainWorkerResult {
  readonly rank: number;
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
}

/** What a training run produced, in memory. */
export interface TrainResult {
  readonly bundle: ModelBundle;
  readonly bestEpoch: number;
  /** The dev evaluation of the shipped weights. */
  readonly evaluation: Evaluation;
  /** Head outputs of the dev items with the shipped weights (out-of-fold predictions in cross-validation). */
  readonly devOutputs: readonly Float32Array[];
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
  readonly history: readonly EpochRecord[];
  readonly reportHtml: string;
  readonly reportJson: string;
  readonly seconds: number;
  /** What `init` transferred, when given. */
  readonly init?: InitReport;
  /** Set when the shipped weights are the mean of snapshots (the recipe's `averaging`), not the best epoch's. */
  readonly averaged?: AveragedWeights;
}

/** Which snapshots the shipped weights average (1-based epochs, inclusive). */
export interface AveragedWeights {
  readonly snapshots: number;
  readonly fromEpoch: number;
  readonly toEpoch: number;
  /** Training batches the batch-norm statistics were recomputed over (0: the network has no batch norm). */
  readonly batchNormBatches: number;
}

/** What {@link initFromWeights} copied and what it left at its fresh initialisation. */
export interface InitReport {
  /** The sha256 of the weights file it read (a bundle's as its card records and loading verified). */
  readonly weightsSha256: string;
  readonly loaded: readonly string[];
  /** Keys of the model left as initialised, with the reason (missing in the file, or another shape). */
  readonly skipped: readonly string[];
}

const CKPT_DIR = 'checkpoint';
const LAST = 'last.safetensors';
const BEST = 'best.safetensors';
const OPTIM = 'optimizer.safetensors';
const AVERAGE = 'average.safetensors';

function saveOptimizer(path: string, opt: AdamW): void {
  const state = opt.stateDict();
  try {
    saveSafetensors(path, state.tensors, { hyper: JSON.stringify(state.hyper) });
  } finally {
    for (const [k, t] of state.tensors) if (k.endsWith('.step')) t.dispose();
  }
}

function loadOptimizer(path: string, opt: AdamW): void {
  const { tensors, metadata } = readSafetensors(path);
  try {
    opt.loadStateDict({ tensors, hyper: JSON.parse(metadata['hyper'] ?? '{}') as Record<string, number> });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function loadWeights(model: ZooModel, path: string): void {
  const { tensors } = readSafetensors(path);
  try {
    model.loadStateDict(tensors);
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Round every float32 weight and buffer to float16 in place (nearest even, as PyTorch's .half()). */
function roundWeightsToHalf(model: ZooModel): void {
  noGrad(() => {
    for (const [, t] of model.stateDict()) {
      if (t.dtype !== 'float32') continue;
      const half = t.to('float16');
      t.copy_(half);
      half.dispose();
    }
  });
}

/** The model's state dict as safetensors bytes, float tensors stored in `dtype`. */
function weightsBytes(model: ZooModel, dtype: 'float32' | 'float16', metadata: Record<string, string>): Uint8Array {
  if (dtype === 'float32') return safetensorsBytes(model.stateDict(), metadata);
  return tidy(() => {
    const halves = new Map<string, Tensor>();
    for (const [name, t] of model.stateDict()) halves.set(name, t.dtype === 'float32' ? t.to('float16') : t);
    return safetensorsBytes(halves, metadata);
  });
}

/**
 * Transfer weights into a model: every parameter and buffer whose name and shape match is copied; the rest keeps
 * its fresh initialisation. The source is a bundle folder (its weights, as verified by loadBundle) or a safetensors
 * file with PyTorch names (transfer learning from one task's model to another).
 *
 * The head is a special case. When the source's head has the same outputs but fewer input columns — the same features
 * and extra inputs, with more extra inputs appended in the new model (e.g. chronological age after sex) — its columns
 * are copied and the new columns start at zero, with its bias: the new model starts as the source's answer and learns
 * what the new inputs add. A head that fits in no such way keeps its own weight and bias (an offset fitted with other
 * weights would start every output far off).
 * @param model - the model to initialise
 * @param source - a `.safetensors` file, or a bundle folder
 */
export function initFromWeights(model: ZooModel, source: string): InitReport {
  // a bundle folder gives its weights once its card's hashes check out
  const weights = existsSync(source) && statSync(source).isDirectory() ? loadBundle(source).card.files.weights : null;
  const file = weights === null ? source : join(source, weights.path);
  const weightsSha256 = weights === null ? sha256File(source) : weights.sha256;
  const tensors = loadSafetensors(file);
  const loaded: string[] = [];
  const skipped: string[] = [];
  const headWeightName = `${model.headLinearName}.weight`;
  const headBiasName = `${model.headLinearName}.bias`;
  const headWeight = tensors.get(headWeightName);
  const headTarget = model.namedParameters().find(([n]) => n === headWeightName)?.[1];
  const [srcOut, srcIn] = headWeight?.shape ?? [];
  const [dstOut, dstIn] = headTarget?.shape ?? [];
  const headFits = headWeight !== undefined && headTarget !== undefined && srcOut === dstOut && srcIn === dstIn;
  // the same outputs, the new model's inputs a superset appended after the source's
  const headExtends = !headFits && srcOut !== undefined && srcOut === dstOut && srcIn !== undefined && dstIn !== undefined && srcIn < dstIn;
  try {
    noGrad(() => {
      for (const [name, target] of [...model.namedParameters(), ...model.namedBuffers()]) {
        const src = tensors.get(name);
        if (!src) {
          skipped.push(`${name} (not in ${source})`);
        } else if (name === headWeightName && headExtends) {
          target.fill_(0);
          const columns = target.narrow(1, 0, srcIn);
          const converted = src.dtype === target.dtype ? src : src.to(target.dtype);
          columns.copy_(converted);
          if (converted !== src) converted.dispose();
          columns.dispose();
          loaded.push(`${name} (its ${srcIn} input columns; the ${(dstIn as number) - srcIn} new ones start at zero)`);
        } else if (name === headBiasName && !headFits && !headExtends) {
          skipped.push(`${name} (the head's weight does not fit, so its bias is not taken either)`);
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
  return { weightsSha256, loaded, skipped };
}

/**
 * Freeze or unfreeze every parameter outside the final linear layer (the backbone).
 * @param model - the model
 * @param frozen - true stops gradients (and therefore optimiser updates) of the backbone
 */
export function setBackboneFrozen(model: ZooModel, frozen: boolean): void {
  const head = `${model.headLinearName}.`;
  for (const [name, p] of model.namedParameters()) if (!name.startsWith(head)) p.requiresGrad_(!frozen);
}

/**
 * A training batch's network inputs, augmented here where the loader left the augmentation to the batch.
 * @param batch - from a training loader
 * @param size - the square input side
 * @param extraInputs - the network's extra inputs
 */
function trainingInputs(batch: Batch, size: number, extraInputs: number): [Tensor, Tensor | undefined] {
  const [x, extra] = batchInputs(batch.fields, batch.size, size, extraInputs);
  const deferred = batch.fields[AUGMENTATION_FIELD];
  return [deferred === undefined ? x : augmentBatch(x, deferred), extra];
}

/**
 * A loader over a task's items.
 * @param task - the task (its sample module and options)
 * @param items - the items
 * @param o - recipe, augmentation (training passes only), workers, seed, shuffle, cache, preprocessing
 */
export function taskLoader<Item extends TrainingItem>(
  task: TrainingTask<Item>,
  items: readonly Item[],
  o: {
    recipe: TrainRecipe;
    augment?: boolean;
    /** Leave the augmentation to the consumer's augmentBatch (the DataLoader's augmentInBatch). */
    augmentInBatch?: boolean;
    workers?: number;
    shuffle?: boolean;
    cache?: boolean;
    batchSize?: number;
    dropLast?: boolean;
    /** This rank's share in data-parallel training (DataLoader's shard option). */
    shard?: { readonly rank: number; readonly worldSize: number };
    /** How films become the input (default the recipe's); a bundle's evaluation passes its card's. */
    preprocessing?: PreprocessOptions & { readonly size: number };
  },
): DataLoader<unknown> {
  const augment = o.augment === true;
  return new DataLoader<unknown>({
    module: task.sampleModule,
    items: items.map((i) => task.loaderItem(i)),
    batchSize: o.batchSize ?? o.recipe.batchSize,
    workers: o.workers ?? 1,
    seed: o.recipe.seed,
    train: augment,
    ...(augment && o.augmentInBatch === true ? { augmentInBatch: true } : {}),
    shuffle: o.shuffle ?? false,
    ...(o.dropLast === true ? { dropLast: true } : {}),
    ...(o.shard === undefined ? {} : { shard: o.shard }),
    moduleOptions: task.sampleOptions(o.recipe, augment ? o.recipe.augmentation : null, o.cache ?? false, o.preprocessing ?? recipePreprocessing(o.recipe)),
  });
}

/**
 * Head outputs of every item through a non-augmenting loader, in item order.
 * @param model - the network (put in eval mode here)
 * @param loader - a loader over the items (train: false)
 * @param count - number of items
 * @param size - input side
 */
export async function predictOutputs(model: ZooModel, loader: DataLoader<unknown>, count: number, size: number): Promise<Float32Array[]> {
  return (await predictWithFeatures(model, loader, count, size)).map((p) => p.outputs);
}

/** The sha256 of a file's bytes (how training rows are recognised whatever folder they sit in). @param path - the file */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The image hashes a bundle's training-rows artifact lists, as sets; null when the bundle lists none.
 * @param bundle - a loaded bundle (its artifacts verified)
 */
export function trainingRowHashes(bundle: Pick<ModelBundle, 'artifacts'>): { readonly train: ReadonlySet<string>; readonly dev: ReadonlySet<string> } | null {
  const art = bundle.artifacts.get(TRAINING_ROWS_ROLE);
  if (art === undefined) return null;
  const doc = JSON.parse(new TextDecoder().decode(art.bytes)) as { train: readonly { sha256: string }[]; dev: readonly { sha256: string }[] };
  return { train: new Set(doc.train.map((r) => r.sha256)), dev: new Set(doc.dev.map((r) => r.sha256)) };
}

/**
 * The training-rows artifact: every training and dev item's id and image sha256. Why: `physis evaluate` warns
 * when its rows overlap the data a model was trained or early-stopped on, whatever folder the files sit in now.
 */
function trainingRowsArtifact(train: readonly TrainingItem[], dev: readonly TrainingItem[]): ArtifactContents {
  const rows = (items: readonly TrainingItem[]): { id: string; sha256: string }[] => items.map((i) => ({ id: i.id, sha256: sha256File(i.path) }));
  const doc = { format: 'physis-training-rows', version: 1, train: rows(train), dev: rows(dev) };
  return { path: TRAINING_ROWS_FILE, role: TRAINING_ROWS_ROLE, bytes: new TextEncoder().encode(`${JSON.stringify(doc)}\n`) };
}

/**
 * Train a task's model and write its bundle, log and dev report into `outDir`.
 * @param task - the task
 * @param o - data, output folder, recipe and hooks (a data-parallel run calls {@link trainModelOnRank} instead)
 */
export async function trainModel<Item extends TrainingItem>(task: TrainingTask<Item>, o: TrainOptions<Item>): Promise<TrainResult> {
  const r = await trainModelOnRank(task, o);
  if (!('bundle' in r)) throw new TrainConfigError(`rank ${r.rank} of a data-parallel run has no bundle: call trainModelOnRank on every rank`);
  return r;
}

/**
 * One rank's part of a data-parallel training run (the same as {@link trainModel} without `o.distributed`). Why a
 * second entry: only rank 0 writes and returns the bundle; every other rank returns what it trained.
 * Reference: PyTorch DistributedDataParallel (every rank runs the same loop; rank 0 saves).
 * @param task - the task
 * @param o - as for trainModel, with `distributed: { group }` on every rank
 */
export async function trainModelOnRank<Item extends TrainingItem>(task: TrainingTask<Item>, o: TrainOptions<Item>): Promise<TrainResult | TrainWorkerResult> {
  const device = o.device ?? 'cpu';
  const previous = getDefaultDevice();
  const group = o.distributed?.group;
  const isMain = group === undefined || group.rank === 0;
  const worldSize = group?.worldSize ?? 1;
  if (!Number.isInteger(o.recipe.batchSize / worldSize) || o.recipe.batchSize < worldSize) {
    throw new TrainConfigError(`batch ${o.recipe.batchSize} is the global batch of ${worldSize} ranks: it must be a multiple of ${worldSize}`);
  }
  // everything the run creates (model, batches, optimiser state) lands on the run's device; throws DeviceError first
  // sizes, output and device are checked before anything is written; the lock keeps a second run out of this folder
  let { trainDropLast } = checkMinimumSizes({ train: o.train.length, dev: o.dev.length, batchSize: o.recipe.batchSize });
  if (group !== undefined) {
    // batch normalisation sees each rank's batch alone, so a last batch of one is judged per rank
    const perRank = Math.ceil(o.train.length / worldSize);
    const b = o.recipe.batchSize / worldSize;
    trainDropLast = perRank > b && perRank % b === 1;
  }
  if (isMain) assertFreshOutput(o.outDir, { force: o.force === true, resume: o.resume === true, bundleFiles: ['card.json'] });
  setDefaultDevice(device); // throws DeviceError when the device is not there
  try {
    const lock = isMain ? acquireRunLock(o.outDir, o.command === undefined ? {} : { command: o.command }) : null;
    try {
      return await trainOnDefaultDevice(task, o, device, trainDropLast);
    } finally {
      lock?.release();
    }
  } finally {
    setDefaultDevice(previous);
  }
}

async function trainOnDefaultDevice<Item extends TrainingItem>(
  task: TrainingTask<Item>,
  o: TrainOptions<Item>,
  device: Device,
  trainDropLast: boolean,
): Promise<TrainResult | TrainWorkerResult> {
  const group = o.distributed?.group;
  const rank = group?.rank ?? 0;
  const isMain = rank === 0;
  const worldSize = group?.worldSize ?? 1;
  const started = performance.now();
  const { recipe } = o;
  if (!Number.isInteger(recipe.epochs) || recipe.epochs < 1) throw new TrainConfigError(`epochs ${recipe.epochs} must be >= 1`);
  const workers = o.workers ?? 1;
  setNumThreads(o.threads ?? Math.max(1, availableParallelism() - workers));
  const size = recipe.inputSize;
  const ckptDir = join(o.outDir, CKPT_DIR);
  const fingerprint = configFingerprint({
    task: task.name,
    recipe,
    init: o.init ?? null,
    freezeBackboneEpochs: o.freezeBackboneEpochs ?? 0,
    subset: o.subset ?? null,
    train: o.train.map((i) => i.path),
    dev: o.dev.map((i) => i.path),
  });
  if (isMain) mkdirSync(ckptDir, { recursive: true });

  // seeded before the model exists: its initial weights come from the engine's generator
  manualSeed(recipe.seed);
  setDeterministic(device === 'cpu');
  const model = createModel(recipe.arch, task.modelOptions(recipe));
  task.initModel?.(model, o.train);
  const init = o.init === undefined ? undefined : initFromWeights(model, o.init);
  const opt = new AdamW(model.parameters(), { lr: recipe.optimizer.lr, weightDecay: recipe.optimizer.weightDecay });
  const cache = o.cache ?? true;
  // a crop changes the output size, so shownPixels does it in the loader whatever this says
  const augmentInBatch = (o.augmentOn ?? 'batch') === 'batch';
  const trainLoader = taskLoader(task, o.train, {
    recipe,
    augment: true,
    augmentInBatch,
    shuffle: true,
    workers,
    cache,
    // a last batch of one image would give batch normalisation a single sample (its running variance divides by n − 1)
    dropLast: trainDropLast,
    ...(group === undefined ? {} : { batchSize: recipe.batchSize / worldSize, shard: { rank, worldSize } }),
  });
  const devLoader = taskLoader(task, o.dev, { recipe, workers, cache });
  const stepsPerEpoch = trainLoader.stepsPerEpoch;
  const schedule = warmupCosine({
    baseLr: recipe.optimizer.lr,
    warmupSteps: Math.max(1, Math.round(recipe.schedule.warmupEpochs * stepsPerEpoch)),
    totalSteps: recipe.epochs * stepsPerEpoch,
    minLr: recipe.optimizer.lr * recipe.schedule.minLrFactor,
  });
  const stopper = new EarlyStopping({ patience: recipe.earlyStopping.patience, mode: task.selection.mode });
  const averaging = recipe.averaging !== undefined && recipe.averaging.fromEpoch !== 0 ? recipe.averaging : undefined;
  if (averaging !== undefined) {
    const { fromEpoch, perEpoch } = averaging;
    if (!Number.isInteger(fromEpoch) || fromEpoch < 1 || fromEpoch > recipe.epochs) {
      throw new TrainConfigError(`averaging.fromEpoch ${fromEpoch} must be 0 (off) or an epoch from 1 to ${recipe.epochs}`);
    }
    if (!Number.isInteger(perEpoch) || perEpoch < 1) throw new TrainConfigError(`averaging.perEpoch ${perEpoch} must be an integer >= 1`);
  }
  // rank 0 alone averages: every rank holds the same weights after each step
  const averager = averaging !== undefined && isMain ? new WeightAverager(model.namedParameters()) : null;
  const snapshotAt = snapshotSteps(stepsPerEpoch, averaging?.perEpoch ?? 1);
  let rng = new Rng(recipe.seed);
  let epoch = 0;
  let step = 0;
  const log = isMain ? new JsonlLogger(join(o.outDir, 'train.jsonl')) : null;
  let resumed: TrainState | null = null;
  if (o.resume === true) {
    resumed = loadCheckpoint(ckptDir, fingerprint);
    loadWeights(model, join(ckptDir, resumed.weightsFile));
    loadOptimizer(join(ckptDir, resumed.optimizerStateFile), opt);
    stopper.load(resumed.earlyStopping);
    averager?.load(join(ckptDir, AVERAGE), resumed.averagedSnapshots ?? 0);
    rng = Rng.fromState(resumed.rngState);
    epoch = resumed.epoch;
    step = resumed.step;
  } else if (log !== null && existsSync(log.path)) {
    rmSync(log.path); // a fresh run starts a fresh log
  }
  // every rank starts from rank 0's weights and buffers (DDP's broadcast at construction)
  const reducer = group === undefined ? null : new GradientAllReducer(model.parameters(), { group });
  const buffers = model.namedBuffers().map(([, b]) => b);
  await reducer?.broadcastParameters(buffers);
  const progress = new ProgressReporter({ epochs: recipe.epochs, stepsPerEpoch, batchSize: recipe.batchSize });
  if (o.onProgress && isMain) progress.on(o.onProgress);
  const history: EpochRecord[] = [];
  const extraInputs = model.extraInputs;
  let stoppedEarly = stopper.state().epochsWithoutImprovement >= recipe.earlyStopping.patience;
  try {
    for (; epoch < recipe.epochs && !stoppedEarly; epoch++) {
      const epochStart = performance.now();
      // dropout and other in-network randomness: rank 0 keeps the single-process stream, the others draw their own
      const epochSeed = rng.nextUint32();
      manualSeed(rank === 0 ? epochSeed : mixSeed(epochSeed, rank));
      setBackboneFrozen(model, epoch < (o.freezeBackboneEpochs ?? 0));
      model.train();
      progress.startEpoch(epoch);
      let lossSum = 0;
      let seen = 0;
      let s = 0;
      let lr = schedule(step);
      for await (const batch of trainLoader.epoch(epoch)) {
        lr = schedule(step);
        opt.lr = lr;
        const n = batch.size;
        const loss = tidy(() => {
          const [x, extra] = trainingInputs(batch, size, extraInputs);
          const y = tensor(batch.fields['target'] as Float32Array, [n, task.targetLength]);
          const l: Tensor = task.loss(extra === undefined ? model.call(x) : model.call(x, extra), y);
          const value = l.item();
          // a diverged run is stopped before the step that would spread NaN into every weight
          if (!Number.isFinite(value)) {
            throw new TrainDivergedError(
              `training diverged: loss ${value} at epoch ${epoch + 1}, step ${s + 1} (lr ${lr.toExponential(2)}); ` +
                `lower --lr or check the labels; the checkpoint of epoch ${epoch} is kept`,
            );
          }
          l.backward();
          return value;
        });
        await reducer?.allReduceGradients();
        opt.step();
        opt.zeroGrad();
        step++;
        s++;
        if (averager !== null && averaging !== undefined && epoch + 1 >= averaging.fromEpoch && snapshotAt.has(s)) {
          averager.update(model.namedParameters());
        }
        lossSum += loss * n;
        seen += n;
        progress.step(s, n * worldSize, loss);
      }
      if (group !== undefined) {
        // the epoch's loss over every rank's images; batch-norm running statistics are rank 0's, as under DDP
        const totals = tensor([lossSum, seen], [2]);
        await group.allReduce(totals);
        [lossSum, seen] = Array.from(totals.toFloat32Array()) as [number, number];
        totals.dispose();
        await reducer?.broadcast(buffers);
      }
      const evaluation = task.evaluate(await predictOutputs(model, devLoader, o.dev.length, size), o.dev);
      const primary = evaluation.metrics[task.selection.metric];
      if (primary === undefined || !Number.isFinite(primary)) {
        throw new TrainDivergedError(`dev ${task.selection.metric} is ${String(primary)} at epoch ${epoch + 1}: the network's outputs are not finite`);
      }
      const decision = stopper.update(epoch, primary);
      let stop = decision.stop;
      if (group !== undefined) {
        // rank 0's decision binds every rank (their dev metrics agree, but one rank deciding alone cannot diverge)
        const flag = tensor([stop ? 1 : 0], [1]);
        await group.broadcast(flag, 0);
        stop = flag.item() === 1;
        flag.dispose();
      }
      if (!isMain) {
        stoppedEarly = stop;
        history.push({ epoch, trainLoss: lossSum / Math.max(1, seen), dev: evaluation.metrics, lr, seconds: 0, imagesPerSecond: 0, improved: decision.improved });
        continue;
      }
      if (decision.improved) saveSafetensors(join(ckptDir, BEST), model.stateDict());
      saveSafetensors(join(ckptDir, LAST), model.stateDict());
      saveOptimizer(join(ckptDir, OPTIM), opt);
      averager?.save(join(ckptDir, AVERAGE));
      const es = stopper.state();
      saveCheckpoint(ckptDir, {
        version: CHECKPOINT_VERSION,
        epoch: epoch + 1,
        step,
        bestMetric: es.best,
        bestEpoch: es.bestEpoch,
        earlyStopping: es,
        rngState: rng.state(),
        weightsFile: LAST,
        optimizerStateFile: OPTIM,
        bestWeightsFile: BEST,
        ...(averager === null ? {} : { averagedSnapshots: averager.count }),
        configFingerprint: fingerprint,
        savedAt: new Date().toISOString(),
      });
      const seconds = (performance.now() - epochStart) / 1000;
      const record: EpochRecord = {
        epoch,
        trainLoss: lossSum / Math.max(1, seen),
        dev: evaluation.metrics,
        lr,
        seconds,
        imagesPerSecond: seen / seconds,
        improved: decision.improved,
      };
      log?.log({ ...record });
      history.push(record);
      o.onEpoch?.(record);
      stoppedEarly = stop;
    }
    if (!isMain) return { rank, epochsRun: history.length, stoppedEarly };
    if (!existsSync(join(ckptDir, BEST))) throw new TrainConfigError(`${ckptDir}: no best weights (the run finished no epoch)`);
    // the bundle holds the averaged weights, or else the best epoch's; every number in its card is measured with them as shipped
    let averaged: AveragedWeights | undefined;
    let weightsNote: string;
    if (averager !== null && averaging !== undefined && averager.count > 0) {
      averager.copyInto(model.namedParameters());
      const batchNormBatches = await recomputeBatchNorm(model, trainLoader.epoch(recipe.epochs), (batch) => {
        const [x, extra] = trainingInputs(batch, size, extraInputs);
        return extra === undefined ? model.call(x) : model.call(x, extra);
      });
      const toEpoch = epoch;
      averaged = { snapshots: averager.count, fromEpoch: averaging.fromEpoch, toEpoch, batchNormBatches };
      weightsNote =
        `mean of ${averager.count} snapshots (${averaging.perEpoch} per epoch, epochs ${averaging.fromEpoch}–${toEpoch}; SWA, Izmailov et al. 2018)` +
        (batchNormBatches > 0 ? `, batch-norm statistics recomputed over ${batchNormBatches} training batches` : '');
    } else {
      loadWeights(model, join(ckptDir, BEST));
      weightsNote =
        `the best epoch's (${stopper.state().bestEpoch + 1} of ${epoch}, by dev ${task.selection.metric})` +
        (averaging === undefined ? '' : `; averaging from epoch ${averaging.fromEpoch} was asked, but the run stopped at epoch ${epoch}`);
    }
    const weightsDType = o.weightsDType ?? 'float32';
    if (weightsDType === 'float16') roundWeightsToHalf(model);
    const devOutputs = await predictOutputs(model, devLoader, o.dev.length, size);
    const evaluation = task.evaluate(devOutputs, o.dev);
    if (averaged !== undefined) log?.log({ averaged, dev: evaluation.metrics });
    const bestEpoch = stopper.state().bestEpoch;
    const devData = `dev split, ${o.dev.length} images`;
    model.eval();
    const extraLoaders: DataLoader<unknown>[] = [];
    let finalised;
    try {
      finalised = await task.finalise({
        model,
        recipe,
        train: o.train,
        dev: o.dev,
        devOutputs,
        devData,
        modelId: o.modelId,
        loader: (items, lo) => {
          const l = taskLoader(task, items, { recipe, workers, cache: lo?.cache ?? false });
          extraLoaders.push(l);
          return l;
        },
      });
    } finally {
      for (const l of extraLoaders) await l.close();
    }
    const report = task.report(devOutputs, o.dev, {
      title: `${o.modelId}: dev evaluation`,
      data: devData,
      facts: {
        model: o.modelId,
        architecture: recipe.arch,
        inputSize: `${size} px`,
        ...(averaged === undefined ? { bestEpoch: String(bestEpoch + 1) } : { weights: weightsNote }),
        data: o.dataSummary,
      },
      ...(finalised.reportImages === undefined ? {} : { images: finalised.reportImages }),
      ...(finalised.reportTables === undefined ? {} : { tables: finalised.reportTables }),
    });
    const { htmlPath, jsonPath } = report.write(join(o.outDir, 'report'));
    const card = task.card(recipe);
    const metrics: CardMetric[] = [...report.metrics, ...finalised.metrics];
    const bundle = saveBundle(o.outDir, {
      card: {
        id: o.modelId,
        version: o.version ?? '0.1.0',
        task: task.name,
        architecture: { name: recipe.arch, options: { ...task.modelOptions(recipe) } },
        input: {
          shape: [1, size, size],
          ...(card.extra.length > 0 ? { extra: card.extra } : {}),
          preprocessing: { ...recipePreprocessing(recipe) },
        },
        outputs: card.outputs,
        trainingData: {
          summary:
            group === undefined
              ? o.dataSummary
              : `${o.dataSummary}; data-parallel over ${worldSize} processes (global batch ${recipe.batchSize} = ${worldSize} × ${recipe.batchSize / worldSize}; ` +
                'batch norm normalised each rank\'s batch alone, no SyncBatchNorm; running statistics are rank 0\'s)',
          ...(o.command === undefined ? {} : { command: o.command }),
          ...(o.subset === undefined ? {} : { subset: o.subset }),
          ...(o.init === undefined || init === undefined ? {} : { init: { source: o.init, weightsSha256: init.weightsSha256 } }),
          weights: weightsNote,
        },
        metrics,
      },
      weights: weightsBytes(model, weightsDType, { format: 'pt' }),
      weightsDType,
      artifacts: [...finalised.artifacts, trainingRowsArtifact(o.train, o.dev)],
    });
    return {
      bundle,
      bestEpoch,
      evaluation,
      devOutputs,
      epochsRun: history.length,
      stoppedEarly,
      history,
      reportHtml: htmlPath,
      reportJson: jsonPath,
      seconds: (performance.now() - started) / 1000,
      ...(init ? { init } : {}),
      ...(averaged === undefined ? {} : { averaged }),
    };
  } finally {
    await trainLoader.close();
    await devLoader.close();
    opt.dispose();
    model.dispose();
  }
}
