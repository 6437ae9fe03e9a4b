/**
 * Pooled features and head outputs from one forward: featuresAndHead (single films, several extra-input variants)
 * and predictWithFeatures (loader passes) agree bit for bit with the separate calls they replace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../src/models/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { manualSeed, noGrad, tensor, tidy } from '../../src/torch/index.js';
import {
  featuresAndHead,
  pooledFeatures,
  predictOutputs,
  predictWithFeatures,
  taskLoader,
} from '../../src/train/index.js';
import { SHAPES_RECIPE, SHAPES_TASK, writeShapeFilms } from './fixtures/shapes-task.js';

// speckle_32x32
const SPECKLE = Float32Array.from({ length: 1024 }, (_, i) => ((i * 53) % 97) / 97);

void test("featuresAndHead: the pooled features of pooledFeatures and each variant's output of the full forward, bit for bit", () => {
  manualSeed(11);
  // the hand network: sex (1 = M, 0 = F) enters the head only
  const model = createModel('resnet18', HAND_BONE_AGE_TASK.modelOptions(HAND_BONE_AGE_RECIPE));
  // the output starts near 80 months, clear of the head's ReLU
  HAND_BONE_AGE_TASK.initModel?.(model, [{ id: 'a', path: 'a.png', boneAgeMonths: 80, sex: 'M' }]);
  model.eval();
  try {
    const got = featuresAndHead(model, SPECKLE, 32, [[1], [0]]);
    assert.deepEqual(got.pooled, pooledFeatures(model, SPECKLE, 32)[0]);
    const full = (sex: number): number =>
      tidy(() =>
        noGrad(
          () =>
            model.call(tensor(SPECKLE, [1, 1, 32, 32]), tensor([sex], [1, 1])).toFloat32Array()[0] as number,
        ),
      );
    assert.equal(got.outputs.length, 2);
    assert.equal(got.outputs[0], full(1));
    assert.equal(got.outputs[1], full(0));
    assert.notEqual(got.outputs[0], got.outputs[1], 'the extra input reaches the head');
  } finally {
    model.dispose();
  }
});

void test('featuresAndHead on a network without extra inputs: one empty variant', () => {
  manualSeed(12);
  const model = createModel('resnet18', SHAPES_TASK.modelOptions(SHAPES_RECIPE));
  model.eval();
  try {
    const got = featuresAndHead(model, SPECKLE, 32, [[]]);
    const full = tidy(() => noGrad(() => model.call(tensor(SPECKLE, [1, 1, 32, 32])).toFloat32Array()));
    assert.deepEqual(got.outputs, [full[0]]);
    assert.equal(got.pooled.length, 512);
  } finally {
    model.dispose();
  }
});

void test('predictWithFeatures: the head outputs of predictOutputs and the pooled features of pooledFeatures, in item order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-features-'));
  manualSeed(13);
  const model = createModel('resnet18', SHAPES_TASK.modelOptions(SHAPES_RECIPE));
  // shapes_5x32 at batch 2: three batches, the last of one film
  const items = writeShapeFilms(dir, 5);
  const recipe = { ...SHAPES_RECIPE, batchSize: 2 };
  const loader = taskLoader(SHAPES_TASK, items, { recipe, workers: 0 });
  try {
    const passes = await predictWithFeatures(model, loader, items.length, 32);
    const outputs = await predictOutputs(model, loader, items.length, 32);
    assert.deepEqual(
      passes.map((p) => p.outputs),
      outputs,
    );
    const images: Float32Array[] = [];
    for await (const batch of loader.epoch(0)) images.push(batch.fields['image'] as Float32Array);
    const pooled = images.flatMap((b) => pooledFeatures(model, b, 32));
    assert.deepEqual(
      passes.map((p) => p.pooled),
      pooled,
    );
    // every field but the image, per item: the target of each film
    assert.deepEqual(
      passes.map((p) => Object.keys(p.fields)),
      items.map(() => ['target']),
    );
    assert.deepEqual(
      passes.map((p) => p.fields['target']?.[0]),
      items.map((i) => i.square),
    );
    assert.notDeepEqual(outputs[0], outputs[1], 'different films, different outputs');
  } finally {
    await loader.close();
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
