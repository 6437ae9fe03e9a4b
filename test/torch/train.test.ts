// End-to-end: a small CNN defined here trains to a falling loss on a synthetic task, and a soak run of many
// training steps keeps resident memory flat (the native side releases everything tidy() disposes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  Module,
  Conv2d,
  BatchNorm2d,
  Linear,
  AdamW,
  F,
  tensor,
  tidy,
  manualSeed,
  memoryStats,
  randn,
  type Tensor,
} from '../../src/torch/index.js';

const SLOW = process.env.PHYSIS_SLOW === '1';
setFlagsFromString('--expose-gc');
// A full V8 collection, so the JS heap can be compared between two points without garbage noise.
const fullGc = runInNewContext('gc') as () => void;

class TinyCnn extends Module {
  readonly conv1 = this.registerModule('conv1', new Conv2d(1, 8, 3, { padding: 1 }));
  readonly bn1 = this.registerModule('bn1', new BatchNorm2d(8));
  readonly conv2 = this.registerModule('conv2', new Conv2d(8, 16, 3, { padding: 1, stride: 2 }));
  readonly fc = this.registerModule('fc', new Linear(16 * 8 * 8, 2));
  forward(x: Tensor): Tensor {
    const h = F.relu(this.bn1.call(this.conv1.call(x)));
    const h2 = F.relu(this.conv2.call(h));
    return this.fc.call(h2.flatten(1));
  }
}

/** bright_square_left_or_right_16x16: class 0 = a bright 4x4 square in the left half, class 1 = right half. */
function batch(n: number, rand: () => number): { x: Tensor; y: Tensor } {
  const px = new Float32Array(n * 16 * 16);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = rand() < 0.5 ? 0 : 1;
    labels.push(cls);
    const cx = cls === 0 ? Math.floor(rand() * 4) : 8 + Math.floor(rand() * 4);
    const cy = Math.floor(rand() * 12);
    for (let k = 0; k < 256; k++) px[i * 256 + k] = 0.1 * rand();
    for (let yy = cy; yy < cy + 4; yy++) for (let xx = cx; xx < cx + 4; xx++) px[i * 256 + yy * 16 + xx] = 1;
  }
  return { x: tensor(px, [n, 1, 16, 16]), y: tensor(labels, [n], { dtype: 'int64' }) };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

void test('a small CNN trains to a falling loss on a synthetic task', () => {
  manualSeed(0);
  const net = new TinyCnn();
  const opt = new AdamW(net.parameters(), { lr: 0.01 });
  const rand = lcg(1);
  const losses: number[] = [];
  for (let step = 0; step < 80; step++) {
    losses.push(
      tidy(() => {
        const { x, y } = batch(16, rand);
        const loss = F.crossEntropy(net.call(x), y);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      }),
    );
  }
  const first = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
  const last = losses.slice(-10).reduce((a, b) => a + b) / 10;
  assert.ok(last < first * 0.5, `mean loss fell from ${first.toFixed(3)} to only ${last.toFixed(3)}`);
  // held-out accuracy
  net.eval();
  const acc = tidy(() => {
    const { x, y } = batch(128, lcg(99));
    return net.call(x).argmax(1).eq(y).to('float32').mean().item();
  });
  assert.ok(acc > 0.9, `accuracy ${acc}`);
});

void test(`soak: ${SLOW ? 20000 : 3000} training steps keep resident memory and live tensors flat`, () => {
  manualSeed(1);
  const net = new TinyCnn();
  const opt = new AdamW(net.parameters(), { lr: 1e-3 });
  const steps = SLOW ? 20000 : 3000;
  const x = randn([8, 1, 16, 16]);
  const y = tensor([0, 1, 0, 1, 0, 1, 0, 1], [8], { dtype: 'int64' });
  const step = (): void =>
    tidy(() => {
      const loss = F.crossEntropy(net.call(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  const warm = Math.floor(steps / 5);
  for (let i = 0; i < warm; i++) step();
  fullGc();
  const heap0 = process.memoryUsage().heapUsed;
  const live0 = memoryStats().liveTensors;
  const rss: number[] = [];
  for (let i = warm; i < steps; i++) {
    step();
    if (i % 100 === 0) rss.push(process.memoryUsage().rss);
  }
  const live1 = memoryStats().liveTensors;
  assert.equal(live1, live0, `live tensors grew from ${live0} to ${live1}`);
  fullGc();
  const heapGrowth = process.memoryUsage().heapUsed - heap0;
  // JS-side bookkeeping per tensor (scopes, GC safety net) must not pile up in a synchronous loop either:
  // 100 bytes per step would already exceed this.
  assert.ok(
    heapGrowth < 100 * (steps - warm),
    `V8 heap grew by ${(heapGrowth / 1024).toFixed(0)} KiB over ${steps - warm} steps`,
  );
  const first = rss[0] ?? 0;
  const maxGrowth = Math.max(...rss) - first;
  // libtorch's allocator and V8 settle within a few MB; a per-step leak of even one 8x8x16x16 activation
  // (8 KiB) would add > 8 MB over these steps.
  assert.ok(
    maxGrowth < 8 * 1024 * 1024,
    `RSS grew by ${(maxGrowth / 1048576).toFixed(1)} MiB over ${steps - warm} steps`,
  );
});
