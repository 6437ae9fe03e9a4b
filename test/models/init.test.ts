/**
 * Fresh models are initialised as torchvision's constructors do: the standard deviation of a large weight tensor
 * matches the rule's (kaiming-normal fan-out/fan-in, uniform ±1/√out, truncated normal 0.02, PyTorch's default
 * kaiming-uniform a=√5), and the biases the reference zeroes are zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/torch/index.js';

/** Sample standard deviation of a tensor's values. */
function std(values: Float32Array): number {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let s = 0;
  for (const v of values) s += (v - mean) ** 2;
  return Math.sqrt(s / (values.length - 1));
}

// [architecture, key, expected std, why]
const CASES: [string, string, number, string][] = [
  [
    'resnet18',
    'layer2.0.conv1.weight',
    Math.sqrt(2 / (128 * 9)),
    'kaiming normal, fan-out (128×3×3), ReLU gain',
  ],
  ['resnet18', 'fc.weight', 1 / Math.sqrt(3 * 512), 'PyTorch default: kaiming uniform a=√5 → U(±1/√fanIn)'],
  [
    'densenet121',
    'features.denseblock2.denselayer2.conv1.weight',
    Math.sqrt(2 / 160),
    'kaiming normal, fan-in (160×1×1; fan-out would be 128)',
  ],
  [
    'efficientnet_b0',
    'features.2.0.block.0.0.weight',
    Math.sqrt(2 / 96),
    'kaiming normal, fan-out (96 out, 1×1)',
  ],
  ['efficientnet_b0', 'classifier.1.weight', 1 / Math.sqrt(3 * 1000), 'U(±1/√out_features)'],
  ['convnext_tiny', 'features.1.0.block.3.weight', 0.02 * 0.9999, 'truncated normal std 0.02, cut at ±2'],
];

for (const [arch, key, expected, why] of CASES) {
  void test(`${arch} ${key}: std ≈ ${expected.toPrecision(3)} (${why})`, () => {
    manualSeed(21);
    const model = createModel(arch);
    try {
      const w = model.stateDict().get(key);
      assert.ok(w, `${key} exists`);
      const s = std(w.toFloat32Array());
      // Thousands of samples: the estimate is within a few per cent of the truth.
      assert.ok(Math.abs(s - expected) / expected < 0.05, `${key}: std ${s}, expected ${expected}`);
    } finally {
      model.dispose();
    }
  });
}

void test('biases torchvision zeroes are zero; norms start at weight 1, bias 0', () => {
  const cases: [string, string[]][] = [
    ['densenet121', ['classifier.bias', 'features.norm5.bias']],
    ['efficientnet_b0', ['classifier.1.bias', 'features.1.0.block.1.fc1.bias']],
    ['convnext_tiny', ['classifier.2.bias', 'features.0.0.bias', 'features.1.0.block.3.bias']],
  ];
  for (const [arch, keys] of cases) {
    const model = createModel(arch);
    try {
      const sd = model.stateDict();
      for (const key of keys) {
        const values = sd.get(key)?.toFloat32Array();
        assert.ok(values, `${arch} ${key} exists`);
        assert.ok(
          values.every((v) => v === 0),
          `${arch} ${key} is zero`,
        );
      }
      const bnWeight = sd.get(
        arch === 'convnext_tiny' ? 'features.0.1.weight' : 'features.1.0.block.0.1.weight',
      );
      if (arch !== 'densenet121')
        assert.ok(
          bnWeight?.toFloat32Array().every((v) => v === 1),
          `${arch} norm weight is 1`,
        );
    } finally {
      model.dispose();
    }
  }
});
