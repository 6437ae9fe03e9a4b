/**
 * The one place the CLI writes to the terminal.
 *
 * Why: library code never prints (lint forbids console in src/); commands hand results here so that
 * `--json` output stays machine-readable (one JSON document per line on stdout) and human output,
 * progress and errors go where a person expects them (progress and errors on stderr).
 */
export interface Output {
  /** Whether the user asked for `--json`. */
  readonly json: boolean;
  /** A result: a JSON line with `--json`, otherwise the human text. */
  result(value: unknown, human: string): void;
  /** Informational line for people; suppressed in JSON mode so stdout stays parseable. */
  info(line: string): void;
  /** A warning, always on stderr. */
  warn(line: string): void;
  /** A transient progress line on stderr (overwritten in a TTY). */
  progress(line: string): void;
}

/** Create the terminal output for one CLI invocation. @param json - emit JSON lines on stdout */
export function createOutput(json: boolean): Output {
  const tty = process.stderr.isTTY === true;
  let progressShown = false;
  const clearProgress = (): void => {
    if (progressShown && tty) process.stderr.write('\r\x1b[K');
    progressShown = false;
  };
  return {
    json,
    result(value, human) {
      clearProgress();
      process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
    },
    info(line) {
      clearProgress();
      if (!json) process.stdout.write(`${line}\n`);
    },
    warn(line) {
      clearProgress();
      process.stderr.write(`warning: ${line}\n`);
    },
    progress(line) {
      if (tty) {
        process.stderr.write(`\r\x1b[K${line}`);
        progressShown = true;
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
  };
}

/**
 * One human-readable line for any error: `physis: <ErrorName>: <message>`.
 * Typed errors set `name` (e.g. `UnsupportedTransferSyntaxError`), so the name alone tells the cause.
 */
export function formatError(error: unknown): string {
  if (error instanceof Error) {
    const message = error.message.replace(/\s*\n\s*/g, ' ').trim();
    return `physis: ${error.name}: ${message}`;
  }
  return `physis: ${String(error)}`;
}
