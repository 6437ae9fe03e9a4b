/**
 * The suitability gate's labels file, `file,anatomy,view,modality,laterality,category,split[,simulated]` (paths
 * relative to the CSV), and the builder that writes one from the shared data folders.
 *
 * Why a file of its own: the gate learns from several sources (the anatomy set, RSNA hands, AASCE spines), each with
 * its own labels schema. One file with the split written out keeps the gate's dev films apart from its training films
 * for good (the RSNA dev hands stay dev, as for the hand model, so a hand the gate was tuned on never measures it), and
 * a group with its own archive writes the same file for its films.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { csvField } from '../../radiograph/index.js';
import { LabelsError } from '../errors.js';
import { checkFileColumn, labelsTable, readLabelsText } from '../labels-table.js';
import { ANATOMY, LATERALITY, MODALITY, VIEW, type Anatomy, type ImageModality, type LateralityAsSeen, type View } from './config.js';

/** One labelled film of the gate. */
export interface SuitabilityItem {
  /** Path as written in the CSV. */
  readonly id: string;
  /** Absolute path. */
  readonly path: string;
  readonly anatomy: Anatomy;
  /** Null where the source mixes views (adult chest films) or a view means nothing (photographs). */
  readonly view: View | null;
  readonly modality: ImageModality;
  /** The limb's side as the stored image shows it; null where it does not apply or is unknown. */
  readonly laterality: LateralityAsSeen | null;
  /** The fine category (e.g. `knee-implant`, `ultrasound`): what per-category rates and leave-one-out use. */
  readonly category: string;
  readonly split?: string;
  /** A simulated film (a Physis phantom), not a radiograph of a person. */
  readonly simulated?: boolean;
}

const HEADER = ['file', 'anatomy', 'view', 'modality', 'laterality', 'category', 'split', 'simulated'] as const;

function oneOf<T extends string>(raw: string, allowed: readonly T[], what: string, where: string, optional: boolean): T | null {
  if (raw === '' && optional) return null;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw new LabelsError(`${where}: ${what} '${raw}' must be one of ${allowed.join(', ')}${optional ? ' or empty' : ''}`);
}

/**
 * Parse gate labels CSV text.
 * @param text - the CSV
 * @param source - its path (names errors and anchors relative paths)
 */
export function parseSuitabilityLabels(text: string, source: string): SuitabilityItem[] {
  const { columns, records } = labelsTable(text, source, ['file', 'anatomy', 'modality']);
  const base = dirname(resolve(source));
  const seen = new Map<string, number>();
  const get = (fields: readonly string[], name: string): string => {
    const i = columns.get(name);
    return i === undefined ? '' : (fields[i] ?? '').trim();
  };
  const rows = records.map((r): SuitabilityItem => {
    const where = `${source}:${r.line}`;
    const file = get(r.fields, 'file');
    checkFileColumn(file, { source, line: r.line }, seen);
    const anatomy = oneOf(get(r.fields, 'anatomy'), ANATOMY, 'anatomy', where, false) as Anatomy;
    const modality = oneOf(get(r.fields, 'modality'), MODALITY, 'modality', where, false) as ImageModality;
    if ((anatomy === 'other') !== (modality !== 'radiograph')) {
      throw new LabelsError(`${where}: anatomy '${anatomy}' with modality '${modality}': only images that are not radiographs are 'other'`);
    }
    const split = get(r.fields, 'split');
    const category = get(r.fields, 'category');
    const simulated = get(r.fields, 'simulated');
    if (simulated !== '' && simulated !== '0' && simulated !== '1') throw new LabelsError(`${where}: simulated '${simulated}' must be 1, 0 or empty`);
    return {
      id: file,
      path: isAbsolute(file) ? file : resolve(base, file),
      anatomy,
      view: oneOf(get(r.fields, 'view'), VIEW, 'view', where, true),
      modality,
      laterality: oneOf(get(r.fields, 'laterality'), LATERALITY, 'laterality', where, true),
      category: category === '' ? anatomy : category,
      ...(split === '' ? {} : { split }),
      ...(simulated === '1' ? { simulated: true } : {}),
    };
  });
  if (rows.length === 0) throw new LabelsError(`${source}: no labelled rows`);
  return rows;
}

/** Read a gate labels CSV. @param csvPath - the file */
export function readSuitabilityLabels(csvPath: string): SuitabilityItem[] {
  return parseSuitabilityLabels(readLabelsText(csvPath), csvPath);
}

/** Where the builder finds each source; any may be absent. */
export interface SuitabilitySources {
  /** A folder in the anatomy set's layout (`labels.csv`: file,anatomy,view,modality,source). */
  readonly anatomy?: string;
  /** A folder of left-hand PA films (`labels.csv` with file and split), e.g. rsna-hand. */
  readonly hands?: string;
  /** A second hand folder (`labels.csv` with file, split and in_rsna_hand), e.g. rsna-hand-lowres. */
  readonly moreHands?: string;
  /** At most this many films of `moreHands` (training films only, those not in `hands`); default 1000. */
  readonly moreHandsLimit?: number;
  /** A folder of AP spine films (`labels.csv` with file and patient_key), e.g. aasce-spine. */
  readonly spine?: string;
  /**
   * Folders written by `physis phantoms <task>` (infant skulls, knees paired with hands, instrumented spines): their
   * simulated films join in categories of their own, split by patient. Why: no public infant skull, paediatric knee
   * or post-operative spine film exists here, and a gate that never saw one refuses the films those tasks are for.
   */
  readonly phantoms?: readonly string[];
  /** At most this many films from each phantom folder (a spread sample by hash); default 400. */
  readonly phantomsLimit?: number;
  /** Categories to leave out entirely (leave-one-category-out experiments). */
  readonly exclude?: readonly string[];
}

/** A stable 32-bit hash (FNV-1a) of a string: the split of a row never depends on the order of the files. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** One in five groups is dev, by the hash of the group key (a patient where the source names one). */
const DEV_SHARE_OF = 5;
const devByKey = (key: string): string => (fnv1a(key) % DEV_SHARE_OF === 0 ? 'dev' : 'train');

/** The anatomy set's (anatomy, view, modality) → the gate's labels and fine category. */
function anatomyRow(anatomy: string, view: string, modality: string): Omit<SuitabilityItem, 'id' | 'path' | 'split'> | null {
  if (modality === 'ct') return { anatomy: 'other', view: null, modality: 'ct', laterality: null, category: 'ct' };
  if (modality === 'ultrasound') return { anatomy: 'other', view: null, modality: 'ultrasound', laterality: null, category: 'ultrasound' };
  if (modality === 'photo') return { anatomy: 'other', view: null, modality: 'photo', laterality: null, category: 'photo' };
  if (modality !== 'radiograph') return null;
  if (anatomy === 'knee') return { anatomy: 'knee', view: 'frontal', modality, laterality: null, category: view === 'AP-implant' ? 'knee-implant' : 'knee' };
  if (anatomy === 'skull') return { anatomy: 'skull', view: view === 'lateral' ? 'lateral' : 'frontal', modality, laterality: null, category: `skull-${view === 'lateral' ? 'lateral' : 'frontal'}` };
  if (anatomy === 'spine') return { anatomy: 'spine', view: 'frontal', modality, laterality: null, category: 'spine' };
  // the adult chest source mixes PA, AP and lateral films: no view label
  if (anatomy === 'chest') return { anatomy: 'chest', view: view === 'frontal' ? 'frontal' : null, modality, laterality: null, category: view === 'frontal' ? 'chest-pediatric' : 'chest-adult' };
  if (anatomy === 'hand') return { anatomy: 'hand', view: 'frontal', modality, laterality: 'left', category: 'hand' };
  return null;
}

interface Table {
  readonly csv: string;
  readonly records: readonly { fields: readonly string[]; line: number }[];
  get(fields: readonly string[], name: string): string;
  has(name: string): boolean;
}

function table(dir: string, required: readonly string[], file = 'labels.csv'): Table {
  const csv = resolve(dir, file);
  const { columns, records } = labelsTable(readLabelsText(csv), csv, required);
  return { csv, records, get: (fields, name) => (fields[columns.get(name) ?? -1] ?? '').trim(), has: (name) => columns.has(name) };
}

/**
 * The gate's labelled rows from the source folders, with their split: the hand folders keep their own train/dev split
 * (so the hand model's dev films are the gate's dev films too); the anatomy set is split by file and the spine set by
 * patient, one in five to dev.
 * @param s - the source folders
 * @returns rows with absolute paths
 */
export function collectSuitabilityRows(s: SuitabilitySources): SuitabilityItem[] {
  const rows: SuitabilityItem[] = [];
  const exclude = new Set(s.exclude ?? []);
  const push = (r: SuitabilityItem): void => {
    if (!exclude.has(r.category)) rows.push(r);
  };
  if (s.anatomy !== undefined) {
    const t = table(s.anatomy, ['file', 'anatomy', 'view', 'modality']);
    for (const r of t.records) {
      const file = t.get(r.fields, 'file');
      const labels = anatomyRow(t.get(r.fields, 'anatomy'), t.get(r.fields, 'view'), t.get(r.fields, 'modality'));
      if (labels === null) throw new LabelsError(`${t.csv}:${r.line}: no gate label for anatomy '${t.get(r.fields, 'anatomy')}', modality '${t.get(r.fields, 'modality')}'`);
      push({ id: file, path: resolve(s.anatomy, file), ...labels, split: devByKey(file) });
    }
  }
  const hand = (dir: string, file: string, split: string): SuitabilityItem => ({
    id: file,
    path: resolve(dir, file),
    anatomy: 'hand',
    view: 'frontal',
    modality: 'radiograph',
    laterality: 'left',
    category: 'hand',
    split,
  });
  if (s.hands !== undefined) {
    const t = table(s.hands, ['file', 'split']);
    for (const r of t.records) push(hand(s.hands, t.get(r.fields, 'file'), t.get(r.fields, 'split')));
  }
  if (s.moreHands !== undefined) {
    const t = table(s.moreHands, ['file', 'split', 'in_rsna_hand']);
    const limit = s.moreHandsLimit ?? 1000;
    // training films only, not the ones the first hand folder holds at full size; a spread sample by hash
    const candidates = t.records
      .filter((r) => t.get(r.fields, 'split') === 'train' && t.get(r.fields, 'in_rsna_hand') === '0')
      .map((r) => t.get(r.fields, 'file'))
      .sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : 1))
      .slice(0, limit);
    for (const file of candidates) push({ ...hand(s.moreHands, file, 'train'), category: 'hand-lowres' });
  }
  if (s.spine !== undefined) {
    const t = table(s.spine, ['file', 'patient_key']);
    for (const r of t.records) {
      const file = t.get(r.fields, 'file');
      push({ id: file, path: resolve(s.spine, file), anatomy: 'spine', view: 'frontal', modality: 'radiograph', laterality: null, category: 'spine', split: devByKey(t.get(r.fields, 'patient_key') || file) });
    }
  }
  for (const dir of s.phantoms ?? []) for (const r of phantomRows(dir, s.phantomsLimit ?? 400)) push(r);
  if (rows.length === 0) throw new LabelsError('no gate rows: give at least one source folder');
  return rows;
}

/**
 * The gate rows of one phantom folder, recognised by the file `physis phantoms` wrote: infant skulls (labels.csv with
 * suture masks; AP → frontal, LATERAL → lateral), instrumented spines (labels.csv with class and stage; the simulated
 * post-operative films only, the pre-operative ones being the real AASCE films) or knees paired with real hands
 * (manifest.csv; the simulated knees only). Split by patient, one in five to dev, as the other sources.
 * @param dir - the folder
 * @param limit - most films taken (a spread sample by the hash of the path)
 */
function phantomRows(dir: string, limit: number): SuitabilityItem[] {
  const labels = resolve(dir, 'labels.csv');
  const manifest = resolve(dir, 'manifest.csv');
  const radiograph = { modality: 'radiograph' as const, laterality: null, simulated: true };
  const candidates: SuitabilityItem[] = [];
  if (existsSync(labels)) {
    const t = table(dir, ['file']);
    const simulated = (f: readonly string[]): boolean => t.get(f, 'simulated') === '1';
    if (t.has('suture_mask') && t.has('view') && t.has('patient_id')) {
      for (const r of t.records.filter((x) => simulated(x.fields))) {
        const file = t.get(r.fields, 'file');
        const view = t.get(r.fields, 'view').toUpperCase() === 'AP' ? 'frontal' : 'lateral';
        candidates.push({ id: file, path: resolve(dir, file), anatomy: 'skull', view, ...radiograph, category: `skull-infant-phantom-${view}`, split: devByKey(t.get(r.fields, 'patient_id')) });
      }
    } else if (t.has('class') && t.has('stage') && t.has('patient_key')) {
      for (const r of t.records.filter((x) => simulated(x.fields))) {
        const file = t.get(r.fields, 'file');
        candidates.push({ id: file, path: resolve(dir, file), anatomy: 'spine', view: 'frontal', ...radiograph, category: 'spine-instrumented-phantom', split: devByKey(t.get(r.fields, 'patient_key') || file) });
      }
    } else {
      throw new LabelsError(`${labels}: not a phantom cohort written by physis phantoms (skull-infant-age or spine-view)`);
    }
  } else if (existsSync(manifest)) {
    const t = table(dir, ['patient_id', 'film', 'body_part', 'simulated'], 'manifest.csv');
    for (const r of t.records.filter((x) => t.get(x.fields, 'body_part') === 'knee' && t.get(x.fields, 'simulated') === '1')) {
      const file = t.get(r.fields, 'film');
      candidates.push({ id: file, path: resolve(dir, file), anatomy: 'knee', view: 'frontal', ...radiograph, category: 'knee-pediatric-phantom', split: devByKey(t.get(r.fields, 'patient_id')) });
    }
  } else {
    throw new LabelsError(`${dir}: no labels.csv or manifest.csv of a phantom cohort (write one with physis phantoms)`);
  }
  if (candidates.length === 0) throw new LabelsError(`${dir}: no simulated films in the cohort`);
  return candidates.sort((a, b) => fnv1a(a.id) - fnv1a(b.id) || (a.id < b.id ? -1 : 1)).slice(0, limit);
}


/**
 * An existing labels file's rows followed by new ones; a film in both is refused (its labels or split could differ).
 * @param base - rows kept as they are
 * @param added - rows from the sources
 */
export function mergeSuitabilityRows(base: readonly SuitabilityItem[], added: readonly SuitabilityItem[]): SuitabilityItem[] {
  const inBase = new Set(base.map((r) => r.path));
  const twice = added.find((r) => inBase.has(r.path));
  if (twice !== undefined) throw new LabelsError(`${twice.path} is in the base labels file and in a source: give each film once`);
  return [...base, ...added];
}

/**
 * Write gate rows as a labels CSV whose paths are relative to it.
 * @param rows - from {@link collectSuitabilityRows}
 * @param csvPath - the file to write
 */
export function writeSuitabilityLabels(rows: readonly SuitabilityItem[], csvPath: string): void {
  const base = dirname(resolve(csvPath));
  const lines = [HEADER.join(',')];
  for (const r of rows) {
    lines.push([relative(base, r.path), r.anatomy, r.view ?? '', r.modality, r.laterality ?? '', r.category, r.split ?? '', r.simulated === true ? '1' : ''].map(csvField).join(','));
  }
  writeFileSync(csvPath, `${lines.join('\n')}\n`);
}
