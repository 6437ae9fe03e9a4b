/**
 * The prediction manifest: a CSV with a `file` column (relative to the CSV) and optionally one column per task input
 * (e.g. `sex`), read with the project's one CSV reader. Values stay raw here; each input's own parser checks them
 * when the film is analysed, so a bad value fails that film only.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { checkFileColumn, labelsTable, readLabelsText } from './labels-table.js';

/** One film to analyse, with its manifest columns. */
export interface ManifestEntry {
  readonly file: string;
  /** The file's path (relative ones resolved against the CSV's folder). */
  readonly path: string;
  /** Every other column, raw. */
  readonly columns: Readonly<Record<string, string>>;
  /** `<csv>:<line>`, for messages. */
  readonly source: string;
}

/**
 * Read a manifest.
 * @param csvPath - the manifest file
 */
export function readManifest(csvPath: string): ManifestEntry[] {
  const { columns, records } = labelsTable(readLabelsText(csvPath, 'the manifest'), csvPath, ['file']);
  const base = dirname(resolve(csvPath));
  const fileIndex = columns.get('file') as number;
  const seen = new Map<string, number>();
  return records.map((r) => {
    const file = (r.fields[fileIndex] ?? '').trim();
    checkFileColumn(file, { source: csvPath, line: r.line }, seen);
    const rest: Record<string, string> = {};
    for (const [name, i] of columns) if (name !== 'file') rest[name] = (r.fields[i] ?? '').trim();
    return { file, path: isAbsolute(file) ? file : resolve(base, file), columns: rest, source: `${csvPath}:${r.line}` };
  });
}
