/**
 * The zoo's task-facing behaviour: 1-channel stems from RGB weights, regression/classification heads with extra
 * scalar inputs, strict weight loading, the Grad-CAM contract (feature maps and their gradients), and the
 * train-mode regularisers (dropout, stochastic depth).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ModelInputError,
  ModelOptionsError,
  adaptStemWeights,
  createModel,
  loadPretrained,
} from '../../src/models/index.js';
import { cat, manualSeed, noGrad, randn, tensor as tensorOf, tidy } from '../../src/torch/index.js';
import type { Tensor } from '../../src/torch/index.js';
import { maxAbsDiff } from './fixtures.js';

/** Replicates a grey batch [N, 1, H, W] to c channels. */
function replicate(grey: Tensor, c: number): Tensor {
  return cat(
    Array.from({ length: c }, () => grey),
    1,
  );
}

const STEM_CASES = [
  { arch: 'resnet18', size: 32, stemShape: [64, 1, 7, 7] },
  { arch: 'densenet121', size: 32, stemShape: [64, 1, 7, 7] },
  { arch: 'efficientnet_b0', size: 32, stemShape: [32, 1, 3, 3] },
  { arch: 'convnext_tiny', size: 32, stemShape: [96, 1, 4, 4] },
] as const;

for (const { arch, size, stemShape } of STEM_CASES) {
  void test(`${arch}: 1-channel stem from 3-channel weights equals the RGB model on grey replicated to 3 channels`, () => {
    manualSeed(11);
    const rgbModel = createModel(arch).eval();
    const greyModel = createModel(arch, { inChannels: 1 }).eval();
    try {
      const adapted = adaptStemWeights(rgbModel.stateDict(), greyModel);
      assert.deepEqual(adapted.get(greyModel.stemWeightKey)?.shape, stemShape);
      greyModel.loadStateDict(adapted);
      adapted.get(greyModel.stemWeightKey)?.dispose();
      const [diff, scale] = tidy(() =>
        noGrad(() => {
          const grey = randn([2, 1, size, size]);
          const a = rgbModel.call(replicate(grey, 3));
          const b = greyModel.call(grey);
          assert.deepEqual(b.shape, [2, 1000]);
          return [maxAbsDiff(a, b), a.abs().max().item()];
        }),
      );
      assert.ok(scale > 0, 'the RGB model output is not all zero');
      assert.ok(diff <= 1e-4, `${arch}: 1-channel vs RGB max |Δ| ${diff}`);
    } finally {
      rgbModel.dispose();
      greyModel.dispose();
    }
  });
}

void test('adaptStemWeights to 2 channels keeps the output on grey replicated to 2 channels', () => {
  manualSeed(12);
  const rgbModel = createModel('resnet18').eval();
  const twoModel = createModel('resnet18', { inChannels: 2 }).eval();
  try {
    const adapted = adaptStemWeights(rgbModel.stateDict(), twoModel);
    twoModel.loadStateDict(adapted);
    adapted.get('conv1.weight')?.dispose();
    const diff = tidy(() =>
      noGrad(() => {
        const grey = randn([1, 1, 32, 32]);
        return maxAbsDiff(rgbModel.call(replicate(grey, 3)), twoModel.call(replicate(grey, 2)));
      }),
    );
    assert.ok(diff <= 1e-4, `max |Δ| ${diff}`);
  } finally {
    rgbModel.dispose();
    twoModel.dispose();
  }
});

void test('regression head with extra inputs: shapes, ReLU, and the extras reach the output', () => {
  manualSeed(13);
  const head = { kind: 'regression', outputs: 1, relu: true } as const;
  const model = createModel('resnet18', { inChannels: 1, head, extraInputs: 2 }).eval();
  const linear = createModel('resnet18', {
    inChannels: 1,
    head: { ...head, relu: false },
    extraInputs: 2,
  }).eval();
  try {
    assert.deepEqual(model.stateDict().get('fc.weight')?.shape, [1, 512 + 2]);
    tidy(() =>
      noGrad(() => {
        const x = randn([3, 1, 32, 32]);
        const extra = randn([3, 2]);
        const y = model.call(x, extra);
        assert.deepEqual(y.shape, [3, 1]);
        assert.ok(
          [...y.toFloat32Array()].every((v) => v >= 0),
          'ReLU keeps the regression non-negative',
        );
        const features = linear.forwardFeatures(x);
        assert.deepEqual(features.shape, [3, 512, 1, 1]);
        const a = linear.forwardHead(features, extra);
        const b = linear.forwardHead(features, extra.add(1));
        assert.ok(maxAbsDiff(a, b) > 1e-6, 'changing the extra inputs changes the output');
      }),
    );
  } finally {
    model.dispose();
    linear.dispose();
  }
});

void test('extra inputs are checked: missing, wrong width, or unexpected fail naming the shapes', () => {
  const withExtra = createModel('resnet18', { numClasses: 4, extraInputs: 2 }).eval();
  const without = createModel('resnet18', { numClasses: 4 }).eval();
  try {
    tidy(() =>
      noGrad(() => {
        const x = randn([2, 3, 32, 32]);
        assert.deepEqual(withExtra.call(x, randn([2, 2])).shape, [2, 4]);
        assert.throws(() => withExtra.call(x), { name: 'ModelInputError', message: /expects 2 extra input/ });
        assert.throws(
          () => withExtra.call(x, randn([2, 3])),
          (e: unknown) => {
            assert.ok(e instanceof ModelInputError);
            assert.match(e.message, /\[2, 2\], got \[2, 3\]/);
            return true;
          },
        );
        assert.throws(() => without.call(x, randn([2, 2])), {
          name: 'ModelInputError',
          message: /extraInputs: 0/,
        });
      }),
    );
  } finally {
    withExtra.dispose();
    without.dispose();
  }
});

void test('invalid options fail naming the option', () => {
  assert.throws(
    () => createModel('resnet18', { inChannels: 0 }),
    (e: unknown) => {
      assert.ok(e instanceof ModelOptionsError);
      assert.match(e.message, /resnet18: inChannels/);
      return true;
    },
  );
  assert.throws(() => createModel('densenet121', { numClasses: 0 }), { name: 'ModelOptionsError' });
  assert.throws(() => createModel('efficientnet_b0', { dropout: 1 }), {
    name: 'ModelOptionsError',
    message: /dropout/,
  });
  assert.throws(() => createModel('no_such_net'), {
    name: 'UnknownArchitectureError',
    message: /densenet121/,
  });
});

void test('loadStateDict with a wrong key fails naming the key', () => {
  const model = createModel('resnet18');
  try {
    const sd = new Map(model.stateDict());
    const w = sd.get('layer3.1.bn2.running_var');
    assert.ok(w);
    sd.delete('layer3.1.bn2.running_var');
    sd.set('layer3.1.bn2.running_variance', w);
    assert.throws(() => model.loadStateDict(sd), {
      name: 'StateDictError',
      message: /layer3\.1\.bn2\.running_var/,
    });
  } finally {
    model.dispose();
  }
});

void test('loadPretrained: a 1-channel regression model takes everything but the head from 1000-class RGB weights', () => {
  manualSeed(14);
  const reference = createModel('resnet18');
  const model = createModel('resnet18', {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: true },
  });
  try {
    const refSd = reference.stateDict();
    const skipped = loadPretrained(model, refSd);
    assert.deepEqual(skipped, ['fc.weight', 'fc.bias']);
    const sd = model.stateDict();
    const key = 'layer4.1.conv2.weight';
    const ours = sd.get(key);
    const theirs = refSd.get(key);
    assert.ok(ours && theirs);
    assert.equal(maxAbsDiff(ours, theirs), 0);
    const stem = sd.get('conv1.weight');
    const refStem = refSd.get('conv1.weight');
    assert.ok(stem && refStem);
    assert.ok(tidy(() => maxAbsDiff(stem, refStem.sum(1, true))) < 1e-6, 'stem holds the summed RGB kernels');
  } finally {
    reference.dispose();
    model.dispose();
  }
});

void test('Grad-CAM contract: forwardFeatures + retainGrad give the feature maps and their gradients', () => {
  manualSeed(15);
  const model = createModel('densenet121', { inChannels: 1, numClasses: 3 }).eval();
  try {
    tidy(() => {
      const x = randn([1, 1, 64, 64]);
      const maps = model.forwardFeatures(x).retainGrad();
      assert.deepEqual(maps.shape, [1, 1024, 2, 2]);
      const logits = model.forwardHead(maps);
      logits.index(0).index(1).backward();
      const grad = maps.grad;
      assert.ok(grad, 'the feature maps have a gradient');
      assert.deepEqual(grad.shape, maps.shape);
      assert.ok(grad.abs().max().item() > 0, 'the gradient is not all zero');
    });
  } finally {
    model.dispose();
  }
});

void test('dropout and stochastic depth act in training mode only', () => {
  const cases = [
    { arch: 'convnext_tiny', o: { numClasses: 5, stochasticDepthProb: 0.5 } },
    { arch: 'efficientnet_b0', o: { numClasses: 5, dropout: 0.5, stochasticDepthProb: 0.5 } },
    { arch: 'resnet18', o: { numClasses: 5, dropout: 0.5 } },
  ];
  for (const { arch, o } of cases) {
    manualSeed(16);
    const model = createModel(arch, o);
    try {
      tidy(() =>
        noGrad(() => {
          const x = randn([4, 3, 32, 32]);
          model.eval();
          const e1 = model.call(x);
          const e2 = model.call(x);
          assert.equal(maxAbsDiff(e1, e2), 0, `${arch}: eval mode is deterministic`);
          // Train mode: BatchNorm uses batch statistics (deterministic); dropout / stochastic depth do not.
          model.train();
          const t1 = model.call(x);
          const t2 = model.call(x);
          assert.ok(
            maxAbsDiff(t1, t2) > 1e-6,
            `${arch}: train mode draws new dropout/stochastic-depth masks`,
          );
        }),
      );
    } finally {
      model.dispose();
    }
  }
});

void test('a grouped regression head answers each row with the linear unit its group value selects (one head per sex)', () => {
  manualSeed(21);
  const model = createModel('resnet18_w32', {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: false, groupedBy: { extraIndex: 0, groups: 2 } },
    extraInputs: 1,
  }).eval();
  try {
    assert.deepEqual(model.stateDict().get('fc.weight')?.shape, [2, 256 + 1], 'two linear units, one per group');
    const w = model.stateDict().get('fc.weight')?.toFloat32Array() as Float32Array;
    const b = model.stateDict().get('fc.bias')?.toFloat32Array() as Float32Array;
    tidy(() =>
      noGrad(() => {
        const x = randn([4, 1, 64, 64]);
        const sex = [1, 0, 0, 1];
        const features = model.forwardFeatures(x);
        const pooled = features.mean([2, 3]).toFloat32Array();
        const y = model.forwardHead(features, tensorOf(sex, [4, 1])).toFloat32Array();
        for (let i = 0; i < 4; i++) {
          const g = sex[i] as number;
          let want = b[g] as number;
          for (let j = 0; j < 256; j++) want += (w[g * 257 + j] as number) * (pooled[i * 256 + j] as number);
          want += (w[g * 257 + 256] as number) * g;
          assert.ok(Math.abs((y[i] as number) - want) < 1e-4, `row ${i} (group ${g}): ${y[i]} vs ${want}`);
        }
      }),
    );
  } finally {
    model.dispose();
  }
  assert.throws(
    () => createModel('resnet18', { head: { kind: 'regression', outputs: 1, relu: true, groupedBy: { extraIndex: 1, groups: 2 } }, extraInputs: 1 }),
    { name: 'ModelOptionsError', message: /groupedBy\.extraIndex must name one of the 1 extra input/ },
  );
  assert.throws(
    () => createModel('resnet18', { head: { kind: 'regression', outputs: 1, relu: true, groupedBy: { extraIndex: 0, groups: 1 } }, extraInputs: 1 }),
    { name: 'ModelOptionsError', message: /groups must be an integer >= 2/ },
  );
});
