/**
 * Append-only JSON Lines log of a training run, one object per epoch.
 *
 * Why: a JSONL file survives a crash (every line is complete on its own), can be tailed while training
 * runs and loads into any analysis tool; a resumed run appends to the same file.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Appends records to a `.jsonl` file. */
export class JsonlLogger {
  /** @param path - the log file; its folder is created */
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Append one record as one line (NaN and Infinity become null). @param record - a JSON-able object */
  log(record: Readonly<Record<string, unknown>>): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

/**
 * Read every record of a JSONL file; a truncated last line (from a crash mid-write) is skipped.
 * @param path - the log file
 */
export function readJsonl(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const out: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      if (i !== lines.length - 1) throw new Error(`${path}: line ${i + 1} is not JSON: ${(error as Error).message}`);
    }
  });
  return out;
}
