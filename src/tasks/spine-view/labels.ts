/**
 * The spine-view labels file, its class list, its split and its class weights:
 *
 * | column | required | meaning |
 * |---|---|---|
 * | `file` | yes | the film (DICOM, PNG or JPEG), relative to the CSV |
 * | `class` | yes | the film's class; the set of values IS the class list (e.g. the paper's 10 categories, see config.ts) |
 * | `patient_key` | no | the patient: all films of one key stay on one side of every split; absent: each film its own patient |
 * | `split` | no | `train`, `dev`, anything else is held out (e.g. `test`); absent or empty in every row: made here |
 * | `view` | no | the projection (`AP`, `LATERAL`…), reported per view |
 * | `stage` | no | `preop` / `postop`, recorded |
 * | `simulated` | no | 1 for a simulated film: a model trained on any says so in every answer |
 * | `source` | no | where a simulated film came from, recorded |
 *
 * Why the class list comes from the data: the paper's category names are not public, and a registry has its own
 * scheme; the list is read from the labels, ordered (the default scheme's names in their order, then any other name
 * alphabetically) so that the same set of names always gives the same order, and stored in the bundle.
 *
 * Why a split is made here when the file has none: the reproduced study reports a held-out test set; the generic
 * trainer splits only train/dev. A file without a split column gets a seeded 70/15/15 train/dev/test split, stratified
 * by class and grouped by patient key (one patient never on two sides), the same for every reader of the same rows,
 * so `physis evaluate --split test` scores exactly the films training never saw.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { Rng } from '../../train/index.js';
import { LabelsError } from '../errors.js';
import { checkFileColumn, labelsTable, readLabelsText } from '../labels-table.js';
import { SPINE_VIEW_DEFAULT_CLASSES } from './config.js';

/** One labelled spine film. */
export interface SpineViewLabel {
  readonly file: string;
  readonly path: string;
  readonly className: string;
  /** Index of the class in {@link SpineViewLabel.classes}. */
  readonly classIndex: number;
  /** The labels file's class list (shared by every row of the file). */
  readonly classes: readonly string[];
  readonly patientKey: string;
  /** The file's split value, or the one made here (then `splitMade` is true). */
  readonly split?: string;
  readonly splitMade: boolean;
  readonly view: string | null;
  readonly stage: string | null;
  readonly simulated: boolean;
  readonly source: string | null;
  /**
   * The class's weight in the training loss: N / (K · n_c) over the training rows (inverse class frequency, the
   * "balanced" weighting of King & Zeng 2001 as scikit-learn names it), so each class weighs alike in the loss.
   */
  readonly weight: number;
  readonly line: number;
}

/** Shares of the split made when a file has none: train, dev (validation) and test. */
export const SPINE_VIEW_SPLIT_SHARES = Object.freeze({ train: 0.7, dev: 0.15, test: 0.15 });

/** Seed of the split made here (fixed: every reader of a file must get the same split). */
export const SPINE_VIEW_SPLIT_SEED = 1;

/**
 * The class list of a set of class names: the default scheme's names in its order, then the others alphabetically.
 * @param names - class values as written (repeats allowed)
 */
export function classListOf(names: Iterable<string>): string[] {
  const set = new Set(names);
  const known = SPINE_VIEW_DEFAULT_CLASSES.filter((c) => set.has(c));
  const other = [...set].filter((c) => !SPINE_VIEW_DEFAULT_CLASSES.includes(c)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...known, ...other];
}

/**
 * A seeded split of groups into train/dev/test, stratified by each group's class signature (the set of classes its
 * films hold) and grouped (every film of a group on one side). Within a signature the groups are shuffled and each is
 * given to the split furthest below its share of that signature's films.
 * @param rows - each film's group and class
 * @param seed - the shuffle's seed
 * @returns each film's split, in row order
 */
export function groupedStratifiedSplit(rows: readonly { readonly group: string; readonly className: string }[], seed: number): ('train' | 'dev' | 'test')[] {
  const groups = new Map<string, { rows: number[]; classes: Set<string> }>();
  rows.forEach((r, i) => {
    const g = groups.get(r.group) ?? { rows: [], classes: new Set<string>() };
    g.rows.push(i);
    g.classes.add(r.className);
    groups.set(r.group, g);
  });
  const bySignature = new Map<string, string[]>();
  for (const [key, g] of groups) {
    const signature = [...g.classes].sort().join('|');
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), key]);
  }
  const names = ['train', 'dev', 'test'] as const;
  const out = new Array<'train' | 'dev' | 'test'>(rows.length).fill('train');
  const rng = new Rng(seed);
  for (const signature of [...bySignature.keys()].sort()) {
    const keys = rng.shuffle([...(bySignature.get(signature) ?? [])].sort());
    const total = keys.reduce((a, k) => a + (groups.get(k)?.rows.length ?? 0), 0);
    const have = { train: 0, dev: 0, test: 0 };
    for (const key of keys) {
      const g = groups.get(key);
      if (g === undefined) continue;
      // the split furthest below its share (ties: train, then dev, then test)
      let best: (typeof names)[number] = 'train';
      let deficit = -Infinity;
      for (const s of names) {
        const d = SPINE_VIEW_SPLIT_SHARES[s] * total - have[s];
        if (d > deficit + 1e-9) {
          deficit = d;
          best = s;
        }
      }
      have[best] += g.rows.length;
      for (const i of g.rows) out[i] = best;
    }
  }
  return out;
}

/**
 * Inverse-frequency class weights N / (K · n_c) over the rows given (the training rows).
 * @param classIndices - each training row's class index
 * @param k - number of classes
 * @returns one weight per class; a class without training rows gets 0 (it contributes nothing)
 */
export function classWeights(classIndices: readonly number[], k: number): number[] {
  const counts = new Array<number>(k).fill(0);
  for (const c of classIndices) counts[c] = (counts[c] ?? 0) + 1;
  const n = classIndices.length;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => (c === 0 ? 0 : n / (present * c)));
}

/**
 * Parse labels CSV text.
 * @param text - the CSV
 * @param source - its path (names errors and anchors relative `file` paths)
 * @throws LabelsError naming the file and line for a missing column, an empty class, a repeated file, a bad
 *   `simulated` value, or fewer than two classes
 */
export function parseSpineViewLabels(text: string, source: string): SpineViewLabel[] {
  const { columns, records } = labelsTable(text, source, ['file', 'class']);
  const base = dirname(resolve(source));
  const seen = new Map<string, number>();
  const get = (fields: readonly string[], name: string): string => {
    const i = columns.get(name);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  const raw = records.map((r) => {
    const at = `${source}:${r.line}`;
    const file = get(r.fields, 'file');
    checkFileColumn(file, { source, line: r.line }, seen);
    const className = get(r.fields, 'class');
    if (className === '') throw new LabelsError(`${at}: empty 'class'`);
    const simulated = get(r.fields, 'simulated');
    if (!['', '0', '1'].includes(simulated)) throw new LabelsError(`${at}: simulated '${simulated}' must be 1, 0 or empty`);
    const patient = get(r.fields, 'patient_key');
    const opt = (name: string): string | null => {
      const v = get(r.fields, name);
      return v === '' ? null : v;
    };
    return {
      file,
      path: isAbsolute(file) ? file : resolve(base, file),
      className,
      patientKey: patient === '' ? `file:${file}` : patient,
      split: get(r.fields, 'split'),
      view: opt('view'),
      stage: opt('stage'),
      source: opt('source'),
      simulated: simulated === '1',
      line: r.line,
    };
  });
  if (raw.length === 0) throw new LabelsError(`${source}: no labelled rows`);
  const classes = classListOf(raw.map((r) => r.className));
  if (classes.length < 2) throw new LabelsError(`${source}: every row has class '${classes[0] ?? ''}'; a classifier needs at least two classes`);
  const made = raw.every((r) => r.split === '');
  const splits = made ? groupedStratifiedSplit(raw.map((r) => ({ group: r.patientKey, className: r.className })), SPINE_VIEW_SPLIT_SEED) : raw.map((r) => r.split);
  const index = new Map(classes.map((c, i) => [c, i]));
  const classIndex = raw.map((r) => index.get(r.className) as number);
  const weights = classWeights(classIndex.filter((_, i) => (splits[i] ?? '').toLowerCase() === 'train'), classes.length);
  return raw.map((r, i) => {
    const split = splits[i] ?? '';
    return {
      file: r.file,
      path: r.path,
      className: r.className,
      classIndex: classIndex[i] as number,
      classes,
      patientKey: r.patientKey,
      ...(split === '' ? {} : { split }),
      splitMade: made,
      view: r.view,
      stage: r.stage,
      simulated: r.simulated,
      source: r.source,
      // a class absent from the training rows never reaches the loss; 1 keeps other uses of the weight finite
      weight: weights[classIndex[i] as number] || 1,
      line: r.line,
    };
  });
}

/** Read and parse a labels CSV file. @param csvPath - path to labels.csv */
export function readSpineViewLabels(csvPath: string): SpineViewLabel[] {
  return parseSpineViewLabels(readLabelsText(csvPath), csvPath);
}
