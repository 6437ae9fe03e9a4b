import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, FeatureStageError, type ZooModel } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, tensor, tidy } from '../../src/torch/index.js';

// tiny 1-channel nets with the skull head's shape: 13 outputs, one per view (view as the one extra input)
function skullNet(arch: string): ZooModel {
  manualSeed(7);
  const model = createModel(arch, { inChannels: 1, head: { kind: 'regression', outputs: 13, relu: false, groupedBy: { extraIndex: 0, groups: 2 } }, extraInputs: 1 });
  model.eval();
  return model;
}

const CASES = [
  // arch, input side, expected [h, w] of each stage's map
  { arch: 'resnet18_w32', size: 64, sizes: [16, 8, 4, 2] },
  { arch: 'densenet121', size: 64, sizes: [16, 8, 4, 2] },
] as const;

for (const c of CASES) {
  void test(`${c.arch}: forwardFromStage(forwardToStage(x, s), s) equals the full forward at every stage`, () => {
    const model = skullNet(c.arch);
    assert.equal(model.featureStages, c.sizes.length);
    const x = randn([2, 1, c.size, c.size]);
    const view = tensor([0, 1], [2, 1]);
    noGrad(() => {
      const full = tidy(() => model.call(x, view).toFloat32Array());
      const last = tidy(() => model.forwardFeatures(x).toFloat32Array());
      c.sizes.forEach((side, i) => {
        const stage = i + 1;
        const h = model.forwardToStage(x, stage);
        assert.deepEqual(h.shape.slice(2), [side, side], `stage ${stage}`);
        const out = model.forwardFromStage(h, stage, view).toFloat32Array();
        let maxDiff = 0;
        for (let k = 0; k < full.length; k++) maxDiff = Math.max(maxDiff, Math.abs((out[k] as number) - (full[k] as number)));
        assert.ok(maxDiff < 1e-4, `stage ${stage}: max |split − full| = ${maxDiff}`);
        if (stage === model.featureStages) assert.deepEqual(h.toFloat32Array(), last);
      });
    });
  });

  void test(`${c.arch}: a stage outside 1 … featureStages is refused`, () => {
    const model = skullNet(c.arch);
    const x = randn([1, 1, c.size, c.size]);
    for (const stage of [0, c.sizes.length + 1, 1.5]) {
      assert.throws(() => model.forwardToStage(x, stage), (e: unknown) => e instanceof FeatureStageError && e.message.includes(`stage ${stage} is not one of 1 … ${c.sizes.length}`));
    }
  });
}

void test('an architecture without stages says so in one line (efficientnet_b0)', () => {
  const model = skullNet('efficientnet_b0');
  assert.equal(model.featureStages, 0);
  const x = randn([1, 1, 32, 32]);
  assert.throws(() => model.forwardToStage(x, 3), (e: unknown) => e instanceof FeatureStageError && !e.message.includes('\n') && /efficientnet_b0: cannot cut/.test(e.message));
  assert.throws(() => model.forwardFromStage(x, 3), FeatureStageError);
});
