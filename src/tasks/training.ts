/**
 * Training a registered task from a labels file: read the rows with the task's reader, keep the requested subset
 * (e.g. one sex), split them (the file's train/dev split; rows of any other split are excluded and named; a seeded
 * stratified split only when the file has no split at all), then one run or K-fold cross-validation with an
 * optional fold ensemble.
 *
 * Why here: the command line stays a thin adapter, and the server and job workers start the same runs.
 *
 * @example
 * const r = await trainTask(getTask('hand-bone-age'), { data: '../shared/data/rsna-hand', outDir: 'runs/a', recipe });
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  assignSplits,
  crossValidate,
  trainModelOnRank,
  type CrossValidateResult,
  type ProgressListener,
  type EpochRecord,
  type TrainingItem,
  type TrainRecipe,
  type TrainResult,
  type TrainWorkerResult,
} from '../train/index.js';
import type { ProcessGroup } from '../torch/index.js';
import { InputError } from './errors.js';
import type { Task } from './task.js';

/** The labels CSV for a data argument: the file itself, or `labels.csv` inside a folder. @param data - path */
export function labelsPath(data: string): string {
  return existsSync(data) && statSync(data).isDirectory() ? join(data, 'labels.csv') : data;
}

/** Options of {@link trainTask}. */
export interface TrainTaskOptions {
  /** labels.csv or its folder. */
  readonly data: string;
  readonly outDir: string;
  readonly recipe: TrainRecipe;
  /** Train on rows with these input values only (e.g. `{ sex: 'M' }`); recorded in the card. */
  readonly subset?: Readonly<Record<string, string>>;
  /** 1 (default): one run on the train/dev split; K ≥ 2: K-fold CV over the train and dev rows pooled. */
  readonly folds?: number;
  /** With folds: write the fold ensemble as a composite. */
  readonly ensemble?: boolean;
  /** Train on the first N training rows (smoke tests). */
  readonly limit?: number;
  readonly workers?: number;
  readonly threads?: number;
  readonly device?: 'cpu' | 'cuda';
  /** Where the training augmentation runs (the trainer's augmentOn; default on the batch). */
  readonly augmentOn?: 'batch' | 'loader';
  readonly resume?: boolean;
  readonly force?: boolean;
  readonly init?: string;
  readonly freezeBackboneEpochs?: number;
  readonly weightsDType?: 'float32' | 'float16';
  /** The command that reproduces the run (recorded in the card). */
  readonly command?: string;
  /** Where the labels came from, appended to the card's training-data summary (e.g. a teacher model's id and hash). */
  readonly dataNote?: string;
  readonly onProgress?: ProgressListener;
  readonly onEpoch?: (record: EpochRecord) => void;
  /** Lines a person should read (excluded rows, a fallback split, the fold being trained). */
  readonly onNote?: (line: string) => void;
  /** Data-parallel training: this rank's process group (one run, not cross-validation); see trainModelOnRank. */
  readonly distributed?: { readonly group: ProcessGroup };
}

/** What {@link trainTask} produced. */
export type TrainTaskResult =
  | { readonly kind: 'single'; readonly result: TrainResult }
  | { readonly kind: 'cv'; readonly result: CrossValidateResult<TrainingItem> }
  | { readonly kind: 'worker'; readonly result: TrainWorkerResult };

/**
 * Train a task.
 * @param task - the task
 * @param o - data, output, recipe and run options
 */
export async function trainTask<Item extends TrainingItem, State>(task: Task<Item, State>, o: TrainTaskOptions): Promise<TrainTaskResult> {
  const csv = labelsPath(o.data);
  const all = task.readLabels(csv);
  const subset = o.subset ?? {};
  for (const name of Object.keys(subset)) {
    if (!task.inputs.some((i) => i.name === name)) throw new InputError(`--subset ${name}: ${task.name} has no input '${name}' (inputs: ${task.inputs.map((i) => i.name).join(', ') || 'none'})`);
  }
  const rows = all.filter((r) => Object.entries(subset).every(([k, v]) => task.inputValue(r, k) === v));
  const subsetText = Object.entries(subset).map(([k, v]) => `${k} ${v}`).join(', ');
  if (rows.length === 0) throw new InputError(`${csv}: no rows with ${subsetText}`);
  const tag = Object.values(subset).map((v) => `-${v}`).join('');
  const note = `${subsetText === '' ? '' : ` (${subsetText} only)`}${o.dataNote === undefined ? '' : `; ${o.dataNote}`}`;
  const plan = assignSplits(rows, {
    splitOf: (r) => task.splitOf(r),
    stratumOf: (r) => task.stratum(r),
    targetOf: (r) => task.target(r),
    seed: o.recipe.seed,
    name: (r) => r.id,
    ...(task.groupOf === undefined ? {} : { groupOf: task.groupOf.bind(task) }),
  });
  for (const x of plan.excluded) {
    o.onNote?.(`${csv}: ${x.count} row(s) of split '${x.split}' excluded from training (e.g. ${x.examples.join(', ')}); only train and dev rows are used`);
  }
  if (plan.fallback !== null) o.onNote?.(`${csv}: ${plan.fallback}`);
  const modelId = `${task.name}-${o.recipe.arch}-${o.recipe.inputSize}${tag}`;
  const common = {
    recipe: o.recipe,
    ...(o.workers === undefined ? {} : { workers: o.workers }),
    ...(o.threads === undefined ? {} : { threads: o.threads }),
    ...(o.device === undefined ? {} : { device: o.device }),
    ...(o.augmentOn === undefined ? {} : { augmentOn: o.augmentOn }),
    ...(o.resume === undefined ? {} : { resume: o.resume }),
    ...(o.force === undefined ? {} : { force: o.force }),
    ...(o.init === undefined ? {} : { init: o.init }),
    ...(o.freezeBackboneEpochs === undefined ? {} : { freezeBackboneEpochs: o.freezeBackboneEpochs }),
    ...(o.weightsDType === undefined ? {} : { weightsDType: o.weightsDType }),
    ...(Object.keys(subset).length === 0 ? {} : { subset }),
    ...(o.command === undefined ? {} : { command: o.command }),
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
    ...(o.onEpoch === undefined ? {} : { onEpoch: o.onEpoch }),
  };
  const folds = o.folds ?? 1;
  const limit = o.limit ?? 0;
  if (folds <= 1) {
    const train = limit > 0 ? plan.train.slice(0, limit) : plan.train;
    const result = await trainModelOnRank(task, {
      ...common,
      train,
      dev: plan.dev,
      outDir: o.outDir,
      modelId,
      dataSummary: `${csv}: ${train.length} train / ${plan.dev.length} dev images${note}`,
      ...(o.distributed === undefined ? {} : { distributed: o.distributed }),
    });
    return 'bundle' in result ? { kind: 'single', result } : { kind: 'worker', result };
  }
  if (o.distributed !== undefined) throw new InputError('data-parallel training runs one train/dev split: cross-validation (folds) is not distributed');
  // K-fold CV over the train and dev rows pooled, in file order (rows of other splits stay out)
  const kept = new Set<Item>([...plan.train, ...plan.dev]);
  const pooled = rows.filter((r) => kept.has(r));
  const pool = limit > 0 ? pooled.slice(0, limit) : pooled;
  const calibrate = task.calibrateEnsemble?.bind(task);
  const result = await crossValidate(task, {
    ...common,
    rows: pool,
    folds,
    outDir: o.outDir,
    modelId,
    dataSummary: `${csv}${note}`,
    binWidth: 24,
    onFold: (f, k, nTrain, nDev) => o.onNote?.(`fold ${f}/${k}: ${nTrain} train / ${nDev} dev`),
    ...(o.ensemble === true
      ? {
          ensemble: {
            description:
              `Mean of the ${folds} fold models of \`${o.command ?? `physis train ${task.name}`}\` (one un-augmented forward each). ` +
              `${limit > 0 ? `The first ${pool.length}` : `The ${pool.length}`} train and dev rows of ${csv}${note} were split into ${folds} stratified folds; ` +
              `each fold model trained on the other folds and was early-stopped on its own held-out fold, so the out-of-fold ` +
              `numbers (and an interval calibrated on them) are slightly optimistic. Every row trained some member: measure ` +
              `the ensemble itself on other data.`,
            ...(calibrate === undefined ? {} : { calibrate }),
          },
        }
      : {}),
  });
  return { kind: 'cv', result: result as unknown as CrossValidateResult<TrainingItem> };
}
