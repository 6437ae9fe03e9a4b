/**
 * K-fold cross-validation of any task: one model per fold (each early-stopped on its own held-out fold), the
 * out-of-fold predictions pooled in memory into one report, mean ± SD of every dev metric over folds, and
 * optionally the fold ensemble as a composite bundle with the interval the task calibrates on the out-of-fold
 * predictions.
 *
 * Why: with a thousand films a single dev split is noisy; K-fold CV is how the published systems Physis reproduces
 * report (e.g. Larson et al. 2018). Each image's out-of-fold prediction comes from the one
 * model that never trained on it, which is also what an ensemble's interval can honestly be calibrated on
 * (Vovk 2015, cross-conformal predictors).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateFolds, type MeanSd } from '../eval/index.js';
import { saveComposite, type CardMetric, type CompositeBundle, type CompositeInterval } from '../infer/index.js';
import { TrainConfigError } from './errors.js';
import { acquireRunLock, assertFreshOutput, RUN_CHECKPOINT_DIR } from './run-lock.js';
import { groupedKFold, stratifiedKFold } from './folds.js';
import { trainModel, type TrainOptions, type TrainResult } from './trainer.js';
import type { TrainingItem, TrainingTask } from './training-task.js';

/** A task that can calibrate an ensemble's interval on out-of-fold predictions. */
export interface EnsembleCalibration {
  readonly interval: CompositeInterval;
  /** Card metrics of the calibration (half-width, coverage), each with its data. */
  readonly metrics: readonly CardMetric[];
}

/** Options of {@link crossValidate}. */
export interface CrossValidateOptions<Item extends TrainingItem> extends Omit<TrainOptions<Item>, 'train' | 'dev' | 'outDir' | 'modelId' | 'dataSummary'> {
  /** Every row (train and dev splits pooled). */
  readonly rows: readonly Item[];
  readonly folds: number;
  /** Folder holding fold-1…K, cv/ and (with `ensemble`) composite.json. */
  readonly outDir: string;
  readonly modelId: string;
  /** One line on the data, e.g. the labels file. */
  readonly dataSummary: string;
  /** Bin width of the target for stratification (default: 5 quantile bins). */
  readonly binWidth?: number;
  /** Write the fold ensemble as a composite (the task's interval calibrated on the out-of-fold predictions). */
  readonly ensemble?: {
    readonly description: string;
    readonly calibrate?: (outputs: readonly Float32Array[], items: readonly Item[], data: string) => EnsembleCalibration;
  };
  readonly onFold?: (fold: number, folds: number, trainCount: number, devCount: number) => void;
}

/** What cross-validation produced, in memory. */
export interface CrossValidateResult<Item extends TrainingItem> {
  readonly folds: readonly TrainResult[];
  /** Every row's out-of-fold head output, with the row, in fold order. */
  readonly oofOutputs: readonly Float32Array[];
  readonly oofItems: readonly Item[];
  /** Mean and SD over folds of each dev metric. */
  readonly aggregate: Readonly<Record<string, MeanSd>>;
  readonly reportHtml: string;
  readonly reportJson: string;
  readonly composite?: CompositeBundle;
  readonly calibration?: EnsembleCalibration;
}

/**
 * Cross-validate a task.
 * @param task - the task
 * @param o - rows, folds, output folder and the per-run options of {@link trainModel}
 */
export async function crossValidate<Item extends TrainingItem>(task: TrainingTask<Item>, o: CrossValidateOptions<Item>): Promise<CrossValidateResult<Item>> {
  const k = o.folds;
  if (!Number.isInteger(k) || k < 2) throw new TrainConfigError(`cross-validation needs at least 2 folds, got ${k}`);
  // a CV folder has no checkpoint of its own (each fold has one), so resuming only lifts the finished-output check
  assertFreshOutput(o.outDir, { force: o.force === true || o.resume === true, resume: false, bundleFiles: ['composite.json', 'card.json'] });
  const lock = acquireRunLock(o.outDir, o.command === undefined ? {} : { command: o.command });
  try {
    return await runFolds(task, o);
  } finally {
    lock.release();
  }
}

async function runFolds<Item extends TrainingItem>(task: TrainingTask<Item>, o: CrossValidateOptions<Item>): Promise<CrossValidateResult<Item>> {
  const { rows, folds: k, ensemble, binWidth, onFold, ...common } = o;
  // one subject's items (a patient's films) stay in one fold, or the held-out fold measures recognising the subject
  const groupOf = task.groupOf?.bind(task);
  const splits =
    groupOf !== undefined
      ? groupedKFold(rows.map(groupOf), k, o.recipe.seed)
      : stratifiedKFold(
          rows.map((r) => ({ target: task.target(r), stratum: task.stratum(r) })),
          k,
          { seed: o.recipe.seed, ...(binWidth === undefined ? {} : { binWidth }) },
        );
  const results: TrainResult[] = [];
  const oofOutputs: Float32Array[] = [];
  const oofItems: Item[] = [];
  for (let f = 0; f < splits.length; f++) {
    const split = splits[f];
    if (!split) continue;
    onFold?.(f + 1, k, split.train.length, split.dev.length);
    const dev = split.dev.map((i) => rows[i] as Item);
    const foldDir = join(o.outDir, `fold-${f + 1}`);
    const result = await trainModel(task, {
      ...common,
      // resuming a cross-validation resumes the folds that started; the others start now
      resume: o.resume === true && existsSync(join(foldDir, RUN_CHECKPOINT_DIR, 'checkpoint.json')),
      train: split.train.map((i) => rows[i] as Item),
      dev,
      outDir: foldDir,
      modelId: `${o.modelId}-fold${f + 1}`,
      dataSummary: `${o.dataSummary}: fold ${f + 1} of ${k}, ${split.train.length} train / ${split.dev.length} dev images`,
    });
    results.push(result);
    oofOutputs.push(...result.devOutputs);
    oofItems.push(...dev);
  }
  const aggregate = aggregateFolds(results.map((r) => r.evaluation.metrics));
  const data = `${oofItems.length} out-of-fold predictions (${o.dataSummary}; each image by the fold model that did not train on it)`;
  const report = task.report(oofOutputs, oofItems, {
    title: `${task.name}: ${k}-fold cross-validation (out-of-fold predictions)`,
    data,
    facts: { architecture: o.recipe.arch, inputSize: `${o.recipe.inputSize} px`, data: o.dataSummary, folds: String(k) },
    folds: aggregate,
  });
  const paths = report.write(join(o.outDir, 'cv'));
  let composite: CompositeBundle | undefined;
  let calibration: EnsembleCalibration | undefined;
  if (ensemble) {
    calibration = ensemble.calibrate?.(oofOutputs, oofItems, data);
    const foldMetrics: CardMetric[] = Object.entries(aggregate).flatMap(([name, v]) => [
      { name: `${name}FoldMean`, value: v.mean, data: `mean over the ${k} folds' dev sets` },
      { name: `${name}FoldSd`, value: v.sd, data: `sample SD over the ${k} folds` },
    ]);
    composite = saveComposite(o.outDir, {
      kind: 'ensemble',
      id: `${o.modelId}-ensemble${k}`,
      task: task.name,
      members: splits.map((_, f) => `fold-${f + 1}`),
      description: ensemble.description,
      metrics: [...foldMetrics, ...report.metrics, ...(calibration?.metrics ?? [])].filter((m) => Number.isFinite(m.value)),
      ...(calibration ? { interval90: calibration.interval } : {}),
    });
  }
  return {
    folds: results,
    oofOutputs,
    oofItems,
    aggregate,
    reportHtml: paths.htmlPath,
    reportJson: paths.jsonPath,
    ...(composite ? { composite } : {}),
    ...(calibration ? { calibration } : {}),
  };
}
