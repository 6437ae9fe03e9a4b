/**
 * The engine in several worker threads at once (as the server's analysis workers use it): each thread's tensors report
 * their own shapes, and a worker that ends frees only its own state — the main thread and the other workers go on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { tensor, tidy } from '../../src/torch/index.js';

const TORCH = JSON.stringify(new URL('../../src/torch/index.ts', import.meta.url).href);

/** A worker that makes tensors of its own shape `side × (side+1)` for `rounds` rounds and reports any wrong shape. */
function shapeWorker(side: number, rounds: number): Worker {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${TORCH}); }).then((t) => {
      const { side, rounds } = workerData;
      let wrong = 0;
      for (let i = 0; i < rounds; i++) {
        const x = t.tensor(new Float32Array(side * (side + 1)), [side, side + 1]);
        const y = x.add(1);
        if (y.shape[0] !== side || y.shape[1] !== side + 1) wrong++;
        x.dispose(); y.dispose();
      }
      parentPort.postMessage({ wrong });
    });`;
  return new Worker(code, { eval: true, workerData: { side, rounds } });
}

const result = (w: Worker): Promise<{ wrong: number }> =>
  new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });

void test('tensors in two worker threads and the main thread keep their own shapes; a terminated worker harms no one', async () => {
  const doomed = shapeWorker(3, 1_000_000);
  // let it start making tensors, then end it while the others work
  await new Promise((r) => setTimeout(r, 1500));
  const a = shapeWorker(5, 3000);
  const b = shapeWorker(7, 3000);
  await doomed.terminate();
  let wrongHere = 0;
  for (let i = 0; i < 3000; i++) {
    tidy(() => {
      const y = tensor(new Float32Array(2 * 11), [2, 11]).mul(2);
      if (y.shape[0] !== 2 || y.shape[1] !== 11) wrongHere++;
    });
  }
  const [ra, rb] = await Promise.all([result(a), result(b)]);
  assert.equal(ra.wrong, 0, 'worker a');
  assert.equal(rb.wrong, 0, 'worker b');
  assert.equal(wrongHere, 0, 'main thread');
  await Promise.all([a.terminate(), b.terminate()]);
});
