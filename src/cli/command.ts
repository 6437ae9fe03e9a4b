import type { Output } from './output.js';

/** A CLI sub-command. Parsing uses node:util parseArgs option specs so every command parses alike. */
export interface Command {
  readonly name: string;
  /** One line for `physis --help`. */
  readonly summary: string;
  /** Full usage text with a runnable example. */
  readonly usage: string;
  readonly options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  /** Whether positionals are accepted. */
  readonly allowPositionals: boolean;
  /** Run it; resolves to the process exit code. */
  run(args: ParsedArgs, out: Output): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

/** A user error in the command line itself (unknown option, missing argument). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Read a string option, or throw UsageError naming it when it is required and absent. */
export function stringOption(args: ParsedArgs, name: string, required: true): string;
export function stringOption(args: ParsedArgs, name: string, required?: false): string | undefined;
export function stringOption(args: ParsedArgs, name: string, required = false): string | undefined {
  const value = args.values[name];
  if (value === undefined) {
    if (required) throw new UsageError(`missing --${name}`);
    return undefined;
  }
  if (typeof value !== 'string') throw new UsageError(`--${name} takes a value`);
  return value;
}

/** Read an integer option with bounds; never silently defaults a malformed value. */
export function intOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(args, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  }
  return n;
}
