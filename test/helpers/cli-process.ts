/**
 * `physis <argv>` from the current sources in a child process (under tsx, so no build is needed), with its output
 * collected: for tests that kill, signal or race the CLI as a user's shell would.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

/** How a CLI child ended. */
export interface CliExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running CLI child: the process, its output so far, and a promise of how it ended. */
export interface CliProcess {
  readonly child: ReturnType<typeof spawn>;
  /** The non-empty stdout lines so far. */
  stdoutLines(): string[];
  stderr(): string;
  readonly done: Promise<CliExit>;
}

/**
 * Start `physis <argv>`; resolves `done` when it ends.
 * @param argv - the command line after `physis`
 * @param env - variables added to this process's environment
 */
export function startCli(argv: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliExit>((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr })));
  return { child, stdoutLines: () => stdout.split('\n').filter((l) => l.trim() !== ''), stderr: () => stderr, done };
}
