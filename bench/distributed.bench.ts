/**
 * Data-parallel training against intra-op threads on the same cores: a training epoch of `physis train
 * hand-bone-age` (the default recipe's network, loader and augmentation) on the RSNA films at 100 px, run as
 * 2 processes × 1 engine thread (`--nproc-per-node 2 --threads 1`: each rank half of every batch, gradients averaged
 * over c10d Gloo) and as 1 process × 2 engine threads (`--threads 2`), one after the other in the same run, each with
 * one loader worker per process and the same global batch.
 *
 * Time = the warm epoch's seconds from train.jsonl (epoch 2 of 2: films decoded and cached in epoch 1), which includes
 * the dev pass (every rank evaluates the dev split) and rank 0's checkpoint. Ratio = 2-process seconds ÷ 1-process
 * seconds. Target: ≤ 1.0 (data parallelism on this machine's cores is no slower than threading the same ops).
 * Needs ../shared/data/rsna-hand-lowres; the machine should be otherwise idle.
 *
 * usage: npm run bench -- distributed [films]   (default 512 training films, 32 dev films, 2 epochs)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { handBoneAge } from '../src/tasks/index.js';

const DATA = resolve('../shared/data/rsna-hand-lowres/labels.csv');
const FILMS = Number(process.argv[2] ?? 512);
const DEV_FILMS = 32;
const EPOCHS = 2;
const TARGET = 1.0;
const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

if (!existsSync(DATA)) {
  console.log(`skipped: ${DATA} is absent (the RSNA films at 100 px)`);
  process.exit(0);
}
const rows = handBoneAge.readBoneAgeLabels(DATA);
const train = rows.filter((r) => r.split === 'train').slice(0, FILMS);
const dev = rows.filter((r) => r.split === 'dev').slice(0, DEV_FILMS);
const dir = mkdtempSync(join(tmpdir(), 'physis-ddp-bench-'));

/** Seconds of each epoch of one `physis train` run, from its JSONL log. */
function epochSeconds(name: string, extra: string[]): number[] {
  const out = join(dir, name);
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', 'train', 'hand-bone-age', '--data', join(dir, 'labels.csv'), '--epochs', String(EPOCHS), '--workers', '1', '--out', out, ...extra],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return readFileSync(join(out, 'train.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seconds: number }).seconds);
}

try {
  writeFileSync(
    join(dir, 'labels.csv'),
    ['file,sex,boneage_months,split', ...[...train, ...dev].map((r) => `${r.path},${r.sex},${r.boneAgeMonths},${r.split ?? ''}`)].join('\n'),
  );
  const threaded = epochSeconds('threads', ['--threads', '2']);
  const parallel = epochSeconds('ddp', ['--threads', '1', '--nproc-per-node', '2']);
  const warm = (xs: number[]): number => xs[xs.length - 1] ?? NaN;
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`${train.length} training films + ${dev.length} dev films at 100 px, hand-bone-age default recipe, ${EPOCHS} epochs, 1 loader worker per process`);
  console.log(`1 process  × 2 threads: epoch seconds ${fmt(threaded)}`);
  console.log(`2 processes × 1 thread: epoch seconds ${fmt(parallel)}`);
  console.log(`BENCH distributed ratio=${(warm(parallel) / warm(threaded)).toFixed(3)} target=${TARGET}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
