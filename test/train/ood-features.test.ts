import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manualSeed } from '../../src/torch/index.js';
import { createBoneAgeModel, featuresAndHead, pooledFeatures, predictBatch } from '../../src/train/index.js';

void test('featuresAndHead: the OOD features of pooledFeatures and the prediction of predictBatch from one forward, bit for bit', () => {
  manualSeed(11);
  const model = createBoneAgeModel('resnet18', 90);
  model.eval();
  try {
    // speckle_32x32
    const image = Float32Array.from({ length: 1024 }, (_, i) => ((i * 53) % 97) / 97);
    const got = featuresAndHead(model, image, 32, [1, 0]);
    assert.deepEqual(got.pooled, pooledFeatures(model, image, 32)[0]);
    assert.equal(got.months[0], predictBatch(model, image, Float32Array.of(1), 32)[0]);
    assert.equal(got.months[1], predictBatch(model, image, Float32Array.of(0), 32)[0]);
    assert.notEqual(got.months[0], got.months[1]);
  } finally {
    model.dispose();
  }
});
