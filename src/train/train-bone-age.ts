/**
 * The bone-age trainer: AdamW with linear warm-up and cosine decay, L1 loss in months, early stopping on
 * dev MAE, checkpoints every epoch with `resume`, progress events, a JSONL epoch log, and at the end a
 * model bundle (best-epoch weights + card) and an HTML/JSON dev report.
 *
 * Why: this is the recipe of the PyTorch baseline (ResNet-18, 1-channel stem, sex before the
 * head, L1, AdamW 1e-3 + cosine, light affine/intensity augmentation), run on the Physis engine; L1 is
 * the loss of the RSNA challenge's evaluation metric (MAE; Halabi et al. 2019). Checkpoints hold the
 * optimizer moments and the seed stream so an interrupted run resumes where it stopped.
 *
 * @example
 * const result = await trainBoneAge({ train, dev, outDir: 'bundle/', config: { ...HAND_BONE_AGE_DEFAULT_CONFIG, epochs: 2 } });
 * result.bestDevMae; // e.g. 30.1 (months)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { buildRegressionReport, RegressionAccumulator, writeRegressionReport, type RegressionSample } from '../eval/index.js';
import { saveBundle, sha256Hex, type ModelBundle } from '../infer/index.js';
import type { ZooModel } from '../models/index.js';
import { fitOodModel, OodModelError, parseOodModel, type HandBoneAgeConfig, type OodModel } from '../tasks/index.js';
import { OOD_FEATURES_DESCRIPTION, pooledFeatures } from './ood-features.js';
import {
  AdamW,
  F,
  getDefaultDevice,
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
  type Tensor,
} from '../torch/index.js';
import {
  createBoneAgeLoader,
  createBoneAgeModel,
  boneAgeModelOptions,
  initFromWeights,
  loadBoneAgeBundleModel,
  setBackboneFrozen,
  type InitReport,
  predictBoneAges,
  predictWithLoader,
  type LabelledBoneAgeItem,
} from './bone-age-model.js';
import { CHECKPOINT_VERSION, configFingerprint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { EarlyStopping } from './early-stopping.js';
import { TrainConfigError } from './errors.js';
import { JsonlLogger } from './jsonl-logger.js';
import { ProgressReporter, type ProgressListener } from './progress.js';
import { Rng } from './rng.js';
import { calibrateInterval, DEFAULT_TTA_VIEWS, heldOutCoverage, predictTta, type IntervalCalibration, type TtaPrediction } from './tta.js';

/** One epoch's record, as written to the JSONL log. */
export interface EpochRecord {
  readonly epoch: number;
  readonly trainLossMonths: number;
  readonly devMaeMonths: number;
  readonly devRmseMonths: number;
  readonly devBiasMonths: number;
  readonly lr: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly improved: boolean;
}

/** Options of {@link trainBoneAge}. */
export interface BoneAgeTrainOptions {
  readonly train: readonly LabelledBoneAgeItem[];
  readonly dev: readonly LabelledBoneAgeItem[];
  /** Bundle folder; also holds `train.jsonl`, `checkpoint/` and `report/`. */
  readonly outDir: string;
  readonly config: HandBoneAgeConfig;
  /** Data-loader worker threads (default 1). */
  readonly workers?: number;
  /** Engine threads (default: cores − workers, at least 1). */
  readonly threads?: number;
  /**
   * Where the network trains (default cpu). On cuda the run is not bit-reproducible: several CUDA kernels (e.g. the
   * adaptive average pool's backward) have no deterministic implementation, so deterministic mode stays off there.
   */
  readonly device?: Device;
  /** Continue from `outDir/checkpoint` when it exists. */
  readonly resume?: boolean;
  /** Initialise from a bundle folder or safetensors file (matching names and shapes only). */
  readonly init?: string;
  /** Epochs at the start with the backbone frozen (only the final layer trains); default 0. */
  readonly freezeBackboneEpochs?: number;
  /** TTA views for the dev calibration of the 90% interval (default 8; 0 skips the interval). */
  readonly ttaViews?: number;
  /** Keep preprocessed images in worker memory (default true). */
  readonly cache?: boolean;
  /** Bundle id and a one-line summary of the training data for the card. */
  readonly modelId?: string;
  readonly dataSummary?: string;
  /** The command line that reproduces this run, recorded in the card. */
  readonly command?: string;
  /**
   * Precision of the bundle's weights (default float32). float16 halves the file (the shipped default model must
   * stay small); the best weights are rounded before the dev evaluation, so every metric in the card is measured
   * with exactly the weights that ship.
   */
  readonly weightsDType?: 'float32' | 'float16';
  /**
   * Train a sex-specific model: every train and dev item must have this sex (the caller filters), and the card
   * records it (`trainingData.sex`) so a sex-specific composite can check its members.
   */
  readonly sex?: 'M' | 'F';
  readonly onProgress?: ProgressListener;
  readonly onEpoch?: (record: EpochRecord) => void;
}

/** What a training run produced. */
export interface BoneAgeTrainResult {
  readonly bundle: ModelBundle;
  readonly bestEpoch: number;
  readonly bestDevMaeMonths: number;
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
  readonly history: readonly EpochRecord[];
  readonly reportHtml: string;
  readonly reportJson: string;
  readonly seconds: number;
  /** The 90% interval calibration on dev (absent with ttaViews 0). */
  readonly interval?: IntervalCalibration;
  /** Dev MAE of the TTA mean, when TTA ran. */
  readonly devMaeTtaMonths?: number;
  /** What `init` transferred, when given. */
  readonly init?: InitReport;
}

const CKPT_DIR = 'checkpoint';
/** The OOD feature distribution inside a bundle folder. */
export const OOD_FILE = 'ood.json';
const LAST = 'last.safetensors';
const BEST = 'best.safetensors';
const OPTIM = 'optimizer.safetensors';

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

function meanMonths(items: readonly LabelledBoneAgeItem[]): number {
  return items.reduce((a, i) => a + i.boneAgeMonths, 0) / items.length;
}

/**
 * Train a bone-age model and write its bundle, log and dev report into `outDir`.
 * @param o - data, output folder, recipe and hooks
 */
export async function trainBoneAge(o: BoneAgeTrainOptions): Promise<BoneAgeTrainResult> {
  const device = o.device ?? 'cpu';
  const previous = getDefaultDevice();
  // everything the run creates (model, batches, optimiser state) lands on the run's device; throws DeviceError first
  setDefaultDevice(device);
  try {
    return await trainOnDefaultDevice(o, device);
  } finally {
    setDefaultDevice(previous);
  }
}

async function trainOnDefaultDevice(o: BoneAgeTrainOptions, device: Device): Promise<BoneAgeTrainResult> {
  const started = performance.now();
  const { config } = o;
  if (o.train.length === 0) throw new TrainConfigError('no training images');
  if (o.dev.length === 0) throw new TrainConfigError('no dev images: early stopping and the report need a dev split');
  if (!Number.isInteger(config.epochs) || config.epochs < 1) throw new TrainConfigError(`epochs ${config.epochs} must be >= 1`);
  if (o.sex !== undefined) {
    const other = [...o.train, ...o.dev].find((i) => i.sex !== o.sex);
    if (other) throw new TrainConfigError(`sex-specific (${o.sex}) training got ${other.id ?? other.path} of sex ${other.sex}`);
  }
  const workers = o.workers ?? 1;
  setNumThreads(o.threads ?? Math.max(1, availableParallelism() - workers));
  const size = config.inputSize;
  const ckptDir = join(o.outDir, CKPT_DIR);
  mkdirSync(ckptDir, { recursive: true });
  const fingerprint = configFingerprint({
    config,
    init: o.init ?? null,
    freezeBackboneEpochs: o.freezeBackboneEpochs ?? 0,
    train: o.train.map((i) => i.path),
    dev: o.dev.map((i) => i.path),
  });

  // seeded before the model exists: its initial weights come from the engine's generator
  manualSeed(config.seed);
  setDeterministic(device === 'cpu');
  const model = createBoneAgeModel(config.arch, meanMonths(o.train));
  const init = o.init === undefined ? undefined : initFromWeights(model, o.init);
  const opt = new AdamW(model.parameters(), { lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay });
  const trainLoader = createBoneAgeLoader(o.train, {
    size,
    batchSize: config.batchSize,
    workers,
    seed: config.seed,
    train: true,
    shuffle: true,
    augmentation: config.augmentation,
    cache: o.cache ?? true,
  });
  const devLoader = createBoneAgeLoader(o.dev, { size, batchSize: config.batchSize, workers, cache: o.cache ?? true });
  const stepsPerEpoch = trainLoader.stepsPerEpoch;
  const schedule = warmupCosine({
    baseLr: config.optimizer.lr,
    warmupSteps: Math.max(1, Math.round(config.schedule.warmupEpochs * stepsPerEpoch)),
    totalSteps: config.epochs * stepsPerEpoch,
    minLr: config.optimizer.lr * config.schedule.minLrFactor,
  });
  const stopper = new EarlyStopping({ patience: config.earlyStopping.patience, mode: 'min' });
  let rng = new Rng(config.seed);
  let epoch = 0;
  let step = 0;
  const log = new JsonlLogger(join(o.outDir, 'train.jsonl'));
  if (o.resume === true && existsSync(join(ckptDir, 'checkpoint.json'))) {
    const state = loadCheckpoint(ckptDir, fingerprint);
    loadWeights(model, join(ckptDir, state.weightsFile));
    loadOptimizer(join(ckptDir, state.optimizerStateFile), opt);
    stopper.load(state.earlyStopping);
    rng = Rng.fromState(state.rngState);
    epoch = state.epoch;
    step = state.step;
  } else if (existsSync(log.path)) {
    rmSync(log.path); // a fresh run starts a fresh log
  }
  const progress = new ProgressReporter({ epochs: config.epochs, stepsPerEpoch, batchSize: config.batchSize });
  if (o.onProgress) progress.on(o.onProgress);
  const history: EpochRecord[] = [];
  let stoppedEarly = stopper.state().epochsWithoutImprovement >= config.earlyStopping.patience;
  try {
    for (; epoch < config.epochs && !stoppedEarly; epoch++) {
      const epochStart = performance.now();
      manualSeed(rng.nextUint32());
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
          const x = tensor(batch.fields['image'] as Float32Array, [n, 1, size, size]);
          const sex = tensor(batch.fields['sex'] as Float32Array, [n, 1]);
          const y = tensor(batch.fields['target'] as Float32Array, [n, 1]);
          const l: Tensor = F.l1Loss(model.call(x, sex), y);
          l.backward();
          return l.item();
        });
        opt.step();
        opt.zeroGrad();
        step++;
        s++;
        lossSum += loss * n;
        seen += n;
        progress.step(s, n, loss);
      }
      const dev = await predictWithLoader(model, devLoader, o.dev, size);
      const acc = new RegressionAccumulator();
      acc.update({ predicted: dev.map((d) => d.predicted), reference: dev.map((d) => d.reference) });
      const m = acc.compute().overall;
      const decision = stopper.update(epoch, m.mae);
      if (decision.improved) saveSafetensors(join(ckptDir, BEST), model.stateDict());
      saveSafetensors(join(ckptDir, LAST), model.stateDict());
      saveOptimizer(join(ckptDir, OPTIM), opt);
      const es = stopper.state();
      const state: TrainState = {
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
        configFingerprint: fingerprint,
        savedAt: new Date().toISOString(),
      };
      saveCheckpoint(ckptDir, state);
      const seconds = (performance.now() - epochStart) / 1000;
      const record: EpochRecord = {
        epoch,
        trainLossMonths: lossSum / Math.max(1, seen),
        devMaeMonths: m.mae,
        devRmseMonths: m.rmse,
        devBiasMonths: m.bias,
        lr,
        seconds,
        imagesPerSecond: seen / seconds,
        improved: decision.improved,
      };
      log.log({ ...record });
      history.push(record);
      o.onEpoch?.(record);
      stoppedEarly = decision.stop;
    }
    // the bundle holds the best epoch's weights; its dev report is measured with them
    loadWeights(model, join(ckptDir, BEST));
    const weightsDType = o.weightsDType ?? 'float32';
    if (weightsDType === 'float16') roundWeightsToHalf(model);
    const dev: RegressionSample[] = await predictWithLoader(model, devLoader, o.dev, size);
    const es = stopper.state();
    const views = o.ttaViews ?? DEFAULT_TTA_VIEWS;
    let interval: IntervalCalibration | undefined;
    let devMaeTta: number | undefined;
    let coverageHeldOut: number | undefined;
    if (views > 0) {
      const cases: { tta: TtaPrediction; referenceMonths: number }[] = [];
      for await (const batch of devLoader.epoch(0)) {
        const images = batch.fields['image'] as Float32Array;
        batch.indices.forEach((index, j) => {
          const image = { width: size, height: size, data: images.subarray(j * size * size, (j + 1) * size * size) };
          const item = o.dev[index] as LabelledBoneAgeItem;
          cases.push({ tta: predictTta(model, image, (batch.fields['sex'] as Float32Array)[j] as number, views), referenceMonths: item.boneAgeMonths });
        });
      }
      interval = calibrateInterval(cases, 0.9, views);
      if (cases.length >= 2) coverageHeldOut = heldOutCoverage(cases, 0.9);
      devMaeTta = cases.reduce((a, c) => a + Math.abs(c.tta.meanMonths - c.referenceMonths), 0) / cases.length;
    }
    // OOD feature distribution: pooled last-layer features of the un-augmented training images, best
    // weights (as shipped), eval mode, one no-grad forward per image
    model.eval();
    const featureRows: Float32Array[] = [];
    const filmLogAspects: number[] = [];
    const oodLoader = createBoneAgeLoader(o.train, { size, batchSize: config.batchSize, workers, cache: false });
    try {
      for await (const batch of oodLoader.epoch(0)) {
        featureRows.push(...pooledFeatures(model, batch.fields['image'] as Float32Array, size));
        // the first descriptor is the film's ln(columns / rows) (OOD_DESCRIPTORS)
        const descriptors = batch.fields['descriptors'] as Float32Array;
        const k = batch.fieldLengths['descriptors'] as number;
        for (let j = 0; j < batch.size; j++) filmLogAspects.push(descriptors[j * k] as number);
      }
    } finally {
      await oodLoader.close();
    }
    const ood = fitOodModel(featureRows, { features: OOD_FEATURES_DESCRIPTION, filmLogAspects });
    const oodText = `${JSON.stringify(ood, null, 2)}\n`;
    mkdirSync(o.outDir, { recursive: true });
    writeFileSync(join(o.outDir, OOD_FILE), oodText);
    const devData = `dev split, ${dev.length} images`;
    const report = buildRegressionReport(dev, {
      title: `${o.modelId ?? 'hand-bone-age'}: dev evaluation`,
      unit: 'months',
      facts: {
        model: o.modelId ?? 'hand-bone-age',
        architecture: config.arch,
        inputSize: `${size} px`,
        bestEpoch: String(es.bestEpoch + 1),
        data: o.dataSummary ?? `${o.train.length} train / ${o.dev.length} dev images`,
      },
    });
    const { htmlPath, jsonPath } = writeRegressionReport(join(o.outDir, 'report'), report);
    const bundle = saveBundle(o.outDir, {
      card: {
        id: o.modelId ?? 'hand-bone-age',
        version: '0.1.0',
        task: 'hand-bone-age',
        architecture: { name: config.arch, options: { ...boneAgeModelOptions() } },
        input: {
          shape: [1, size, size],
          extra: [{ name: 'sex', unit: '1 = male, 0 = female' }],
          preprocessing: { size },
        },
        outputs: [{ name: 'boneAgeMonths', unit: 'months', description: 'bone age (Greulich-Pyle reference readings)' }],
        trainingData: {
          summary: o.dataSummary ?? `${o.train.length} train / ${o.dev.length} dev images`,
          ...(o.command === undefined ? {} : { command: o.command }),
          ...(o.sex === undefined ? {} : { sex: o.sex }),
        },
        metrics: [
          { name: 'mae', value: report.metrics.overall.mae, unit: 'months', data: devData },
          { name: 'rmse', value: report.metrics.overall.rmse, unit: 'months', data: devData },
          { name: 'bias', value: report.metrics.overall.bias, unit: 'months', data: devData },
          ...(interval && devMaeTta !== undefined
            ? [
                { name: 'maeTta', value: devMaeTta, unit: 'months', data: `${devData}, mean of ${interval.views} TTA views` },
                { name: 'ttaViews', value: interval.views, unit: 'count', data: 'views per image for the interval' },
                {
                  name: 'interval90Scale',
                  value: interval.scale,
                  unit: 'multiple of (TTA SD + 1 month)',
                  data: `split-conformal calibration on the ${devData}`,
                },
                {
                  name: 'interval90Coverage',
                  value: interval.coverage,
                  unit: 'fraction',
                  data: `${devData} (in-sample: the calibration set)`,
                },
                ...(coverageHeldOut === undefined
                  ? []
                  : [
                      {
                        name: 'interval90CoverageHeldOut',
                        value: coverageHeldOut,
                        unit: 'fraction',
                        data: `${devData}, two-fold cross-conformal (calibrated on one half, measured on the other)`,
                      },
                    ]),
              ]
            : []),
        ],
      },
      // the OOD model is vouched for through the weights file, whose sha256 the card records
      weights: weightsBytes(model, weightsDType, { format: 'pt', oodSha256: sha256Hex(new TextEncoder().encode(oodText)) }),
      weightsDType,
    });
    return {
      bundle,
      bestEpoch: es.bestEpoch,
      bestDevMaeMonths: report.metrics.overall.mae,
      epochsRun: history.length,
      stoppedEarly,
      history,
      reportHtml: htmlPath,
      reportJson: jsonPath,
      seconds: (performance.now() - started) / 1000,
      ...(init ? { init } : {}),
      ...(interval ? { interval } : {}),
      ...(devMaeTta === undefined ? {} : { devMaeTtaMonths: devMaeTta }),
    };
  } finally {
    await trainLoader.close();
    await devLoader.close();
    opt.dispose();
    model.dispose();
  }
}

/**
 * Evaluate a bundle on labelled items and write the HTML/JSON report.
 * @param bundleDir - the bundle
 * @param items - radiographs with reference ages and sex
 * @param o - report folder, loader workers, batch size, a title and data description
 */
export async function evaluateBoneAgeBundle(
  bundleDir: string,
  items: readonly LabelledBoneAgeItem[],
  o: { outDir: string; workers?: number; batchSize?: number; dataSummary: string },
): Promise<{ samples: RegressionSample[]; reportHtml: string; reportJson: string; maeMonths: number }> {
  const { model, bundle } = loadBoneAgeBundleModel(bundleDir);
  try {
    const size = bundle.card.input.shape[1];
    if (size === undefined) throw new TrainConfigError(`${bundleDir}: card input shape has no height`);
    const samples = await predictBoneAges(model, items, { size, workers: o.workers ?? 1, batchSize: o.batchSize ?? 16 });
    const weights = bundle.card.files.weights;
    const report = buildRegressionReport(samples, {
      title: `${bundle.card.id}: evaluation`,
      unit: 'months',
      facts: { model: `${bundle.card.id} ${bundle.card.version}`, weightsSha256: weights.sha256, data: o.dataSummary },
    });
    const { htmlPath, jsonPath } = writeRegressionReport(o.outDir, report);
    return { samples, reportHtml: htmlPath, reportJson: jsonPath, maeMonths: report.metrics.overall.mae };
  } finally {
    model.dispose();
  }
}

/**
 * The OOD feature model shipped with a bundle, verified against the sha256 its weights file records; null when
 * the bundle has none (made before the check existed).
 * @param bundle - an opened bundle
 */
export function loadBundleOodModel(bundle: ModelBundle): OodModel | null {
  const path = join(bundle.dir, OOD_FILE);
  const { tensors, metadata } = readSafetensors(bundle.weightsPath);
  for (const t of tensors.values()) t.dispose();
  const expected = metadata['oodSha256'];
  if (expected === undefined) return null;
  if (!existsSync(path)) throw new OodModelError(`${bundle.dir}: weights name an OOD file, but ${OOD_FILE} is missing`);
  const bytes = readFileSync(path);
  if (sha256Hex(bytes) !== expected) throw new OodModelError(`${path}: sha256 differs from the one recorded in the weights file`);
  return parseOodModel(bytes.toString('utf8'), path);
}
