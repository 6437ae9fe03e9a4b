/**
 * Inception-ResNet-v2 against timm's `inception_resnet_v2` (there is no torchvision model and timm is not a
 * Debian package, so no numeric fixture): parameter names, their shapes for each kind of block, the parameter
 * count (55,843,464 with 1000 classes, timm's model card: 55.8M) and the output shapes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inceptionResnetV2 } from '../../src/models/index.js';
import { noGrad, randn, tidy } from '../../src/torch/index.js';

void test('inception_resnet_v2 has timm parameter names, shapes and count', () => {
  const model = inceptionResnetV2();
  try {
    const sd = model.stateDict();
    const count = model.parameters().reduce((s, t) => s + t.size, 0);
    assert.equal(count, 55_843_464);
    // One key of each kind of block, with the shape timm gives it.
    const expected: [string, number[]][] = [
      ['conv2d_1a.conv.weight', [32, 3, 3, 3]],
      ['conv2d_1a.bn.num_batches_tracked', []],
      ['conv2d_4a.conv.weight', [192, 80, 3, 3]],
      ['mixed_5b.branch1.1.conv.weight', [64, 48, 5, 5]],
      ['mixed_5b.branch3.1.conv.weight', [64, 192, 1, 1]],
      ['repeat.9.branch2.2.bn.running_var', [64]],
      ['repeat.0.conv2d.bias', [320]],
      ['mixed_6a.branch1.2.conv.weight', [384, 256, 3, 3]],
      ['repeat_1.19.branch1.1.conv.weight', [160, 128, 1, 7]],
      ['repeat_1.19.branch1.2.conv.weight', [192, 160, 7, 1]],
      ['mixed_7a.branch2.2.conv.weight', [320, 288, 3, 3]],
      ['repeat_2.8.branch1.2.conv.weight', [256, 224, 3, 1]],
      ['block8.conv2d.weight', [2080, 448, 1, 1]],
      ['conv2d_7b.bn.weight', [1536]],
      ['classif.weight', [1000, 1536]],
      ['classif.bias', [1000]],
    ];
    for (const [key, shape] of expected) assert.deepEqual(sd.get(key)?.shape, shape, key);
    // Every key follows timm's layout: top-level blocks, numbered repeats, conv/bn leaves.
    const pattern =
      /^(conv2d_(1a|2a|2b|3b|4a|7b)\.(conv|bn)\.|mixed_(5b|6a|7a)\.branch\d(\.\d)?\.(conv|bn)\.|repeat(_1|_2)?\.\d+\.(branch\d(\.\d)?\.(conv|bn)\.|conv2d\.)|block8\.(branch\d(\.\d)?\.(conv|bn)\.|conv2d\.)|classif\.)/;
    for (const key of sd.keys()) assert.match(key, pattern);
    assert.equal(
      [...sd.keys()].filter((k) => k.startsWith('repeat.') && k.endsWith('.conv2d.weight')).length,
      10,
    );
    assert.equal(
      [...sd.keys()].filter((k) => k.startsWith('repeat_1.') && k.endsWith('.conv2d.weight')).length,
      20,
    );
    assert.equal(
      [...sd.keys()].filter((k) => k.startsWith('repeat_2.') && k.endsWith('.conv2d.weight')).length,
      9,
    );
  } finally {
    model.dispose();
  }
});

void test('inception_resnet_v2 output shapes at 299×299 and at the 75×75 minimum, 1-channel stem', () => {
  const model = inceptionResnetV2({ inChannels: 1 }).eval();
  try {
    tidy(() =>
      noGrad(() => {
        const big = randn([1, 1, 299, 299]);
        assert.deepEqual(model.forwardFeatures(big).shape, [1, 1536, 8, 8]);
        const small = randn([2, 1, 75, 75]);
        const features = model.forwardFeatures(small);
        assert.deepEqual(features.shape, [2, 1536, 1, 1]);
        const y = model.forwardHead(features);
        assert.deepEqual(y.shape, [2, 1000]);
        assert.ok(Number.isFinite(y.abs().max().item()));
      }),
    );
  } finally {
    model.dispose();
  }
});
