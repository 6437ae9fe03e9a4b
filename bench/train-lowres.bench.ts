/**
 * Training throughput on the RSNA films at 100 px: images per second of `physis train hand-bone-age` (the default
 * recipe's network, loader and augmentation, through the real trainer) against a plain PyTorch script's loop on the
 * same films (bench/ref/train_lowres.py: PIL decode cached per worker, torchvision-style augmentation, a DataLoader
 * with one worker, the same network, AdamW, L1), same threads, same batch, one after the other.
 *
 * Epoch 1 decodes every film (both sides cache the decoded films); the later epochs are the steady state that the
 * 30-epoch default run lives in. Ratio = PyTorch images/s ÷ Physis images/s over epochs 2..E. Target: ≤ 1.05.
 * Needs ../shared/data/rsna-hand-lowres; the machine should be otherwise idle.
 *
 * usage: npm run bench -- train-lowres [films]   (default 1536 training films, 64 dev films, 3 epochs)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getTask, handBoneAge, trainTask } from '../src/tasks/index.js';
import { applyRecipe, type ProgressEvent } from '../src/train/index.js';

const DATA = resolve('../shared/data/rsna-hand-lowres/labels.csv');
const FILMS = Number(process.argv[2] ?? 1536);
const DEV_FILMS = 64;
const EPOCHS = 3;
const THREADS = 2;

if (!existsSync(DATA)) {
  console.log(`skipped: ${DATA} is absent (the RSNA films at 100 px)`);
  process.exit(0);
}
const task = getTask('hand-bone-age');
const rows = handBoneAge.readBoneAgeLabels(DATA);
const train = rows.filter((r) => r.split === 'train').slice(0, FILMS);
const dev = rows.filter((r) => r.split === 'dev').slice(0, DEV_FILMS);
const recipe = applyRecipe(task.recipe, { set: [`epochs=${EPOCHS}`] });
const dir = mkdtempSync(join(tmpdir(), 'physis-train-bench-'));
try {
  const csv = join(dir, 'labels.csv');
  writeFileSync(csv, ['file,sex,boneage_months,split', ...[...train, ...dev].map((r) => `${r.path},${r.sex},${r.boneAgeMonths},${r.split ?? ''}`)].join('\n'));
  // per epoch: the progress events' elapsed time and image count from the end of the first step to the last step
  const first = new Map<number, ProgressEvent>();
  const last = new Map<number, ProgressEvent>();
  await trainTask(task, {
    data: csv,
    outDir: join(dir, 'bundle'),
    recipe,
    workers: 1,
    threads: THREADS,
    onProgress: (e) => {
      if (!first.has(e.epoch)) first.set(e.epoch, e);
      last.set(e.epoch, e);
    },
  });
  const physis = [...first.keys()].sort().map((e) => {
    const a = first.get(e) as ProgressEvent;
    const b = last.get(e) as ProgressEvent;
    return (b.images - a.images) / (b.elapsedSeconds - a.elapsedSeconds);
  });
  const spec = join(dir, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      threads: THREADS,
      size: recipe.inputSize,
      batch: recipe.batchSize,
      epochs: EPOCHS,
      width: 32,
      items: train.map((r) => ({ path: r.path, boneAgeMonths: r.boneAgeMonths, male: r.sex === 'M' ? 1 : 0 })),
    }),
  );
  const py = spawnSync('/usr/bin/python3', ['bench/ref/train_lowres.py', spec], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (py.status !== 0) throw new Error(`the PyTorch reference failed: ${py.stderr.trim().split('\n').pop() ?? ''}`);
  const torch = (JSON.parse(py.stdout) as { imagesPerSecond: number[] }).imagesPerSecond;
  const warm = (xs: number[]): number => xs.slice(1).reduce((s, x) => s + x, 0) / Math.max(1, xs.length - 1);
  const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
  console.log(`${train.length} films at ${recipe.inputSize} px, batch ${recipe.batchSize}, ${recipe.arch}, ${THREADS} threads, 1 loader worker`);
  console.log(`physis  images/s by epoch: ${fmt(physis)}`);
  console.log(`pytorch images/s by epoch: ${fmt(torch)}`);
  console.log(`BENCH train-lowres ratio=${(warm(torch) / warm(physis)).toFixed(3)} target=1.05`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
