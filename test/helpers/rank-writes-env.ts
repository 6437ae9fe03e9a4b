/**
 * A rank program for the launcher test: writes the GPUs it was given (CUDA_VISIBLE_DEVICES, or "unset") to
 * `<dir>/rank-<RANK>.txt` and returns 0. Why: checks what the launcher put in each rank's environment.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @param argv - [the folder to write into] */
export function main(argv: readonly string[]): number {
  const dir = argv[0];
  if (dir === undefined) return 2;
  writeFileSync(join(dir, `rank-${process.env['RANK'] ?? '?'}.txt`), process.env['CUDA_VISIBLE_DEVICES'] ?? 'unset');
  return 0;
}
