/**
 * Metadata for research PNG/JPEG collections from a CSV (one row per image), validated like a sidecar.
 * Only columns that mean chronological/clinical facts are mapped: a label column such as RSNA's
 * `boneage_months` is a *reading*, not the patient's age, and is deliberately not taken as `ageMonths`.
 */
import { readFileSync } from 'node:fs';
import { parseCsv, type CsvRecord } from './csv.js';
import { CsvError, MetadataError } from './errors.js';
import { parseSidecar, type SidecarMetadata } from './raster.js';

/** CSV column names (case-insensitive) -> sidecar keys. */
const COLUMNS: Readonly<Record<string, keyof SidecarMetadata | 'file'>> = {
  file: 'file',
  filename: 'file',
  path: 'file',
  sex: 'patientSex',
  patientsex: 'patientSex',
  agemonths: 'ageMonths',
  age_months: 'ageMonths',
  chronological_age_months: 'ageMonths',
  laterality: 'laterality',
  bodypart: 'bodyPartExamined',
  bodypartexamined: 'bodyPartExamined',
  view: 'viewPosition',
  viewposition: 'viewPosition',
  modality: 'modality',
  studydate: 'studyDate',
  birthdate: 'patientBirthDate',
  patientbirthdate: 'patientBirthDate',
  pixelspacingmm: 'pixelSpacingMm',
  spacing_mm: 'pixelSpacingMm',
};

/**
 * Read per-image metadata from a CSV with a header row; returns file (as written in the CSV) -> metadata.
 * Unknown columns are ignored; a malformed value, and a CSV that breaks RFC 4180 (an unterminated quote), is a
 * MetadataError naming `file:line`. Parsing is the project's one CSV reader (`parseCsv`, csv.ts); rows whose
 * fields are all empty (`,,,` from spreadsheet exports) are skipped like blank lines.
 * @param path - the CSV file
 */
export function readMetadataCsv(path: string): Map<string, SidecarMetadata> {
  let records: CsvRecord[];
  try {
    records = parseCsv(readFileSync(path, 'utf8'), path).filter((r) => r.fields.some((f) => f.length > 0));
  } catch (e) {
    // Callers handle one error type for metadata files; the CsvError stays reachable as the cause.
    if (e instanceof CsvError) throw new MetadataError(e.file, e.reason, { cause: e });
    throw e;
  }
  const [header, ...rows] = records;
  if (!header) throw new MetadataError(path, 'CSV is empty');
  const keys = header.fields.map((h) => COLUMNS[h.trim().toLowerCase()]);
  const fileIndex = keys.indexOf('file');
  if (fileIndex < 0) throw new MetadataError(path, `CSV has no file column (one of: file, filename, path)`);
  const out = new Map<string, SidecarMetadata>();
  for (const { line, fields } of rows) {
    const label = `${path}:${line}`;
    const record: Record<string, unknown> = {};
    keys.forEach((key, c) => {
      const raw = (fields[c] ?? '').trim();
      if (!key || key === 'file' || raw === '') return;
      if (key === 'ageMonths') record[key] = Number(raw);
      else if (key === 'pixelSpacingMm') {
        const parts = raw.split(/[\\/x ]+/).map(Number);
        record[key] = parts.length === 1 ? [parts[0], parts[0]] : parts;
      } else record[key] = raw;
    });
    const file = (fields[fileIndex] ?? '').trim();
    if (file === '') throw new MetadataError(label, 'empty file name');
    out.set(file, parseSidecar(record, label));
  }
  return out;
}
