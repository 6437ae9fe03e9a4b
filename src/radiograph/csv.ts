/**
 * The project's one CSV reader, for labels files, manifests and per-image metadata.
 *
 * Why our own: these files are small (thousands of rows) and a dependency is not worth it, but quoted fields
 * (file names with commas, multi-line notes), doubled quotes, CRLF line ends from spreadsheet exports and a
 * UTF-8 byte-order mark (Excel's "CSV UTF-8") must all work (RFC 4180, section 2). Every record keeps the line it
 * starts on, so errors further up (a bad value in row 812) can name `file:line`.
 */
import { CsvError } from './errors.js';

/** One parsed record with the 1-based line number, in the file, of its first character. */
export interface CsvRecord {
  readonly line: number;
  readonly fields: readonly string[];
}

/**
 * Split CSV text into records (RFC 4180): fields separated by commas, records by LF, CRLF or CR; a field that
 * starts with `"` is quoted and may hold commas, line breaks and doubled quotes. Blank lines are skipped and a
 * leading UTF-8 BOM is ignored; fields are not trimmed.
 * @param text - the file's contents
 * @param source - file name (or label) for error messages
 * @throws CsvError naming `source:line` for a quote inside an unquoted field or an unterminated quoted field
 *
 * @example
 * parseCsv('file,sex\r\n"a, b.png",F\r\n', 'labels.csv');
 * // -> [{ line: 1, fields: ['file', 'sex'] }, { line: 2, fields: ['a, b.png', 'F'] }]
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
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted))
      records.push({ line: recordLine, fields });
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
        // A line break inside quotes belongs to the field, but later records still need true line numbers.
        if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) line++;
        field += c;
      }
    } else if (c === '"') {
      if (field !== '') throw new CsvError(source, line, 'a quote inside an unquoted field');
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
  if (quoted) throw new CsvError(source, recordLine, 'unterminated quoted field');
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

/** A CSV with a header: column name (trimmed) -> field index, and the data records after the header. */
export interface CsvTable {
  readonly columns: ReadonlyMap<string, number>;
  readonly records: readonly CsvRecord[];
}

/**
 * Parse CSV text whose first record is a header; every data record must have the header's width, so a
 * shifted column (an unquoted comma in a file name) fails at its line instead of mislabelling a film.
 * @param text - the file's contents
 * @param source - file name (or label) for error messages
 * @param requiredColumns - columns that must be present (compared with the trimmed header names)
 * @throws CsvError for an empty file, a missing or repeated column, a ragged record, or a parseCsv error
 *
 * @example
 * const { columns, records } = parseCsvTable('file,sex\nx.png,M\n', 'labels.csv', ['file']);
 * // columns.get('sex') -> 1; records[0] -> { line: 2, fields: ['x.png', 'M'] }
 */
export function parseCsvTable(text: string, source: string, requiredColumns: readonly string[]): CsvTable {
  const [header, ...records] = parseCsv(text, source);
  if (!header) {
    throw new CsvError(source, null, `empty file; expected a header with ${requiredColumns.join(', ')}`);
  }
  const columns = new Map<string, number>();
  header.fields.forEach((name, i) => {
    const key = name.trim();
    if (columns.has(key)) throw new CsvError(source, header.line, `column '${key}' appears twice`);
    columns.set(key, i);
  });
  const missing = requiredColumns.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw new CsvError(
      source,
      header.line,
      `missing column(s) ${missing.join(', ')}; header is ${header.fields.join(',')}`,
    );
  }
  for (const r of records) {
    if (r.fields.length !== header.fields.length) {
      throw new CsvError(source, r.line, `${r.fields.length} fields, the header has ${header.fields.length}`);
    }
  }
  return { columns, records };
}

/**
 * One CSV field as RFC 4180 writes it: quoted (with doubled quotes) when it holds a comma, quote or line break, as is
 * otherwise; what {@link parseCsv} reads back unchanged.
 * @param value - the field's text
 */
export function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
