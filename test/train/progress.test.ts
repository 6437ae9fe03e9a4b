import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatProgress, ProgressReporter, type ProgressEvent } from '../../src/train/index.js';

void test('progress events carry images/s, ETA and running loss from the clock', () => {
  let t = 0;
  const reporter = new ProgressReporter({ epochs: 2, stepsPerEpoch: 4, batchSize: 8, now: () => t, smoothing: 0.5 });
  const events: ProgressEvent[] = [];
  const off = reporter.on((e) => events.push(e));
  reporter.startEpoch(0);
  t = 1000;
  reporter.step(1, 8, 2.0); // 8 img/s
  t = 3000;
  const e2 = reporter.step(2, 8, 1.0); // 4 img/s -> EMA 6
  assert.equal(events.length, 2);
  assert.equal(events[0]?.imagesPerSecond, 8);
  assert.equal(e2.imagesPerSecond, 6);
  assert.equal(e2.loss, 1.5);
  assert.equal(e2.images, 16);
  assert.equal(e2.elapsedSeconds, 3);
  // steps left: 2 in this epoch + 4 in the next = 6 steps * 8 images / 6 img/s
  assert.equal(e2.etaSeconds, 8);
  off();
  reporter.step(3, 8, 1);
  assert.equal(events.length, 2, 'unsubscribed');
  reporter.startEpoch(1);
  t = 4000;
  assert.equal(reporter.step(1, 8, 5).loss, 5, 'loss resets each epoch');
});

void test('formatting of durations and the progress line', () => {
  assert.equal(formatDuration(3723), '1h02m03s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(Number.NaN), '?');
  const line = formatProgress(
    { epoch: 0, epochs: 2, step: 2, stepsPerEpoch: 4, images: 16, imagesPerSecond: 6, etaSeconds: 8, elapsedSeconds: 3, loss: 1.5 },
    8,
  );
  assert.equal(line, 'epoch 1/2 [##......] step 2/4 loss 1.500 6.0 img/s ETA 8s');
});
