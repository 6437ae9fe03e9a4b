/**
 * Fuzz: mutate real corpus files (bit flips, truncation, length fields) with a seeded PRNG and require every
 * result to be a decoded image or a typed RadiographError — no other exception, no hang (per-case timeout in a
 * worker that is killed), no runaway allocation. 1000 cases by default (about 30 s); PHYSIS_SLOW=1 runs 5000.
 * Without ../shared/data the corpus is synthetic DICOMs written in code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { SHARED_DICOM, corpus, mutate, prng } from './fuzz-mutations.js';
import type { FuzzCase, FuzzOutcome } from './fuzz-worker.js';

const ITERATIONS = process.env['PHYSIS_SLOW'] === '1' ? 5000 : 1000;
const CASE_TIMEOUT_MS = 20_000;
const MAX_ARRAY_BUFFERS = 2 * 1024 ** 3;
const SEED = 0x5eed2026;

void test(`fuzz: ${ITERATIONS} mutated files decode or fail with a typed error, without hangs or runaway memory`, async (t) => {
  const files = corpus();
  if (!existsSync(SHARED_DICOM)) t.diagnostic('../shared/data/dicom absent: fuzzing synthetic DICOMs only');
  const rand = prng(SEED);
  let worker = new Worker(new URL('./fuzz-worker-entry.mjs', import.meta.url));
  const counts = { decoded: 0, 'typed-error': 0 };
  let maxArrayBuffers = 0;
  try {
    for (let id = 0; id < ITERATIONS; id++) {
      const source = files[Math.floor(rand() * files.length)];
      assert.ok(source);
      const { bytes, how } = mutate(source.bytes, rand);
      const label = `${source.name} #${id} (${how})`;
      const outcome = await new Promise<FuzzOutcome | 'timeout' | Error>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), CASE_TIMEOUT_MS);
        const onMessage = (m: FuzzOutcome): void => {
          if (m.id !== id) return;
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('error', onError);
          resolve(m);
        };
        const onError = (e: Error): void => {
          clearTimeout(timer);
          worker.off('message', onMessage);
          resolve(e);
        };
        worker.on('message', onMessage);
        worker.once('error', onError);
        const c: FuzzCase = { id, label, bytes };
        worker.postMessage(c);
      });
      if (outcome === 'timeout' || outcome instanceof Error) {
        await worker.terminate();
        worker = new Worker(new URL('./fuzz-worker-entry.mjs', import.meta.url));
        assert.fail(
          `${label}: ${outcome === 'timeout' ? `no answer within ${CASE_TIMEOUT_MS} ms (hang)` : `worker died: ${outcome.message}`}`,
        );
      }
      assert.notEqual(outcome.kind, 'other-error', `${label}: untyped failure: ${outcome.detail}`);
      if (outcome.kind === 'decoded' || outcome.kind === 'typed-error') counts[outcome.kind]++;
      maxArrayBuffers = Math.max(maxArrayBuffers, outcome.arrayBuffersBytes);
      assert.ok(
        outcome.arrayBuffersBytes < MAX_ARRAY_BUFFERS,
        `${label}: ${outcome.arrayBuffersBytes} bytes of array buffers held`,
      );
    }
  } finally {
    await worker.terminate();
  }
  t.diagnostic(
    `${files.length} corpus files, ${ITERATIONS} cases: ${counts.decoded} decoded, ${counts['typed-error']} typed errors; peak array buffers ${(maxArrayBuffers / 2 ** 20).toFixed(0)} MiB`,
  );
  // Both outcomes must occur, or the mutations are not exercising anything.
  assert.ok(counts.decoded > 0 && counts['typed-error'] > 0);
});
