/**
 * The project's one CSV reader (src/radiograph) as the tasks' labels and manifests use it: a file that breaks the
 * CSV format or lacks a column is a {@link LabelsError} naming the file and line, like every other labels problem.
 */
import { CsvError, parseCsvTable, type CsvTable } from '../radiograph/index.js';
import { LabelsError } from './errors.js';

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
