/**
 * Metadata for research PNG/JPEG collections from a CSV (one row per image), validated like a sidecar.
 * Only columns that mean chronological/clinical facts are mapped: a label column such as RSNA's
 * `boneage_months` is a *reading*, not the patient's age, and is deliberately not taken as `ageMonths`.
 */
import { readFileSync } from 'node:fs';
import { MetadataError } from './errors.js';
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
 * Split CSV text into rows of fields (RFC 4180: quoted fields, doubled quotes, CRLF or LF).
 * @param text - the CSV
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f.length > 0)) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f.length > 0)) rows.push(row);
  return rows;
}

/**
 * Read per-image metadata from a CSV with a header row; returns file (as written in the CSV) -> metadata.
 * Unknown columns are ignored; a malformed value is a MetadataError naming the CSV line.
 * @param path - the CSV file
 */
export function readMetadataCsv(path: string): Map<string, SidecarMetadata> {
  const rows = parseCsv(readFileSync(path, 'utf8'));
  const header = rows[0];
  if (!header) throw new MetadataError(path, 'CSV is empty');
  const keys = header.map((h) => COLUMNS[h.trim().toLowerCase()]);
  const fileIndex = keys.indexOf('file');
  if (fileIndex < 0) throw new MetadataError(path, `CSV has no file column (one of: file, filename, path)`);
  const out = new Map<string, SidecarMetadata>();
  rows.slice(1).forEach((row, r) => {
    const label = `${path}:${r + 2}`;
    const record: Record<string, unknown> = {};
    keys.forEach((key, c) => {
      const raw = (row[c] ?? '').trim();
      if (!key || key === 'file' || raw === '') return;
      if (key === 'ageMonths') record[key] = Number(raw);
      else if (key === 'pixelSpacingMm') {
        const parts = raw.split(/[\\/x ]+/).map(Number);
        record[key] = parts.length === 1 ? [parts[0], parts[0]] : parts;
      } else record[key] = raw;
    });
    const file = (row[fileIndex] ?? '').trim();
    if (file === '') throw new MetadataError(label, 'empty file name');
    out.set(file, parseSidecar(record, label));
  });
  return out;
}
