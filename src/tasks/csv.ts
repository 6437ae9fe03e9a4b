/**
 * A small RFC 4180 CSV reader for labels and manifests.
 *
 * Why: labels files are tiny (thousands of rows) and a dependency is not worth it, but quoted fields
 * (file names with commas) and CRLF line ends from spreadsheet exports must work (RFC 4180, section 2).
 */
import { LabelsError } from './errors.js';

/** One parsed record with its 1-based line number in the file. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Split CSV text into records; blank lines are skipped, a UTF-8 BOM is ignored.
 * @param text - the file's contents
 * @param source - file name for error messages
 */
export function parseCsv(text: string, source: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let fieldStarted = false;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new LabelsError(`${source}:${line}: a quote inside an unquoted field`);
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new LabelsError(`${source}:${recordLine}: unterminated quoted field`);
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

/** A CSV with a header: column name → index, and the data records. */
export interface CsvTable {
  readonly columns: ReadonlyMap<string, number>;
  readonly records: readonly CsvRecord[];
}

/**
 * Parse CSV text whose first record is a header; every record must have the header's width.
 * @param text - the file's contents
 * @param source - file name for error messages
 * @param required - columns that must be present
 */
export function parseCsvTable(text: string, source: string, required: readonly string[]): CsvTable {
  const [header, ...records] = parseCsv(text, source);
  if (!header) throw new LabelsError(`${source}: empty file; expected a header with ${required.join(', ')}`);
  const columns = new Map<string, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim();
    if (columns.has(key)) throw new LabelsError(`${source}:1: column '${key}' appears twice`);
    columns.set(key, i);
  });
  const missing = required.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw new LabelsError(`${source}:1: missing column(s) ${missing.join(', ')}; header is ${header.fields.join(',')}`);
  }
  for (const r of records) {
    if (r.fields.length !== header.fields.length) {
      throw new LabelsError(`${source}:${r.line}: ${r.fields.length} fields, the header has ${header.fields.length}`);
    }
  }
  return { columns, records };
}
