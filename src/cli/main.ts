/**
 * `physis` command-line entry point: dispatches to sub-commands, prints one-line errors on stderr
 * and returns a non-zero exit code on failure.
 *
 * @example
 * $ physis inspect ../shared/data/dicom --json
 */
// first, before anything loads the engine: thread pools read their size from the environment when they load
import './thread-env.js';
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands/index.js';
import { UsageError } from './command.js';
import { createOutput, formatError } from './output.js';

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: physis <command> [options]', '', 'commands:', ...lines, '', 'physis <command> --help for details'].join(
    '\n',
  );
}

/** Run the CLI with argv (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${helpText()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`physis: UsageError: unknown command '${name}'\n${helpText()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  const json = rest.includes('--json');
  const out = createOutput(json);
  try {
    const parsed = parseArgs({
      args: rest,
      options: { ...command.options, json: { type: 'boolean' } },
      allowPositionals: command.allowPositionals,
      strict: true,
    });
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, out);
  } catch (error) {
    const isUsage =
      error instanceof UsageError ||
      (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'));
    if (isUsage) {
      process.stderr.write(`physis: UsageError: ${(error as Error).message}\n${command.usage}\n`);
      return 2;
    }
    process.stderr.write(`${formatError(error)}\n`);
    if (process.env['PHYSIS_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
