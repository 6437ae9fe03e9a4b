import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';

/** `physis version`: the package version and Node runtime, for bug reports and model cards. */
export const versionCommand: Command = {
  name: 'version',
  summary: 'print the Physis version',
  usage: 'usage: physis version [--json]\n\nexample:\n  $ physis version\n  physis 0.1.0 (node v20.20.2)',
  options: {},
  allowPositionals: false,
  run(_args, out) {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    out.result({ version: pkg.version, node: process.version }, `physis ${pkg.version} (node ${process.version})`);
    return Promise.resolve(0);
  },
};
