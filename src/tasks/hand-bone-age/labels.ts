/**
 * The hand-bone-age labels file: `file,sex,boneage_months[,split]` (extra columns allowed), as in
 * ../shared/data/rsna-hand/labels.csv (`file,rsna_id,boneage_months,sex,split`).
 *
 * Why: one strict reader so training, evaluation and prediction agree on the schema; file paths are
 * relative to the CSV so a data folder can be moved whole. Bone ages outside 0–240 months (0–20 years,
 * beyond the Greulich-Pyle atlas's 0–19 y range) are rejected as likely unit errors (years given as months).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkFileColumn, labelsTable, readLabelsText } from '../labels-table.js';
import { LabelsError } from '../errors.js';
import { parseSex, type Sex } from './sex.js';

/** One labelled radiograph. */
export interface BoneAgeLabel {
  /** Path as written in the CSV. */
  readonly file: string;
  /** Absolute path (the CSV's folder joined with `file`). */
  readonly path: string;
  readonly sex: Sex;
  readonly boneAgeMonths: number;
  /** `split` column when present (e.g. `train`, `dev`). */
  readonly split?: string;
  /** 1-based line in the CSV. */
  readonly line: number;
}

/** Largest plausible bone age in months. */
export const MAX_BONE_AGE_MONTHS = 240;

function field(fields: readonly string[], index: number | undefined): string {
  return index === undefined ? '' : (fields[index] ?? '').trim();
}

/**
 * Parse labels CSV text.
 * @param text - the CSV
 * @param source - its path (names errors and anchors relative `file` paths)
 */
export function parseBoneAgeLabels(text: string, source: string): BoneAgeLabel[] {
  const { columns, records } = labelsTable(text, source, ['file', 'sex', 'boneage_months']);
  const base = dirname(resolve(source));
  const seen = new Map<string, number>();
  const rows = records.map((r): BoneAgeLabel => {
    const file = field(r.fields, columns.get('file'));
    checkFileColumn(file, { source, line: r.line }, seen);
    const rawSex = field(r.fields, columns.get('sex'));
    const sex = parseSex(rawSex);
    if (sex === null) throw new LabelsError(`${source}:${r.line}: sex '${rawSex}' must be M or F`);
    const rawAge = field(r.fields, columns.get('boneage_months'));
    const age = Number(rawAge);
    if (rawAge === '' || !Number.isFinite(age) || age < 0 || age > MAX_BONE_AGE_MONTHS) {
      throw new LabelsError(`${source}:${r.line}: boneage_months '${rawAge}' must be a number in [0, ${MAX_BONE_AGE_MONTHS}]`);
    }
    const split = field(r.fields, columns.get('split'));
    return {
      file,
      path: isAbsolute(file) ? file : resolve(base, file),
      sex,
      boneAgeMonths: age,
      ...(columns.has('split') && split !== '' ? { split } : {}),
      line: r.line,
    };
  });
  if (rows.length === 0) throw new LabelsError(`${source}: no labelled rows`);
  return rows;
}

/** Read and parse a labels CSV file. @param csvPath - path to labels.csv */
export function readBoneAgeLabels(csvPath: string): BoneAgeLabel[] {
  return parseBoneAgeLabels(readLabelsText(csvPath), csvPath);
}
