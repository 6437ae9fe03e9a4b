#!/usr/bin/env node
// `npm run bench -- <name>` runs bench/<name>.bench.ts. Each benchmark measures Physis and its reference
// side by side in the same run and ends with `BENCH <name> ratio=<x> target=<t>`.
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const name = process.argv[2];
const available = readdirSync('bench').filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace('.bench.ts', ''));
if (!name || !existsSync(`bench/${name}.bench.ts`)) {
  console.error(`usage: npm run bench -- <name>; available: ${available.join(', ') || 'none'}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.bench.ts`, ...process.argv.slice(3)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
