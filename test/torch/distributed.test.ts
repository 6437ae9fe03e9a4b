/**
 * c10d through the addon: collectives' values, DDP-style training equivalence, and failure of a dead or stalled rank.
 * Each rank is its own process (test/torch/helpers/distributed-worker.ts), as in real data-parallel training.
 *
 * Equivalence: 2 processes at batch B/2 with averaged gradients against 1 process at batch B, same data and
 * initial weights, float32, one engine thread each. The only difference is the order in which the per-item
 * gradients are summed, so the weights must agree to TOLERANCE (absolute, weights of order 0.1–1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distributedBackends } from '../../src/torch/index.js';
import { freePort } from '../../src/train/index.js';

const WORKER = fileURLToPath(new URL('./helpers/distributed-worker.ts', import.meta.url));
/** Largest |Δw| allowed between 2 × B/2 and 1 × B (float32 summation order only). */
const TOLERANCE = 1e-5;
const skip = distributedBackends().includes('gloo') ? false : 'the addon was built without c10d Gloo (libgloo-dev missing at build time)';

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly result: Record<string, unknown> | null;
  readonly stderr: string;
}

function runRank(spec: Record<string, unknown>): Promise<Run> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
      env: { ...process.env, PHYSIS_TEST_DIST: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code, signal) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      resolveRun({ code, signal, result: line === '' ? null : (JSON.parse(line) as Record<string, unknown>), stderr });
    });
  });
}

async function runGroup(worldSize: number, spec: Record<string, unknown>): Promise<Run[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) => runRank({ ...spec, rank, worldSize, port })));
}

function maxAbsDiff(a: Record<string, unknown>, b: Record<string, unknown>): number {
  let worst = 0;
  for (const [k, v] of Object.entries(a)) {
    const w = b[k] as number[];
    assert.ok(Array.isArray(w), `parameter ${k} missing`);
    (v as number[]).forEach((x, i) => (worst = Math.max(worst, Math.abs(x - (w[i] ?? NaN)))));
  }
  return worst;
}

void test('allReduce sums one tensor and a list of mixed shapes in place; broadcast takes the root\'s values; barrier returns', { skip }, async () => {
  const runs = await runGroup(2, { scenario: 'collectives' });
  for (const [rank, r] of runs.entries()) {
    assert.equal(r.code, 0, r.stderr);
    const v = r.result as Record<string, unknown>;
    assert.deepEqual(v['one'], [3, 30]);
    assert.deepEqual(v['a'], [3, 6, 9, 12, 15, 18]);
    assert.deepEqual(v['b'], [1]);
    assert.deepEqual(v['c'], [3, 9, 6, 12]); // the transposed view's element order
    assert.deepEqual(v['root'], [107, -1]);
    assert.equal(v['rank'], rank);
    assert.equal(v['size'], 2);
  }
});

void test(`2 processes × batch 4 give the weights of 1 process × batch 8 (SGD with momentum, AdamW; 4 steps; |Δ| ≤ ${TOLERANCE})`, { skip }, async () => {
  const spec = { scenario: 'train', globalBatch: 8, steps: 4 };
  const [single, pair] = await Promise.all([runGroup(1, spec), runGroup(2, spec)]);
  const ref = single[0] as Run;
  assert.equal(ref.code, 0, ref.stderr);
  for (const r of pair) assert.equal(r.code, 0, r.stderr);
  const [r0, r1] = pair as [Run, Run];
  for (const optimizer of ['sgd', 'adamw']) {
    const w0 = (r0.result ?? {})[optimizer] as Record<string, unknown>;
    const w1 = (r1.result ?? {})[optimizer] as Record<string, unknown>;
    const w = (ref.result ?? {})[optimizer] as Record<string, unknown>;
    assert.equal(maxAbsDiff(w0, w1), 0, `${optimizer}: the two ranks must hold identical weights`);
    const diff = maxAbsDiff(w, w0);
    process.stderr.write(`# ${optimizer}: max |w(2 × 4) − w(1 × 8)| = ${diff.toExponential(2)}\n`);
    assert.ok(diff <= TOLERANCE, `${optimizer}: max |Δw| ${diff} > ${TOLERANCE}`);
    // the steps moved the weights, so the agreement is not that of two untouched copies
    assert.ok(maxAbsDiff((ref.result ?? {})['init'] as Record<string, unknown>, w) > 1e-3, `${optimizer}: the weights did not move`);
  }
});

void test('a rank that dies makes the survivor fail with a DistributedError at once', { skip }, async () => {
  const timeoutMs = 3000;
  const [r0, r1] = (await runGroup(2, { scenario: 'die', timeoutMs })) as [Run, Run];
  assert.equal(r1.signal, 'SIGKILL');
  assert.equal(r0.code, 0, r0.stderr);
  const v = r0.result as { error: string; ms: number };
  assert.match(v.error, /^DistributedError: all_reduce on rank 0 of 2 \(gloo, timeout 3000 ms\): .+/);
  assert.ok(v.ms < timeoutMs, `failed after ${v.ms} ms`);
});

void test('a rank that stalls makes the other fail with Gloo\'s timeout error within the timeout (plus slack)', { skip }, async () => {
  const timeoutMs = 1500;
  const [r0, r1] = (await runGroup(2, { scenario: 'stall', timeoutMs })) as [Run, Run];
  assert.equal(r0.code, 0, r0.stderr);
  const v = r0.result as { error: string; ms: number };
  assert.match(v.error, /^DistributedError: all_reduce on rank 0 of 2 \(gloo, timeout 1500 ms\): .*[Tt]imed out/);
  assert.ok(v.ms >= timeoutMs * 0.9 && v.ms < timeoutMs + 2000, `failed after ${v.ms} ms`);
  assert.notEqual(r1.code, null);
});
