import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAugmentation, sampleAugmentation, type AugmentationConfig } from '../../src/preprocess/index.js';
import { tensor } from '../../src/torch/index.js';
import {
  AUGMENTATION_FIELD,
  AUGMENTATION_FIELD_LENGTH,
  augmentBatch,
  DataLoader,
  encodeAugmentation,
  Rng,
  type Batch,
} from '../../src/train/index.js';
import { gradientImage, HEIGHT, WIDTH } from './fixtures/gradient-sample.js';

const MODULE = new URL('./fixtures/gradient-sample.ts', import.meta.url);

// strong enough that every step matters: turns, zoom both ways, shifts that pull in the fill, flips, intensity
const CONFIG: AugmentationConfig = {
  rotationDeg: 25,
  scale: [0.8, 1.25],
  translate: 0.15,
  brightness: 0.08,
  contrast: [0.8, 1.25],
  gamma: [0.7, 1.4],
  cropSize: null,
  flipLeftRightProbability: 0.5,
  lateralityNormalised: true,
  fill: 0.2,
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

void test('augmentBatch gives the per-film augmentation of every image, to float32 rounding', () => {
  const rng = new Rng(7);
  const n = 12;
  const films = Array.from({ length: n }, (_, i) => gradientImage(i % 5));
  const drawn = films.map((f) => sampleAugmentation(rng, CONFIG, f.width, f.height));
  assert.ok(drawn.some((p) => p.flipLeftRight) && drawn.some((p) => !p.flipLeftRight), 'both flipped and plain images drawn');
  const params = new Float32Array(n * AUGMENTATION_FIELD_LENGTH);
  drawn.forEach((p, i) => params.set(encodeAugmentation(p, WIDTH, HEIGHT, CONFIG.fill), i * AUGMENTATION_FIELD_LENGTH));
  const stacked = new Float32Array(n * WIDTH * HEIGHT);
  films.forEach((f, i) => stacked.set(f.data, i * WIDTH * HEIGHT));
  const out = augmentBatch(tensor(stacked, [n, 1, HEIGHT, WIDTH]), params).toFloat32Array();
  films.forEach((f, i) => {
    const expected = applyAugmentation(f, drawn[i] as (typeof drawn)[number], CONFIG.fill).data;
    const got = out.subarray(i * WIDTH * HEIGHT, (i + 1) * WIDTH * HEIGHT);
    assert.ok(maxAbsDiff(got, expected) < 2e-5, `image ${i}: max |difference| ${maxAbsDiff(got, expected)}`);
  });
  // the identity parameters leave an image as it is
  const identity = sampleAugmentation(new Rng(1), { ...CONFIG, rotationDeg: 0, scale: [1, 1], translate: 0, brightness: 0, contrast: [1, 1], gamma: [1, 1], flipLeftRightProbability: 0 }, WIDTH, HEIGHT);
  const one = films[0] as (typeof films)[number];
  const same = augmentBatch(tensor(one.data, [1, 1, HEIGHT, WIDTH]), encodeAugmentation(identity, WIDTH, HEIGHT, 0)).toFloat32Array();
  assert.ok(maxAbsDiff(same, one.data) < 1e-5, 'identity');
});

async function firstBatch(loader: DataLoader<unknown>): Promise<Batch> {
  for await (const batch of loader.epoch(3)) {
    await loader.close();
    return batch;
  }
  throw new Error('no batch');
}

const items = Array.from({ length: 6 }, (_, i) => ({ shift: i }));
const loaderOf = (o: { augmentInBatch: boolean; train?: boolean; workers?: number; augmentation?: AugmentationConfig }): DataLoader<unknown> =>
  new DataLoader({
    module: MODULE,
    items,
    batchSize: 6,
    seed: 11,
    workers: o.workers ?? 1,
    train: o.train ?? true,
    augmentInBatch: o.augmentInBatch,
    moduleOptions: { augmentation: o.augmentation ?? CONFIG },
  });

void test('a loader that augments on the batch hands over the drawn parameters, and augmentBatch makes the loader-augmented batch', async () => {
  for (const workers of [0, 1]) {
    const inWorker = await firstBatch(loaderOf({ augmentInBatch: false, workers }));
    const deferred = await firstBatch(loaderOf({ augmentInBatch: true, workers }));
    assert.equal(inWorker.fields[AUGMENTATION_FIELD], undefined, 'the per-film path carries no parameters');
    const params = deferred.fields[AUGMENTATION_FIELD];
    assert.ok(params !== undefined && params.length === 6 * AUGMENTATION_FIELD_LENGTH, `workers ${workers}: parameters for every sample`);
    const raw = deferred.fields['image'] as Float32Array;
    assert.equal(maxAbsDiff(raw.subarray(0, WIDTH * HEIGHT), gradientImage(0).data), 0, 'the images come un-augmented');
    const out = augmentBatch(tensor(raw, [6, 1, HEIGHT, WIDTH]), params).toFloat32Array();
    const diff = maxAbsDiff(out, inWorker.fields['image'] as Float32Array);
    assert.ok(diff < 2e-5, `workers ${workers}: max |difference| ${diff}`);
  }
});

void test('augmentation on the batch: evaluation passes, crops and two images a sample', async () => {
  const evaluation = await firstBatch(loaderOf({ augmentInBatch: true, train: false }));
  assert.equal(evaluation.fields[AUGMENTATION_FIELD], undefined, 'no augmentation on an evaluation pass');
  assert.equal(maxAbsDiff((evaluation.fields['image'] as Float32Array).subarray(0, WIDTH * HEIGHT), gradientImage(0).data), 0);
  // a crop changes the output size, so the loader does it film by film
  const cropped = await firstBatch(loaderOf({ augmentInBatch: true, augmentation: { ...CONFIG, cropSize: [12, 10] } }));
  assert.equal(cropped.fields[AUGMENTATION_FIELD], undefined);
  assert.equal(cropped.fieldLengths['image'], 120);
  const two = new DataLoader({ module: MODULE, items: [{ shift: 0, images: 2 }], batchSize: 1, seed: 1, workers: 0, augmentInBatch: true, moduleOptions: { augmentation: CONFIG } });
  await assert.rejects(firstBatch(two), /one augmented image per sample/);
  assert.throws(() => augmentBatch(tensor(new Float32Array(2 * WIDTH * HEIGHT), [2, 1, HEIGHT, WIDTH]), new Float32Array(AUGMENTATION_FIELD_LENGTH)), /10 per image/);
});
