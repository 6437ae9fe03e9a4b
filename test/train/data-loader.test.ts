import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, DataLoaderError, type Batch } from '../../src/train/index.js';
import { calls } from './fixtures/synthetic-sample.js';

const MODULE = new URL('./fixtures/synthetic-sample.ts', import.meta.url);
const ITEMS = Array.from({ length: 23 }, (_, i) => ({ value: i }));

async function collect(loader: DataLoader<unknown>, epoch: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.epoch(epoch)) out.push(b);
  return out;
}

void test('worker loader yields every item once per epoch, in order, collated', async () => {
  const loader = new DataLoader({ module: MODULE, items: ITEMS, batchSize: 5, workers: 2, prefetch: 3, seed: 1, moduleOptions: { scale: 2 } });
  try {
    const batches = await collect(loader, 0);
    assert.equal(loader.stepsPerEpoch, 5);
    assert.deepEqual(
      batches.map((b) => b.size),
      [5, 5, 5, 5, 3],
    );
    assert.deepEqual(
      batches.flatMap((b) => [...(b.fields['target'] ?? [])]),
      ITEMS.map((i) => i.value),
    );
    const b0 = batches[0];
    assert.ok(b0);
    assert.equal(b0.fieldLengths['image'], 8);
    assert.equal(b0.fields['image']?.length, 40);
    assert.equal(b0.fields['image']?.[8], 2, 'second sample image = value 1 × scale 2 from setup()');
    const threads = new Set(batches.flatMap((b) => [...(b.fields['thread'] ?? [])]));
    assert.ok(!threads.has(0), 'nothing was loaded on the main thread');
    assert.ok(batches.every((b) => b.fields['train']?.every((v) => v === 1)));
  } finally {
    await loader.close();
  }
});

void test('samples depend on (seed, epoch, index) only, not on workers or prefetch', async () => {
  const noise = async (workers: number, prefetch: number): Promise<number[][]> => {
    const loader = new DataLoader({ module: MODULE, items: ITEMS, batchSize: 4, workers, prefetch, seed: 7, shuffle: true });
    try {
      const e0 = await collect(loader, 0);
      const e1 = await collect(loader, 1);
      return [e0, e1].map((bs) => bs.flatMap((b) => [...(b.fields['noise'] ?? [])]));
    } finally {
      await loader.close();
    }
  };
  const inline = await noise(0, 1);
  assert.deepEqual(await noise(1, 4), inline);
  assert.deepEqual(await noise(3, 2), inline);
  assert.notDeepEqual(inline[0], inline[1], 'a new epoch reshuffles and redraws');
});

void test('shuffle is a seeded permutation per epoch; dropLast drops the short batch', () => {
  const loader = new DataLoader({ module: MODULE, items: ITEMS, batchSize: 5, workers: 0, seed: 3, shuffle: true, dropLast: true });
  const e0 = loader.batchIndices(0);
  assert.equal(e0.length, 4);
  assert.ok(e0.every((b) => b.length === 5));
  assert.deepEqual(loader.batchIndices(0), e0);
  assert.notDeepEqual(loader.batchIndices(1), e0);
  const all = new DataLoader({ module: MODULE, items: ITEMS, batchSize: 5, workers: 0, seed: 3, shuffle: true }).batchIndices(2).flat();
  assert.deepEqual([...all].sort((a, b) => a - b), ITEMS.map((_, i) => i));
});

void test('prefetch requests that many batches ahead of the consumer', async () => {
  calls.length = 0;
  const loader = new DataLoader({ module: MODULE, items: ITEMS, batchSize: 2, workers: 0, prefetch: 3, seed: 1 });
  const it = loader.epoch(0);
  await it.next();
  await new Promise((r) => setImmediate(r));
  // first batch consumed, three more requested behind it
  assert.equal(calls.length, 4 * 2);
  await it.return(undefined);
  await loader.close();
});

void test('a failing sample surfaces as DataLoaderError naming the item and the cause', async () => {
  const items = [{ value: 0 }, { value: 1 }, { value: 2, fail: true }, { value: 3 }];
  for (const workers of [0, 2]) {
    const loader = new DataLoader({ module: MODULE, items, batchSize: 2, workers, seed: 1 });
    try {
      await assert.rejects(collect(loader, 0), (e: unknown) => e instanceof DataLoaderError && /item 2 .*RangeError: cannot decode synthetic item 2/.test(e.message));
    } finally {
      await loader.close();
    }
  }
});

void test('a module without loadSample is refused', async () => {
  const loader = new DataLoader({ module: new URL('../../src/train/errors.ts', import.meta.url), items: ITEMS, batchSize: 2, workers: 1, seed: 1 });
  try {
    await assert.rejects(collect(loader, 0), /must export a function loadSample/);
  } finally {
    await loader.close();
  }
});
