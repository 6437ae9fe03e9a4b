/**
 * The prediction manifest: a CSV with a `file` column (relative to the CSV) and optionally one column per task input
 * (e.g. `sex`), read with the project's one CSV reader. Values stay raw here; each input's own parser checks them
 * when the film is analysed, so a bad value fails that film only.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LabelsError } from './errors.js';
import { labelsTable } from './labels-table.js';

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
  let text: string;
  try {
    text = readFileSync(csvPath, 'utf8');
  } catch (e) {
    throw new LabelsError(`${csvPath}: cannot read the manifest (${(e as Error).message})`);
  }
  const { columns, records } = labelsTable(text, csvPath, ['file']);
  const base = dirname(resolve(csvPath));
  const fileIndex = columns.get('file') as number;
  const seen = new Map<string, number>();
  return records.map((r) => {
    const file = (r.fields[fileIndex] ?? '').trim();
    if (file === '') throw new LabelsError(`${csvPath}:${r.line}: empty 'file'`);
    const before = seen.get(file);
    if (before !== undefined) throw new LabelsError(`${csvPath}:${r.line}: file '${file}' is listed again (first on line ${before})`);
    seen.set(file, r.line);
    const rest: Record<string, string> = {};
    for (const [name, i] of columns) if (name !== 'file') rest[name] = (r.fields[i] ?? '').trim();
    return { file, path: isAbsolute(file) ? file : resolve(base, file), columns: rest, source: `${csvPath}:${r.line}` };
  });
}
