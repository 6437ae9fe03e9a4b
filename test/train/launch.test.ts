/**
 * The data-parallel pieces that need no second process: DistributedSampler-style sharding of the loader, the
 * torchrun environment, and what a launched rank's process can start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, distributedEnv, launchWorkers, TrainConfigError, visibleGpus } from '../../src/train/index.js';

const SHARD_CASES = [
  { name: 'items_16_batch_4_world_2', items: 16, globalBatch: 4, worldSize: 2 },
  { name: 'items_24_batch_6_world_3', items: 24, globalBatch: 6, worldSize: 3 },
  { name: 'items_10_batch_4_world_4_padded', items: 10, globalBatch: 4, worldSize: 4 },
];

for (const c of SHARD_CASES) {
  void test(`sharded loader: ${c.name}: every rank has the same number of batches, and batch k of all ranks is the single-process batch k`, () => {
    const items = Array.from({ length: c.items }, (_, i) => i);
    const base = { module: 'unused.js', items, seed: 7, shuffle: true, workers: 0 };
    const single = new DataLoader({ ...base, batchSize: c.globalBatch }).batchIndices(3);
    const ranks = Array.from({ length: c.worldSize }, (_, rank) =>
      new DataLoader({ ...base, batchSize: c.globalBatch / c.worldSize, shard: { rank, worldSize: c.worldSize } }).batchIndices(3),
    );
    const steps = ranks[0]?.length ?? 0;
    for (const r of ranks) assert.equal(r.length, steps);
    const padded = c.items % c.worldSize !== 0;
    for (let k = 0; k < steps; k++) {
      const union = ranks.flatMap((r) => r[k] ?? []).sort((a, b) => a - b);
      if (!padded) assert.deepEqual(union, [...(single[k] ?? [])].sort((a, b) => a - b));
    }
    // every item is served at least once an epoch (padding repeats the order's first items)
    assert.deepEqual([...new Set(ranks.flat(2))].sort((a, b) => a - b), items);
  });
}

void test('distributedEnv reads torchrun\'s variables, is null without RANK, and names what is missing', () => {
  assert.equal(distributedEnv({}), null);
  assert.deepEqual(distributedEnv({ RANK: '1', WORLD_SIZE: '4', MASTER_ADDR: '10.0.0.1', MASTER_PORT: '29500', LOCAL_RANK: '1', LOCAL_WORLD_SIZE: '2' }), {
    rank: 1,
    worldSize: 4,
    localRank: 1,
    localWorldSize: 2,
    masterAddr: '10.0.0.1',
    masterPort: 29500,
  });
  assert.throws(() => distributedEnv({ RANK: '0' }), /WORLD_SIZE, MASTER_ADDR and MASTER_PORT/);
  assert.throws(() => distributedEnv({ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /below WORLD_SIZE/);
});

void test('launchWorkers: a rank can start a worker thread from a file (the compiled loader does), so its execArgv holds no -e options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-launch-'));
  try {
    const script = join(dir, 'answer.mjs');
    writeFileSync(script, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('up');\n");
    const notes: string[] = [];
    await launchWorkers({
      nprocPerNode: 1,
      entry: { moduleUrl: new URL('../helpers/rank-starts-worker.ts', import.meta.url).href, argv: [script] },
      onNote: (line) => notes.push(line),
    });
    assert.deepEqual(notes, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('visibleGpus: CUDA_VISIBLE_DEVICES\'s entries where set (no more than the engine sees), else 0 … count − 1', () => {
  assert.deepEqual(visibleGpus({}, 3), ['0', '1', '2']);
  assert.deepEqual(visibleGpus({}, 0), []);
  assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '2, 5' }, 2), ['2', '5']);
  assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '2,5,7' }, 2), ['2', '5']);
  assert.deepEqual(visibleGpus({ CUDA_VISIBLE_DEVICES: '' }, 0), []);
});

void test('launchWorkers with gpuPerRank: each rank sees its own GPU; too few GPUs for the ranks is refused before any starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-launch-'));
  try {
    const entry = { moduleUrl: new URL('../helpers/rank-writes-env.ts', import.meta.url).href, argv: [dir] };
    await launchWorkers({ nprocPerNode: 2, entry, gpuPerRank: ['3', '5'] });
    assert.equal(readFileSync(join(dir, 'rank-0.txt'), 'utf8'), '3');
    assert.equal(readFileSync(join(dir, 'rank-1.txt'), 'utf8'), '5');
    rmSync(join(dir, 'rank-0.txt'));
    rmSync(join(dir, 'rank-1.txt'));
    await assert.rejects(launchWorkers({ nprocPerNode: 2, entry, gpuPerRank: ['0'] }), (e: Error) => e instanceof TrainConfigError && /one GPU per rank; this node has 1 \(0\)/.test(e.message));
    await assert.rejects(launchWorkers({ nprocPerNode: 2, entry, gpuPerRank: [] }), /one GPU per rank; this node has 0$/);
    assert.equal(existsSync(join(dir, 'rank-0.txt')), false, 'no rank started');
    // CPU training hands out no GPUs and leaves the variable as it was
    await launchWorkers({ nprocPerNode: 1, entry });
    assert.equal(readFileSync(join(dir, 'rank-0.txt'), 'utf8'), process.env['CUDA_VISIBLE_DEVICES'] ?? 'unset');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
