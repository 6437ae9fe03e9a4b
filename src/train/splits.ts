/**
 * Which rows of a labelled table are trained on, which are the dev set, and which are kept out; and the
 * smallest data sets a run accepts.
 *
 * Why: a table's split column is the data owner's decision. Rows marked `test`, `holdout` or anything
 * other than `train`/`dev` must never reach the optimiser, or the held-out numbers reported later are
 * contaminated — so they are excluded and reported, never folded into training. A row with no split value
 * in a table that has them is equally unassigned and is excluded, not guessed. Only a table with no split
 * values at all gets a split made here: seeded and stratified (fold 0 of a stratified K-fold), so it is
 * reproducible and has the same target and stratum mix on both sides, and the plan says so in words for
 * the model card.
 *
 * @example
 * const plan = assignSplits(rows, { splitOf: (r) => r.split, stratumOf: (r) => r.sex, targetOf: (r) => r.target,
 *   seed: 1, name: (r) => r.file });
 * // rows with split 'test' → plan.excluded = [{ split: 'test', count: 200, examples: ['a.png', 'b.png', 'c.png'] }]
 * // no split column → plan.fallback = 'no split column: a seeded stratified 80/20 split (seed 1)'
 */
import { TrainConfigError } from './errors.js';
import { groupedKFold, stratifiedKFold } from './folds.js';
import { DatasetTooSmallError, SplitError } from './run-errors.js';

/** Split values that assign a row; compared after trimming and lower-casing. */
export const TRAIN_SPLIT = 'train';
/** See {@link TRAIN_SPLIT}. */
export const DEV_SPLIT = 'dev';

/** Most example row names listed for each excluded split value. */
const EXAMPLES_PER_SPLIT = 3;

/** Rows kept out of training and dev, grouped by their split value ('' for rows without one). */
export interface ExcludedSplit {
  readonly split: string;
  readonly count: number;
  /** Up to three row names, in table order. */
  readonly examples: readonly string[];
}

/** The outcome of {@link assignSplits}. */
export interface SplitPlan<T> {
  readonly train: T[];
  readonly dev: T[];
  readonly excluded: ExcludedSplit[];
  /** A sentence describing the split made here when the table had none, else null. */
  readonly fallback: string | null;
}

/** Options of {@link assignSplits}. */
export interface AssignSplitsOptions<T> {
  /** The row's split value; undefined or blank when it has none. */
  readonly splitOf: (r: T) => string | undefined;
  /** Categorical stratum for the fallback split (e.g. a sex column); '' when there is none. */
  readonly stratumOf: (r: T) => string;
  /** Regression target for the fallback split, binned into quantiles as stratifiedKFold does. */
  readonly targetOf?: (r: T) => number;
  /** Seed of the fallback split. */
  readonly seed: number;
  /** Dev share of the fallback split, in (0, 0.5]; the split is fold 0 of round(1/devFraction) folds. Default 0.2. */
  readonly devFraction?: number;
  /** A row's name for reports (its file name). */
  readonly name: (r: T) => string;
  /**
   * The group a row belongs to (e.g. one patient): every row of a group stays on one side of the split. Given, the
   * fallback split is grouped (not stratified), and a split column that puts one group on both sides is refused.
   */
  readonly groupOf?: (r: T) => string;
}

function percent(x: number): string {
  return String(Math.round(x * 100));
}

/**
 * Partition a table's rows into train, dev and excluded, honouring its split column.
 *
 * - rows with split `train` / `dev` (any case, trimmed) go there;
 * - rows with any other value are excluded and reported, grouped by value;
 * - rows with no value are excluded too when other rows have values (reported as split '');
 * - only when no row has a value is a seeded stratified split made, and `fallback` says so.
 * @param rows - the table's rows, in order (order is kept within train and dev)
 * @param o - accessors, seed and dev fraction
 * @throws SplitError when rows have split values but none is train, or none is dev
 * @throws DatasetTooSmallError when the fallback split has fewer rows than folds
 * @throws TrainConfigError for a devFraction outside (0, 0.5]
 */
export function assignSplits<T>(rows: readonly T[], o: AssignSplitsOptions<T>): SplitPlan<T> {
  const values = rows.map((r) => (o.splitOf(r) ?? '').trim());
  if (values.every((v) => v === '')) return fallbackSplit(rows, o);

  const train: T[] = [];
  const dev: T[] = [];
  const groups = new Map<string, { count: number; examples: string[] }>();
  rows.forEach((r, i) => {
    const v = values[i] ?? '';
    const key = v.toLowerCase();
    if (key === TRAIN_SPLIT) train.push(r);
    else if (key === DEV_SPLIT) dev.push(r);
    else {
      const g = groups.get(v) ?? { count: 0, examples: [] };
      g.count++;
      if (g.examples.length < EXAMPLES_PER_SPLIT) g.examples.push(o.name(r));
      groups.set(v, g);
    }
  });
  if (train.length === 0 || dev.length === 0) {
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const found = [...counts]
      .map(([split, count]) => ({ split, count }))
      .sort((a, b) => a.split.localeCompare(b.split));
    const list = found.map((f) => `${f.split === '' ? '(empty)' : f.split} (${f.count})`).join(', ');
    const missing = train.length === 0 ? TRAIN_SPLIT : DEV_SPLIT;
    throw new SplitError(
      `split column has ${list} but no '${missing}' rows; mark rows '${TRAIN_SPLIT}' and '${DEV_SPLIT}'`,
      found,
    );
  }
  if (o.groupOf !== undefined) checkGroupsApart(train, dev, o.groupOf, o.name);
  const excluded = [...groups]
    .map(([split, g]) => ({ split, count: g.count, examples: g.examples }))
    .sort((a, b) => a.split.localeCompare(b.split));
  return { train, dev, excluded, fallback: null };
}

/**
 * Refuse a split that puts one group's rows (one patient's films) in both train and dev: the dev numbers would then
 * measure recognising the patient, not the task (the leakage Roberts et al., Nat Mach Intell 2021, found throughout
 * imaging models).
 */
function checkGroupsApart<T>(train: readonly T[], dev: readonly T[], groupOf: (r: T) => string, name: (r: T) => string): void {
  const trainGroups = new Map<string, T>();
  for (const r of train) if (!trainGroups.has(groupOf(r))) trainGroups.set(groupOf(r), r);
  const shared = dev.filter((r) => trainGroups.has(groupOf(r)));
  if (shared.length === 0) return;
  const first = shared[0] as T;
  const groups = new Set(shared.map(groupOf));
  throw new SplitError(
    `${groups.size} group(s) have rows in both train and dev (e.g. ${groupOf(first)}: ${name(trainGroups.get(groupOf(first)) as T)} is train, ${name(first)} is dev); ` +
      'put all rows of a group (one patient) on one side',
    [
      { split: 'train', count: train.length },
      { split: 'dev', count: dev.length },
    ],
  );
}

function fallbackSplit<T>(rows: readonly T[], o: AssignSplitsOptions<T>): SplitPlan<T> {
  const devFraction = o.devFraction ?? 0.2;
  if (!(devFraction > 0 && devFraction <= 0.5)) {
    throw new TrainConfigError(`devFraction ${devFraction} must be in (0, 0.5]`);
  }
  const k = Math.round(1 / devFraction);
  const words = `a seeded ${o.groupOf === undefined ? 'stratified' : 'grouped (no group on both sides)'} ${percent(1 - 1 / k)}/${percent(1 / k)} split (seed ${o.seed})`;
  if (rows.length < k) {
    throw new DatasetTooSmallError(
      `no split column, and ${rows.length} rows are too few for ${words}: need at least ${k}`,
    );
  }
  const targetOf = o.targetOf;
  const groupOf = o.groupOf;
  const items = rows.map((r) => ({ target: targetOf ? targetOf(r) : 0, stratum: o.stratumOf(r) }));
  const fold = (groupOf === undefined ? stratifiedKFold(items, k, { seed: o.seed }) : groupedKFold(rows.map(groupOf), k, o.seed))[0];
  if (fold === undefined) throw new TrainConfigError(`stratifiedKFold returned no folds for k=${k}`);
  return {
    train: fold.train.map((i) => rows[i] as T),
    dev: fold.dev.map((i) => rows[i] as T),
    excluded: [],
    fallback: `no split column: ${words}`,
  };
}

/** Options of {@link checkMinimumSizes}. */
export interface MinimumSizesOptions {
  readonly train: number;
  readonly dev: number;
  readonly batchSize: number;
  /** Fewest training rows accepted; default 2, never below 1. */
  readonly minTrain?: number;
  /** Fewest dev rows accepted; default 1. */
  readonly minDev?: number;
}

/** What {@link checkMinimumSizes} found. */
export interface MinimumSizes {
  /**
   * Pass as the training loader's `dropLast`: true exactly when the last training batch would hold one
   * image (train % batchSize === 1, with at least one full batch before it).
   */
  readonly trainDropLast: boolean;
  /** Optimiser steps per epoch with that choice. */
  readonly trainStepsPerEpoch: number;
}

/**
 * Refuse, before any image is loaded, a data set too small to train and evaluate on; and say whether the
 * training loader should drop a last batch of one.
 *
 * Why the last batch of one is dropped rather than refused: DataLoader keeps a smaller last batch
 * (dropLast defaults to false, as in PyTorch), and the trainer shuffles every epoch. A batch of one image
 * gives batch normalisation (Ioffe & Szegedy 2015) a one-sample mean and variance; where the feature map
 * is 1×1 (a small input through a deep network) the native `at::batch_norm` gets one value per channel and
 * its unbiased running variance (÷ (n − 1)) becomes NaN, poisoning every later prediction. The cause is
 * the remainder, not the data set's size, so refusing e.g. 993 images at batch 16 would be wrong; dropping
 * that one image per epoch costs nothing (the shuffle drops a different image each epoch, so every image
 * is still trained on) and is what PyTorch users do with `drop_last=True`. It is dropped only when the
 * remainder is exactly one, so every other run keeps its batches, steps and results unchanged.
 * @param o - row counts, batch size and minimums
 * @throws DatasetTooSmallError when train < max(minTrain ?? 2, 1) or dev < (minDev ?? 1)
 * @throws TrainConfigError for a batch size that is not a positive integer
 */
export function checkMinimumSizes(o: MinimumSizesOptions): MinimumSizes {
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new TrainConfigError(`batchSize ${o.batchSize} must be a positive integer`);
  }
  const minTrain = Math.max(o.minTrain ?? 2, 1);
  const minDev = o.minDev ?? 1;
  if (o.train < minTrain) {
    throw new DatasetTooSmallError(
      `${o.train} training row${o.train === 1 ? '' : 's'}: training needs at least ${minTrain}${minTrain === 2 ? ' (batch normalisation needs 2 images per batch)' : ''}`,
    );
  }
  if (o.dev < minDev) {
    throw new DatasetTooSmallError(
      `${o.dev} dev row${o.dev === 1 ? '' : 's'}: at least ${minDev} needed to select and report the model`,
    );
  }
  const trainDropLast = o.train > o.batchSize && o.train % o.batchSize === 1;
  const trainStepsPerEpoch = trainDropLast
    ? Math.floor(o.train / o.batchSize)
    : Math.ceil(o.train / o.batchSize);
  return { trainDropLast, trainStepsPerEpoch };
}
