/**
 * Deterministic K-fold splits: stratified by binned target and sex, or grouped so that one patient
 * never sits on both sides.
 *
 * Why: with ~1000 images a single dev split is noisy; K-fold cross-validation reports mean ± SD over
 * folds. Stratifying by sex and age bin keeps every fold's age distribution alike (as the RSNA dev
 * split was made, by sex and 24-month bins); grouping by patient prevents the leakage that inflates
 * results when one patient's images land in train and dev (data sets that hold several films per patient).
 */
import { TrainConfigError } from './errors.js';
import { Rng } from './rng.js';

/** Indices into the item list for one fold, both sorted ascending. */
export interface Fold {
  readonly train: readonly number[];
  readonly dev: readonly number[];
}

/** One item for stratification: its regression target and an optional categorical stratum (sex). */
export interface StratifyItem {
  readonly target: number;
  readonly stratum?: string;
}

/** Options of {@link stratifiedKFold}. */
export interface StratifiedKFoldOptions {
  readonly seed: number;
  /** Fixed bin width of the target (e.g. 24 months); default: `bins` quantile bins. */
  readonly binWidth?: number;
  /** Number of quantile bins when `binWidth` is not given; default 5. */
  readonly bins?: number;
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 2) throw new TrainConfigError(`folds must be an integer >= 2, got ${k}`);
  if (k > n) throw new TrainConfigError(`cannot make ${k} folds from ${n} ${what}`);
}

function foldsFromAssignment(assign: readonly number[], k: number): Fold[] {
  return Array.from({ length: k }, (_, f) => ({
    train: assign.flatMap((a, i) => (a === f ? [] : [i])),
    dev: assign.flatMap((a, i) => (a === f ? [i] : [])),
  }));
}

/**
 * Stratified K-fold: items are grouped by (stratum, target bin), shuffled with the seed, and dealt to
 * folds in turn, so fold sizes differ by at most one and every stratum spreads evenly.
 * @param items - targets and strata
 * @param k - number of folds
 * @param options - seed and binning
 */
export function stratifiedKFold(items: readonly StratifyItem[], k: number, options: StratifiedKFoldOptions): Fold[] {
  checkK(k, items.length, 'items');
  items.forEach((it, i) => {
    if (!Number.isFinite(it.target)) throw new TrainConfigError(`item ${i} has target ${it.target}; stratification needs finite targets`);
  });
  let binOf: (t: number) => number;
  if (options.binWidth !== undefined) {
    const w = options.binWidth;
    if (!(w > 0)) throw new TrainConfigError(`binWidth ${w} must be > 0`);
    binOf = (t) => Math.floor(t / w);
  } else {
    const bins = options.bins ?? 5;
    if (!Number.isInteger(bins) || bins < 1) throw new TrainConfigError(`bins ${bins} must be a positive integer`);
    const sorted = items.map((it) => it.target).sort((a, b) => a - b);
    const edges = Array.from({ length: bins - 1 }, (_, j) => sorted[Math.floor(((j + 1) * sorted.length) / bins)] as number);
    binOf = (t) => edges.filter((e) => t >= e).length;
  }
  const strata = new Map<string, number[]>();
  items.forEach((it, i) => {
    const key = `${it.stratum ?? ''}\u0000${binOf(it.target)}`;
    const list = strata.get(key) ?? [];
    list.push(i);
    strata.set(key, list);
  });
  const rng = new Rng(options.seed);
  const assign = new Array<number>(items.length).fill(-1);
  let next = 0;
  for (const key of [...strata.keys()].sort()) {
    for (const i of rng.shuffle([...(strata.get(key) ?? [])])) {
      assign[i] = next;
      next = (next + 1) % k;
    }
  }
  return foldsFromAssignment(assign, k);
}

/**
 * Grouped K-fold: all items of a group land in the same fold. Groups are shuffled with the seed, then
 * placed largest first into the fold with the fewest items, which balances fold sizes.
 * @param groups - the group key (patient id) of each item
 * @param k - number of folds
 * @param seed - shuffling seed
 */
export function groupedKFold(groups: readonly string[], k: number, seed: number): Fold[] {
  const members = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = members.get(g) ?? [];
    list.push(i);
    members.set(g, list);
  });
  checkK(k, members.size, 'groups');
  const keys = new Rng(seed).shuffle([...members.keys()].sort());
  const order = keys.map((key, rank) => ({ key, rank, size: members.get(key)?.length ?? 0 }));
  order.sort((a, b) => b.size - a.size || a.rank - b.rank);
  const sizes = new Array<number>(k).fill(0);
  const assign = new Array<number>(groups.length).fill(-1);
  for (const { key, size } of order) {
    let best = 0;
    for (let f = 1; f < k; f++) if ((sizes[f] as number) < (sizes[best] as number)) best = f;
    sizes[best] = (sizes[best] as number) + size;
    for (const i of members.get(key) ?? []) assign[i] = best;
  }
  return foldsFromAssignment(assign, k);
}
