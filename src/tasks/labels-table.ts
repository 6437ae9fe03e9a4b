/**
 * The project's one CSV reader (src/radiograph) as the tasks' labels and manifests use it: a file that breaks the
 * CSV format or lacks a column is a {@link LabelsError} naming the file and line, like every other labels problem.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parseCsvTable, type CsvTable } from '../radiograph/index.js';
import { LabelsError } from './errors.js';

/**
 * A labels or manifest file's text.
 * @param csvPath - the file
 * @param what - what it is, for the message (`labels`, `the manifest`)
 * @throws LabelsError naming the file when it cannot be read
 */
export function readLabelsText(csvPath: string, what = 'labels'): string {
  try {
    return readFileSync(csvPath, 'utf8');
  } catch (e) {
    throw new LabelsError(`${csvPath}: cannot read ${what} (${(e as Error).message})`);
  }
}

/**
 * Check a row's `file` value: not empty and not listed before.
 * @param file - the value
 * @param where - the file and line, for messages
 * @param line - the row's line
 * @param seen - files seen so far (updated)
 */
export function checkFileColumn(file: string, where: { source: string; line: number }, seen: Map<string, number>): void {
  const at = `${where.source}:${where.line}`;
  if (file === '') throw new LabelsError(`${at}: empty 'file'`);
  const before = seen.get(file);
  if (before !== undefined) throw new LabelsError(`${at}: file '${file}' is listed again (first on line ${before})`);
  seen.set(file, where.line);
}

/**
 * Parse a labels or manifest CSV with a header.
 * @param text - the file's contents
 * @param source - its path, for messages
 * @param required - columns that must be present
 * @throws LabelsError (caused by the reader's CsvError) for malformed CSV or a missing column
 */
export function labelsTable(text: string, source: string, required: readonly string[]): CsvTable {
  try {
    return parseCsvTable(text, source, required);
  } catch (e) {
    if (e instanceof CsvError) throw new LabelsError(e.message, { cause: e });
    throw e;
  }
}
