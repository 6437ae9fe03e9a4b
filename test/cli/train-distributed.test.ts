/**
 * `physis train --nproc-per-node 2` end to end on real films (tiny: 24 training films at 64 px): rank 1 is killed
 * in the second epoch, so the launcher must exit 1 naming it; `--resume` then finishes the run from rank 0's
 * checkpoint with two processes again, and `physis predict` answers with the bundle. Each rank loads through a worker
 * thread (`--workers 1`), as a rank started with `node -e` could not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readBoneAgeLabels } from '../../src/tasks/hand-bone-age/index.js';
import { cudaDeviceCount, distributedBackends } from '../../src/torch/index.js';
import { startCli, type CliExit } from '../helpers/cli-process.js';

const DATA = resolve('../shared/data/rsna-hand');
const LABELS = join(DATA, 'labels.csv');
const skip = !existsSync(LABELS)
  ? `no ${LABELS} (../shared absent)`
  : distributedBackends().includes('gloo')
    ? false
    : 'the addon was built without c10d Gloo';

/** The CLI in a child process; `whileRunning` may act on it (e.g. kill one of its workers). */
function run(argv: string[], whileRunning?: (pid: number) => Promise<void>): Promise<CliExit> {
  const cli = startCli(argv);
  if (whileRunning !== undefined && cli.child.pid !== undefined) void whileRunning(cli.child.pid);
  return cli.done;
}

/** The pid of the launcher's worker with RANK=`rank` (a child of the launcher this test started), or null. */
function workerPid(launcher: number, rank: number): number | null {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(launcher)], { encoding: 'utf8' });
  for (const pid of ps.stdout.split('\n').map((s) => Number(s.trim())).filter((n) => n > 0)) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return pid;
    } catch {
      // the process ended between ps and the read
    }
  }
  return null;
}

void test('physis train --nproc-per-node 2: a killed rank fails the run naming it; --resume finishes it; predict answers with the bundle', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-ddp-'));
  try {
    const bundle = join(dir, 'bundle');
    const args = ['train', 'hand-bone-age', '--data', DATA, '--size', '64', '--epochs', '3', '--batch', '8', '--limit', '24', '--no-augment', '--workers', '1', '--out', bundle, '--nproc-per-node', '2'];
    // checkpoint.json is written last, atomically, after the weight files: only then is there a checkpoint to resume
    const checkpoint = join(bundle, 'checkpoint', 'checkpoint.json');
    let killed = false;
    const first = await run(args, async (launcher) => {
      // once epoch 1's checkpoint is on disk, rank 1 dies in epoch 2
      for (let i = 0; i < 3000 && !existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 50));
      const pid = workerPid(launcher, 1);
      if (pid !== null) {
        process.kill(pid, 'SIGKILL');
        killed = true;
      }
    });
    assert.ok(killed, `rank 1 was not found to kill; stderr: ${first.stderr}`);
    assert.equal(first.code, 1, first.stderr);
    assert.match(first.stderr, /WorkerFailedError: rank 1 of 2 failed \(signal SIGKILL\); the other ranks were stopped/);
    assert.equal(existsSync(join(bundle, 'card.json')), false, 'no bundle from the failed run');

    const resumed = await run([...args, '--resume', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const result = JSON.parse(resumed.stdout.trim().split('\n').pop() ?? '{}') as { bundle: string; epochsRun: number };
    assert.equal(result.bundle, bundle);
    const log = readFileSync(join(bundle, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
    assert.deepEqual(log, [0, 1, 2], 'epoch 1 from the first run, epochs 2 and 3 from the resumed one, written once (rank 0)');
    const card = JSON.parse(readFileSync(join(bundle, 'card.json'), 'utf8')) as { trainingData: { summary: string; command: string } };
    assert.match(card.trainingData.summary, /data-parallel over 2 processes \(global batch 8 = 2 × 4; batch norm normalised each rank's batch alone/);
    assert.match(card.trainingData.command, /--nproc-per-node 2$/);
    assert.deepEqual(readdirSync(bundle).filter((f) => f.startsWith('train.jsonl')), ['train.jsonl']);

    const hand = readBoneAgeLabels(LABELS).find((r) => r.split === 'train')?.path ?? '';
    const p = await run(['predict', '--no-gate', hand, '--bundle', bundle, '--json']);
    assert.equal(p.code, 0, p.stderr);
    const answer = JSON.parse(p.stdout.trim().split('\n').pop() ?? '{}') as { answer?: { boneAgeMonthsBySex?: { F?: number } }; model?: { dir?: string } };
    assert.equal(answer.model?.dir, bundle);
    assert.ok(Number.isFinite(answer.answer?.boneAgeMonthsBySex?.F), p.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const gpus = cudaDeviceCount();

void test('physis train --device cuda --nproc-per-node 2 on a node with fewer GPUs than ranks: one line naming the GPUs, exit 1, no run', { skip: gpus >= 2 ? `this machine has ${gpus} GPUs: the command would train` : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-ddp-gpu-'));
  try {
    const out = join(dir, 'bundle');
    const r = await run(['train', 'hand-bone-age', '--data', LABELS, '--device', 'cuda', '--nproc-per-node', '2', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`TrainConfigError: --nproc-per-node 2 on GPUs needs one GPU per rank; this node has ${gpus}`));
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
