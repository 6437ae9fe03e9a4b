/**
 * The knee-bone-age labels file: one row per knee film with the inputs the model takes and the bone age it learns.
 * `physis train knee-bone-age --pairs manifest.csv --teacher <hand bundle>` writes it from paired hand and knee films
 * (see prepare.ts); a department whose knees already carry bone ages may write it itself and train with `--data`.
 *
 * | column | required | meaning |
 * | --- | --- | --- |
 * | `file` | yes | the knee film, relative to the CSV |
 * | `sex` | yes | M or F |
 * | `chronological_age_months` | yes | age at the knee study, in months (0–216) |
 * | `bone_age_months` | yes | the label the model learns: the paired hand's bone age |
 * | `label_source` | no | `reading` (a radiologist's hand reading) or `pseudo` (the teacher hand model's answer) |
 * | `reading_months`, `pseudo_months` | no | both labels where known, so the report scores the model against each |
 * | `pseudo_by` | no | the teacher of `pseudo_months`: its model id and weights sha256 as `id@sha256` |
 * | `patient_id` | no | all films of one patient stay on one side of every split and fold |
 * | `laterality` | no | L or R; right knees are mirrored to left ones (DICOM ImageLaterality when empty) |
 * | `split` | no | `train`, `dev`; anything else is held out |
 * | `hand_file` | no | the paired hand film (provenance) |
 * | `physis_mask`, `ossification_mask` | no | masks of the physes and of the ossification centres (phantoms), to measure where saliency falls |
 * | `simulated` | no | 1 for a simulated film (a Physis phantom) |
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { LabelsError } from '../errors.js';
import { checkFileColumn, labelsTable, readLabelsText } from '../labels-table.js';
import { KNEE_MAX_AGE_MONTHS } from './config.js';

/** Where a knee's bone-age label came from. */
export type LabelSource = 'reading' | 'pseudo';

/** One labelled knee film. */
export interface KneeLabel {
  readonly file: string;
  readonly path: string;
  readonly line: number;
  readonly sex: 'M' | 'F';
  readonly chronologicalAgeMonths: number;
  readonly boneAgeMonths: number;
  readonly labelSource?: LabelSource;
  readonly readingMonths?: number;
  readonly pseudoMonths?: number;
  /** The teacher model of the pseudo-label: id and weights sha256. */
  readonly pseudoBy?: { readonly id: string; readonly weightsSha256: string };
  readonly patientId?: string;
  readonly laterality?: 'L' | 'R';
  readonly split?: string;
  readonly handFile?: string;
  readonly physisMaskPath?: string;
  readonly ossificationMaskPath?: string;
  readonly simulated: boolean;
}

/** The columns the labels file is written with, in order. */
export const KNEE_LABELS_HEADER = [
  'file',
  'patient_id',
  'sex',
  'chronological_age_months',
  'bone_age_months',
  'label_source',
  'reading_months',
  'pseudo_months',
  'pseudo_by',
  'laterality',
  'split',
  'hand_file',
  'physis_mask',
  'ossification_mask',
  'simulated',
] as const;

/** Largest plausible bone age in months (the hand atlas's range, with room). */
const MAX_BONE_AGE_MONTHS = 240;

/**
 * Parse knee labels CSV text.
 * @param text - the CSV
 * @param source - its path (anchors relative paths, names errors)
 * @throws LabelsError naming the line and column of the first bad value
 */
export function parseKneeLabels(text: string, source: string): KneeLabel[] {
  const { columns, records } = labelsTable(text, source, ['file', 'sex', 'chronological_age_months', 'bone_age_months']);
  const base = dirname(resolve(source));
  const seen = new Map<string, number>();
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const rows = records.map((r): KneeLabel => {
    const get = (name: string): string => {
      const i = columns.get(name);
      return i === undefined ? '' : (r.fields[i] ?? '').trim();
    };
    const where = `${source}:${r.line}`;
    const months = (name: string, max: number, required: boolean): number | undefined => {
      const raw = get(name);
      if (raw === '' && !required) return undefined;
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v) || v < 0 || v > max) throw new LabelsError(`${where}: ${name} '${raw}' must be a number of months in [0, ${max}]`);
      return v;
    };
    const file = get('file');
    checkFileColumn(file, { source, line: r.line }, seen);
    const sex = get('sex').toUpperCase();
    if (sex !== 'M' && sex !== 'F') throw new LabelsError(`${where}: sex '${get('sex')}' must be M or F`);
    const labelSource = get('label_source');
    if (labelSource !== '' && labelSource !== 'reading' && labelSource !== 'pseudo') throw new LabelsError(`${where}: label_source '${labelSource}' must be reading or pseudo`);
    const laterality = get('laterality').toUpperCase();
    if (laterality !== '' && laterality !== 'L' && laterality !== 'R') throw new LabelsError(`${where}: laterality '${get('laterality')}' must be L or R`);
    const simulated = get('simulated');
    if (simulated !== '' && simulated !== '0' && simulated !== '1') throw new LabelsError(`${where}: simulated '${simulated}' must be 0 or 1`);
    const reading = months('reading_months', MAX_BONE_AGE_MONTHS, false);
    const pseudo = months('pseudo_months', MAX_BONE_AGE_MONTHS, false);
    const optional = (name: string): string | undefined => (get(name) === '' ? undefined : get(name));
    const by = optional('pseudo_by');
    const at = by?.lastIndexOf('@') ?? -1;
    if (by !== undefined && (at <= 0 || !/^[0-9a-f]{64}$/.test(by.slice(at + 1)))) throw new LabelsError(`${where}: pseudo_by '${by}' must be <model id>@<weights sha256>`);
    const patientId = optional('patient_id');
    const split = optional('split');
    const handFile = optional('hand_file');
    const mask = optional('physis_mask');
    const ossification = optional('ossification_mask');
    return {
      file,
      path: abs(file),
      line: r.line,
      sex,
      chronologicalAgeMonths: months('chronological_age_months', KNEE_MAX_AGE_MONTHS, true) as number,
      boneAgeMonths: months('bone_age_months', MAX_BONE_AGE_MONTHS, true) as number,
      ...(labelSource === '' ? {} : { labelSource }),
      ...(reading === undefined ? {} : { readingMonths: reading }),
      ...(pseudo === undefined ? {} : { pseudoMonths: pseudo }),
      ...(by === undefined ? {} : { pseudoBy: { id: by.slice(0, at), weightsSha256: by.slice(at + 1) } }),
      ...(patientId === undefined ? {} : { patientId }),
      ...(laterality === '' ? {} : { laterality }),
      ...(split === undefined ? {} : { split }),
      ...(handFile === undefined ? {} : { handFile }),
      ...(mask === undefined ? {} : { physisMaskPath: abs(mask) }),
      ...(ossification === undefined ? {} : { ossificationMaskPath: abs(ossification) }),
      simulated: simulated === '1',
    };
  });
  if (rows.length === 0) throw new LabelsError(`${source}: no labelled rows`);
  return rows;
}

/** Read and parse a knee labels file. @param csvPath - its path */
export function readKneeLabels(csvPath: string): KneeLabel[] {
  return parseKneeLabels(readLabelsText(csvPath), csvPath);
}
