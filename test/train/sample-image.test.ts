/**
 * The image part of sample modules: prepared once per worker when cached (keyed by the file and how it is prepared),
 * augmented only on training passes, and always copied out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preparedOnce, Rng, shownPixels } from '../../src/train/index.js';
import { NO_AUGMENTATION } from '../../src/preprocess/index.js';

void test('preparedOnce prepares a cached film once per way of preparing it, and every time without a cache', async () => {
  let calls = 0;
  const prepare = (value: number) => async (): Promise<number> => {
    calls++;
    return value;
  };
  const path = `film-${process.pid}-${Date.now()}.png`;
  assert.equal(await preparedOnce(path, { size: 8 }, true, prepare(1)), 1);
  assert.equal(await preparedOnce(path, { size: 8 }, true, prepare(2)), 1, 'the cached value');
  assert.equal(calls, 1);
  assert.equal(await preparedOnce(path, { size: 16 }, true, prepare(3)), 3, 'another preparation of the same film is not the cached one');
  assert.equal(await preparedOnce(path, { size: 8 }, false, prepare(4)), 4, 'no cache: prepared again');
  assert.equal(calls, 3);
});

void test('shownPixels augments on a training pass only, and never returns the cached array itself', () => {
  const image = { width: 4, height: 4, data: Float32Array.from({ length: 16 }, (_, i) => i / 15) };
  const brighter = { ...NO_AUGMENTATION, brightness: 0.3 };
  const evaluation = shownPixels(image, { rng: new Rng(1), train: false }, brighter);
  assert.deepEqual([...evaluation], [...image.data], 'an evaluation pass sees the film as prepared');
  assert.notEqual(evaluation.buffer, image.data.buffer, 'a copy');
  const training = shownPixels(image, { rng: new Rng(1), train: true }, brighter);
  assert.notDeepEqual([...training], [...image.data], 'a training pass is augmented');
  assert.deepEqual([...shownPixels(image, { rng: new Rng(1), train: true }, null)], [...image.data], 'no augmentation configured: as prepared');
});
