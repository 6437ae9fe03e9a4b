/**
 * Running the CLI in this process with its output captured, and the shape of predict's JSON lines as the tests read
 * them (a FilmResult whose answer has the hand-bone-age fields).
 */
import { main } from '../../src/cli/main.js';
import type { FilmResult } from '../../src/tasks/index.js';

/** What one CLI run printed and returned. */
export interface Captured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `physis <argv>` through main() with stdout and stderr captured. The CLI writes strings; the test runner's own
 * (binary) reports pass through untouched. One at a time: it swaps process.stdout.write.
 * @param argv - the arguments after `physis`
 */
export async function capture(argv: string[]): Promise<Captured> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((c: string | Uint8Array) =>
    typeof c === 'string' ? ((stdout += c), true) : out(c)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) =>
    typeof c === 'string' ? ((stderr += c), true) : err(c)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** A 90% interval in months. */
export interface Interval {
  readonly lowMonths: number;
  readonly highMonths: number;
}

/** The hand-bone-age answer fields the tests read. */
export interface HandAnswer {
  readonly boneAgeMonths?: number;
  readonly boneAgeMonthsBySex?: { readonly M: number; readonly F: number };
  readonly interval90?: Interval;
  readonly interval90BySex?: { readonly M: Interval; readonly F: Interval };
  readonly interval90Missing?: string;
  readonly interval90Method?: string;
  readonly sex: string | null;
  readonly sexSource: string;
  readonly memberPredictions?: readonly {
    readonly id: string;
    readonly boneAgeMonths?: number;
    readonly boneAgeMonthsBySex?: { readonly M: number; readonly F: number };
  }[];
  readonly memberSdMonths?: number;
  readonly memberSdMonthsBySex?: { readonly M: number; readonly F: number };
}

/** One JSON line of `physis predict --json` / `physis explain --json`. */
export type Line = Omit<FilmResult, 'answer'> & { readonly answer?: HandAnswer };

/** The JSON lines of a run's stdout. @param stdout - captured stdout */
export function jsonLines(stdout: string): Line[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);
}
