/**
 * Test-time augmentation: seeded views, and predictTtaVariants sharing one backbone forward across the variants of
 * the extra inputs. (The conformal interval the TTA spread feeds is tested in test/eval/conformal.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { manualSeed, noGrad, tensor, tidy } from '../../src/torch/index.js';
import { predictTtaVariants, TrainConfigError, ttaViews } from '../../src/train/index.js';
import { SHAPES_RECIPE, SHAPES_TASK } from './fixtures/shapes-task.js';

// ramp_16x16
const IMAGE = { width: 16, height: 16, data: Float32Array.from({ length: 256 }, (_, i) => i / 256) };
// speckle_32x32
const SPECKLE = {
  width: 32,
  height: 32,
  data: Float32Array.from({ length: 1024 }, (_, i) => ((i * 37) % 101) / 101),
};

void test('TTA views: the first is the image itself, the rest are seeded and reproducible', () => {
  const a = ttaViews(IMAGE, 4, 7);
  assert.equal(a.length, 4);
  assert.deepEqual(a[0]?.data, IMAGE.data);
  assert.notDeepEqual(a[1]?.data, IMAGE.data);
  assert.notDeepEqual(a[1]?.data, a[2]?.data);
  assert.deepEqual(ttaViews(IMAGE, 4, 7), a);
  assert.notDeepEqual(ttaViews(IMAGE, 4, 8)[1], a[1], 'another seed, other views');
  for (const views of [0, 1.5])
    assert.throws(
      () => ttaViews(IMAGE, views),
      (e: unknown) => e instanceof TrainConfigError && /TTA views/.test(e.message),
    );
});

void test('predictTtaVariants shares the backbone forward and equals the per-variant call bit for bit', () => {
  manualSeed(5);
  const model = createModel('resnet18', HAND_BONE_AGE_TASK.modelOptions(HAND_BONE_AGE_RECIPE));
  // the output starts near 80 months, clear of the head's ReLU
  HAND_BONE_AGE_TASK.initModel?.(model, [{ id: 'a', path: 'a.png', boneAgeMonths: 80, sex: 'M' }]);
  model.eval();
  try {
    const both = predictTtaVariants(model, SPECKLE, [[1], [0]], 4);
    assert.equal(both.length, 2);
    assert.ok(
      both.every((v) => v.length === 4),
      'one output per view',
    );
    assert.deepEqual(both[0], predictTtaVariants(model, SPECKLE, [[1]], 4)[0]);
    assert.deepEqual(both[1], predictTtaVariants(model, SPECKLE, [[0]], 4)[0]);
    assert.notDeepEqual(both[0], both[1], 'sex enters the head');
    // view i is the network on ttaViews(image)[i], run as one batch of all views
    const views = ttaViews(SPECKLE, 4);
    const batch = new Float32Array(4 * 1024);
    views.forEach((v, i) => batch.set(v.data, i * 1024));
    const direct = tidy(() =>
      noGrad(() => model.call(tensor(batch, [4, 1, 32, 32]), tensor([1, 1, 1, 1], [4, 1])).toFloat32Array()),
    );
    assert.deepEqual(both[0], [...direct]);
    assert.ok(new Set(both[0]).size > 1, 'the views differ');
  } finally {
    model.dispose();
  }
});

void test('predictTtaVariants on a network without extra inputs takes one empty variant', () => {
  manualSeed(6);
  const model = createModel('resnet18', SHAPES_TASK.modelOptions(SHAPES_RECIPE));
  model.eval();
  try {
    const [outputs] = predictTtaVariants(model, SPECKLE, [[]], 3);
    assert.equal(outputs?.length, 3);
    assert.ok(outputs?.every(Number.isFinite));
  } finally {
    model.dispose();
  }
});
