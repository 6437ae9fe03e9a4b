/**
 * Fuzz: mutate real corpus files (bit flips, truncation, length fields) with a seeded PRNG and require every
 * result to be a decoded image or a typed RadiographError — no other exception, no hang (per-case timeout in a
 * worker that is killed), no runaway allocation. 1000 cases by default (about 30 s); PHYSIS_SLOW=1 runs 5000.
 * Without ../shared/data the corpus is synthetic DICOMs written in code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TS, writeImage } from './dicom-writer.js';
import type { FuzzCase, FuzzOutcome } from './fuzz-worker.js';

const SHARED_DICOM = fileURLToPath(new URL('../../../shared/data/dicom', import.meta.url));
const SAMPLE_PNG = fileURLToPath(new URL('../../samples/hand-0.png', import.meta.url));
const ITERATIONS = process.env['PHYSIS_SLOW'] === '1' ? 5000 : 1000;
const CASE_TIMEOUT_MS = 20_000;
const MAX_ARRAY_BUFFERS = 2 * 1024 ** 3;
const SEED = 0x5eed2026;

/** mulberry32: a small seeded PRNG, so a failing case is reproducible from its index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  for (const [name, ts] of Object.entries(TS)) {
    const values = Array.from({ length: 64 }, (_, i) => (i * 977) % 4096);
    out.push({
      name: `synthetic_u12_8x8_${name}.dcm`,
      bytes: writeImage({
        rows: 8,
        columns: 8,
        bitsStored: 12,
        values,
        transferSyntax: ts,
        windows: [{ center: 2048, width: 4096 }],
      }),
    });
  }
  if (existsSync(SHARED_DICOM)) {
    for (const name of readdirSync(SHARED_DICOM).sort()) {
      const p = join(SHARED_DICOM, name);
      // Keep the default run quick: files up to 600 kB (every transfer syntax is represented among them).
      if (name.endsWith('.dcm') && statSync(p).size <= 600_000)
        out.push({ name, bytes: new Uint8Array(readFileSync(p)) });
    }
  }
  if (existsSync(SAMPLE_PNG))
    out.push({ name: 'hand-0.png', bytes: new Uint8Array(readFileSync(SAMPLE_PNG)) });
  return out;
}

const LENGTH_VALUES = [0, 1, 0xffff, 0xfffe, 0x7fffffff, 0xffffffff, 0xfffffff0];

function mutate(source: Uint8Array, rand: () => number): { bytes: Uint8Array; how: string } {
  const bytes = source.slice();
  const pick = rand();
  if (pick < 0.4) {
    const flips = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < flips; i++) {
      const at = Math.floor(rand() * bytes.length);
      bytes[at] = (bytes[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
    }
    return { bytes, how: `${flips} bit flips` };
  }
  if (pick < 0.6) {
    const len = Math.floor(rand() * bytes.length);
    return { bytes: bytes.subarray(0, len), how: `truncated to ${len}` };
  }
  // Length fields: find element headers with an explicit VR (two capitals after the tag) and corrupt the length.
  const headers: number[] = [];
  for (let i = 0; i + 12 < bytes.length && headers.length < 4096; i += 2) {
    const a = bytes[i + 4] ?? 0;
    const b = bytes[i + 5] ?? 0;
    if (a >= 0x41 && a <= 0x5a && b >= 0x41 && b <= 0x5a) headers.push(i);
  }
  const at =
    headers.length > 0
      ? (headers[Math.floor(rand() * headers.length)] ?? 0)
      : Math.floor(rand() * Math.max(1, bytes.length - 12));
  const value = LENGTH_VALUES[Math.floor(rand() * LENGTH_VALUES.length)] ?? 0xffffffff;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (rand() < 0.5)
    dv.setUint16(at + 6, value & 0xffff, true); // short-form length
  else if (at + 12 <= bytes.length) dv.setUint32(at + 8, value >>> 0, true); // long-form length (OB, OW, SQ, UN, …)
  return { bytes, how: `length field at ${at} set to 0x${value.toString(16)}` };
}

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
