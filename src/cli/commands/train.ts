/**
 * `physis train <task> --data <labels.csv | dir>`: train a model for a task and write its bundle, log and
 * dev report; `--folds K` runs stratified K-fold cross-validation and reports mean ± SD over folds.
 *
 * @example
 * $ physis train hand-bone-age --data ../shared/data/rsna-hand --size 64 --epochs 2 --limit 40 --batch 8 --out /tmp/tiny
 * epoch 1/2: train L1 46.78 months, dev MAE 38.72 months (9.6 s)
 * epoch 2/2: train L1 42.14 months, dev MAE 38.53 months (3.7 s)
 * bundle /tmp/tiny: best dev MAE 38.53 months (epoch 2 of 2), report /tmp/tiny/report/report.html
 *
 * `--sex M|F` trains a sex-specific model (train and dev rows of that sex only; the card records it);
 * `--folds K --ensemble` also writes composite.json in --out: the mean of the K fold models, its 90% interval
 * calibrated on the out-of-fold predictions.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateFolds, buildRegressionReport, writeRegressionReport, type RegressionSample } from '../../eval/index.js';
import { saveComposite } from '../../infer/index.js';
import {
  HAND_BONE_AGE_DEFAULT_CONFIG,
  labelsInSplit,
  readBoneAgeLabels,
  requireSex,
  type BoneAgeLabel,
  type HandBoneAgeConfig,
} from '../../tasks/index.js';
import {
  calibrateOofInterval,
  formatProgress,
  readJsonl,
  stratifiedKFold,
  trainBoneAge,
  type LabelledBoneAgeItem,
  type ProgressEvent,
} from '../../train/index.js';
import { intOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';

/** Tasks `physis train` knows. */
export const TRAINABLE_TASKS = ['hand-bone-age'] as const;

/** The labels CSV for `--data`: the file itself, or `labels.csv` inside a folder. @param data - the option */
export function labelsPath(data: string): string {
  if (existsSync(data) && statSync(data).isDirectory()) return join(data, 'labels.csv');
  return data;
}

/** A labels row as a loader item. @param r - a parsed row */
export function toItem(r: BoneAgeLabel): LabelledBoneAgeItem {
  return { path: r.path, boneAgeMonths: r.boneAgeMonths, sex: r.sex, id: r.file };
}

function floatOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got '${raw}'`);
  return v;
}

/**
 * The command line that reproduces a run: the given options minus those that change how, not what, it
 * computes (--resume continues the same run; --json only changes the output format).
 */
function reproduceCommand(task: string, args: ParsedArgs): string {
  const parts = ['physis', 'train', task];
  for (const [name, value] of Object.entries(args.values)) {
    if (name === 'resume' || name === 'json' || value === undefined || value === false) continue;
    parts.push(value === true ? `--${name}` : `--${name} ${String(value)}`);
  }
  return parts.join(' ');
}

/** Progress lines at most every `everyMs`, and always at the end of an epoch. */
function progressPrinter(out: Output, everyMs = 2000): (e: ProgressEvent) => void {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (now - last >= everyMs || e.step === e.stepsPerEpoch) {
      last = now;
      out.progress(formatProgress(e));
    }
  };
}

/** The `physis train` command (see the module comment for an example). */
export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model for a task on a labelled folder (bundle, JSONL log, dev report)',
  usage: [
    'usage: physis train <task> --data <labels.csv | dir> [--out dir] [--arch name] [--size N] [--epochs N]',
    '                    [--batch N] [--lr X] [--weight-decay X] [--patience N] [--seed N] [--folds K] [--workers N] [--threads N]',
    '                    [--device cpu|cuda]',
    '                    [--limit N] [--resume] [--no-augment] [--init bundle|file.safetensors] [--freeze-epochs N]',
    '                    [--weights-dtype float32|float16] [--sex M|F] [--ensemble] [--json]',
    '',
    'tasks: hand-bone-age (labels.csv: file,sex,boneage_months[,split]; split train/dev, else a seeded 80/20 split)',
    '--limit N trains on the first N training rows (smoke tests); --resume continues from <out>/checkpoint.',
    '--weights-dtype float16 ships half-size weights; the card\'s dev metrics are measured with the rounded weights.',
    '--device cuda trains on the GPU (addon built with LIBTORCH=<CUDA-enabled torch>; CUDA runs are not bit-reproducible).',
    '--init copies every weight whose name and shape match (transfer); --freeze-epochs N trains only the last layer first.',
    '--sex M|F trains on one sex only (train and dev rows filtered; the card records it); pair two with `physis bundle compose`.',
    '--folds K --ensemble writes <out>/fold-1..K and <out>/composite.json (the fold ensemble, usable as --bundle), its 90%',
    '          interval calibrated on the out-of-fold predictions. Every row is used by some fold: evaluate it on other data.',
    '',
    'example:',
    '  $ physis train hand-bone-age --data ../shared/data/rsna-hand --size 64 --epochs 2 --limit 40 --out /tmp/tiny',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    out: { type: 'string', short: 'o' },
    arch: { type: 'string' },
    size: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
    folds: { type: 'string' },
    workers: { type: 'string' },
    threads: { type: 'string' },
    device: { type: 'string' },
    limit: { type: 'string' },
    resume: { type: 'boolean' },
    'no-augment': { type: 'boolean' },
    init: { type: 'string' },
    'weights-dtype': { type: 'string' },
    'freeze-epochs': { type: 'string' },
    sex: { type: 'string' },
    ensemble: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(args, out) {
    const task = args.positionals[0];
    if (task === undefined) throw new UsageError(`name the task: ${TRAINABLE_TASKS.join(', ')}`);
    if (!(TRAINABLE_TASKS as readonly string[]).includes(task)) {
      throw new UsageError(`unknown task '${task}'; trainable tasks: ${TRAINABLE_TASKS.join(', ')}`);
    }
    const csv = labelsPath(stringOption(args, 'data', true));
    const d = HAND_BONE_AGE_DEFAULT_CONFIG;
    const config: HandBoneAgeConfig = {
      ...d,
      arch: stringOption(args, 'arch') ?? d.arch,
      inputSize: intOption(args, 'size', d.inputSize, 32, 1024),
      epochs: intOption(args, 'epochs', d.epochs, 1, 10000),
      batchSize: intOption(args, 'batch', d.batchSize, 1, 4096),
      optimizer: {
        ...d.optimizer,
        lr: floatOption(args, 'lr', d.optimizer.lr, 1e-7, 10),
        weightDecay: floatOption(args, 'weight-decay', d.optimizer.weightDecay, 0, 10),
      },
      earlyStopping: { ...d.earlyStopping, patience: intOption(args, 'patience', d.earlyStopping.patience, 1, 10000) },
      seed: intOption(args, 'seed', d.seed, 0, 2 ** 31 - 1),
      augmentation:
        args.values['no-augment'] === true
          ? { ...d.augmentation, rotationDeg: 0, scale: [1, 1], translate: 0, brightness: 0, contrast: [1, 1], gamma: [1, 1] }
          : d.augmentation,
    };
    const folds = intOption(args, 'folds', 1, 1, 20);
    const workers = intOption(args, 'workers', 1, 0, 64);
    const threadsRaw = stringOption(args, 'threads');
    const threads = threadsRaw === undefined ? undefined : intOption(args, 'threads', 1, 1, 256);
    const limit = intOption(args, 'limit', 0, 0, 10_000_000);
    const outDir = stringOption(args, 'out') ?? `${task}-bundle`;
    const rawSex = stringOption(args, 'sex');
    const sex = rawSex === undefined ? undefined : requireSex(rawSex, '--sex');
    const ensemble = args.values['ensemble'] === true;
    if (ensemble && folds < 2) throw new UsageError('--ensemble combines fold models: give --folds K (K >= 2)');
    const allRows = readBoneAgeLabels(csv);
    // sex-specific: both the training rows and the dev rows (early stopping, report, interval) are of that sex
    const rows = sex === undefined ? allRows : allRows.filter((r) => r.sex === sex);
    if (rows.length === 0) throw new UsageError(`${csv}: no rows of sex ${sex ?? ''}`);
    const sexTag = sex === undefined ? '' : `-${sex}`;
    const sexNote = sex === undefined ? '' : ` (sex ${sex} only)`;
    const init = stringOption(args, 'init');
    const weightsDTypeRaw = stringOption(args, 'weights-dtype') ?? 'float32';
    if (weightsDTypeRaw !== 'float32' && weightsDTypeRaw !== 'float16') {
      throw new UsageError(`--weights-dtype must be float32 or float16, got '${weightsDTypeRaw}'`);
    }
    const weightsDType: 'float32' | 'float16' = weightsDTypeRaw;
    const deviceRaw = stringOption(args, 'device') ?? 'cpu';
    if (deviceRaw !== 'cpu' && deviceRaw !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got '${deviceRaw}'`);
    const device: 'cpu' | 'cuda' = deviceRaw;
    const common = {
      config,
      weightsDType,
      ...(init === undefined ? {} : { init }),
      freezeBackboneEpochs: intOption(args, 'freeze-epochs', 0, 0, 10000),
      ...(sex === undefined ? {} : { sex }),
      workers,
      ...(threads === undefined ? {} : { threads }),
      device,
      onProgress: progressPrinter(out),
      onEpoch: (e: { epoch: number; trainLossMonths: number; devMaeMonths: number; seconds: number }) =>
        out.info(
          `epoch ${e.epoch + 1}/${config.epochs}: train L1 ${e.trainLossMonths.toFixed(2)} months, dev MAE ${e.devMaeMonths.toFixed(2)} months (${e.seconds.toFixed(1)} s)`,
        ),
    };

    if (folds === 1) {
      let train = labelsInSplit(rows, 'train');
      let dev = labelsInSplit(rows, 'dev');
      if (train.length === 0 || dev.length === 0) {
        // no usable split column: a seeded stratified 80/20 split (fold 0 of 5)
        const f = stratifiedKFold(rows.map((r) => ({ target: r.boneAgeMonths, stratum: r.sex })), 5, { seed: config.seed })[0];
        if (!f) throw new UsageError(`${csv}: too few rows for a dev split`);
        train = f.train.map((i) => rows[i] as BoneAgeLabel);
        dev = f.dev.map((i) => rows[i] as BoneAgeLabel);
      }
      if (limit > 0) train = train.slice(0, limit);
      const result = await trainBoneAge({
        ...common,
        train: train.map(toItem),
        dev: dev.map(toItem),
        outDir,
        command: reproduceCommand(task, args),
        resume: args.values['resume'] === true,
        modelId: `${task}-${config.arch}-${config.inputSize}${sexTag}`,
        dataSummary: `${csv}: ${train.length} train / ${dev.length} dev images${sexNote}`,
      });
      out.result(
        {
          bundle: result.bundle.dir,
          bestEpoch: result.bestEpoch,
          bestDevMaeMonths: result.bestDevMaeMonths,
          epochsRun: result.epochsRun,
          stoppedEarly: result.stoppedEarly,
          seconds: result.seconds,
          ...(result.init ? { initLoaded: result.init.loaded.length, initSkipped: result.init.skipped } : {}),
          report: result.reportHtml,
          log: join(outDir, 'train.jsonl'),
        },
        `bundle ${result.bundle.dir}: best dev MAE ${result.bestDevMaeMonths.toFixed(2)} months (epoch ${result.bestEpoch + 1} of ${readJsonl(join(outDir, 'train.jsonl')).length}), report ${result.reportHtml}`,
      );
      return 0;
    }

    // K-fold cross-validation over every row: one model per fold, out-of-fold predictions pooled
    const pool = limit > 0 ? rows.slice(0, limit) : rows;
    const splits = stratifiedKFold(pool.map((r) => ({ target: r.boneAgeMonths, stratum: r.sex })), folds, { seed: config.seed, binWidth: 24 });
    const perFold: unknown[] = [];
    const oof: RegressionSample[] = [];
    for (let k = 0; k < splits.length; k++) {
      const f = splits[k];
      if (!f) continue;
      out.info(`fold ${k + 1}/${folds}: ${f.train.length} train / ${f.dev.length} dev`);
      const result = await trainBoneAge({
        ...common,
        train: f.train.map((i) => toItem(pool[i] as BoneAgeLabel)),
        dev: f.dev.map((i) => toItem(pool[i] as BoneAgeLabel)),
        outDir: join(outDir, `fold-${k + 1}`),
        resume: args.values['resume'] === true,
        modelId: `${task}-${config.arch}-${config.inputSize}${sexTag}-fold${k + 1}`,
        dataSummary: `${csv}: fold ${k + 1} of ${folds}, ${f.train.length} train / ${f.dev.length} dev images${sexNote}`,
      });
      const parsed = JSON.parse(readFileSync(result.reportJson, 'utf8')) as { metrics: unknown; samples: RegressionSample[] };
      perFold.push(parsed.metrics);
      oof.push(...parsed.samples);
    }
    const aggregated = aggregateFolds(perFold);
    const report = buildRegressionReport(oof, {
      title: `${task}: ${folds}-fold cross-validation (out-of-fold predictions)`,
      unit: 'months',
      facts: { architecture: config.arch, inputSize: `${config.inputSize} px`, data: csv, folds: String(folds) },
      folds: aggregated,
    });
    const paths = writeRegressionReport(join(outDir, 'cv'), report);
    const mae = aggregated['overall.mae'];
    let composite: string | undefined;
    if (ensemble) {
      const cal = calibrateOofInterval(oof, 0.9);
      const oofData = `${oof.length} out-of-fold predictions (${csv}${sexNote}; each image by the fold model that did not train on it)`;
      const saved = saveComposite(outDir, {
        kind: 'ensemble',
        id: `${task}-${config.arch}-${config.inputSize}${sexTag}-ensemble${folds}`,
        task,
        members: splits.map((_, k) => `fold-${k + 1}`),
        description:
          `Mean of the ${folds} fold models of \`${reproduceCommand(task, args)}\` (one un-augmented forward each). ` +
          `${limit > 0 ? `The first ${pool.length}` : `The ${pool.length}`} rows of ${csv}${sexNote} (train and dev splits pooled) were split into ${folds} stratified folds; ` +
          `each fold model trained on the other folds and was early-stopped on its own held-out fold, so the out-of-fold ` +
          `numbers (and the interval calibrated on them) are slightly optimistic. Every row trained some member: measure ` +
          `the ensemble itself on other data. 90% interval: ensemble mean ± ${cal.halfWidthMonths.toFixed(2)} months, the ` +
          `split-conformal quantile of the ${cal.n} out-of-fold absolute residuals (Lei et al. 2018). It is calibrated for ` +
          `one fold model's error; the mean of ${folds} models is usually closer to the reference, so for the ensemble it ` +
          `is expected to be conservative, but that is not measured: the ensemble's coverage cannot be measured on these ` +
          `images, as the other members trained on them.`,
        metrics: [
          { name: 'maeCvMean', value: mae?.mean ?? NaN, unit: 'months', data: `mean over ${folds} folds of each fold model's MAE on its held-out fold` },
          { name: 'maeCvSd', value: mae?.sd ?? NaN, unit: 'months', data: `sample SD over the ${folds} folds` },
          { name: 'maeOof', value: report.metrics.overall.mae, unit: 'months', data: oofData },
          { name: 'interval90HalfWidth', value: cal.halfWidthMonths, unit: 'months', data: oofData },
          { name: 'interval90CoverageOof', value: cal.coverage, unit: 'fraction', data: `${oofData} (in-sample: the calibration set)` },
          ...(cal.coverageHeldOut === null
            ? []
            : [{ name: 'interval90CoverageOofHeldOut', value: cal.coverageHeldOut, unit: 'fraction', data: `${oofData}, two-fold cross-conformal` }]),
        ].filter((m) => Number.isFinite(m.value)),
        interval90: {
          level: 0.9,
          halfWidthMonths: cal.halfWidthMonths,
          method:
            'constant half-width around the ensemble mean: split-conformal quantile of the out-of-fold absolute residuals ' +
            '(each image predicted by the one fold model that did not train on it); calibrated for a single fold model, ' +
            'conservative for the ensemble mean',
          coverage: cal.coverage,
          ...(cal.coverageHeldOut === null ? {} : { coverageHeldOut: cal.coverageHeldOut }),
          n: cal.n,
        },
      });
      composite = saved.dir;
      out.info(
        `ensemble ${saved.dir}/composite.json: ${folds} members, 90% interval ± ${cal.halfWidthMonths.toFixed(1)} months ` +
          `(out-of-fold coverage ${cal.coverage.toFixed(3)}${cal.coverageHeldOut === null ? '' : `, held out ${cal.coverageHeldOut.toFixed(3)}`})`,
      );
    }
    out.result(
      { folds, maeMonths: mae, report: paths.htmlPath, json: paths.jsonPath, ...(composite === undefined ? {} : { composite }) },
      `${folds}-fold CV: MAE ${mae?.mean.toFixed(2)} ± ${mae?.sd.toFixed(2)} months; report ${paths.htmlPath}` +
        (composite === undefined ? '' : `; ensemble ${composite} (use it as --bundle)`),
    );
    return 0;
  },
};
