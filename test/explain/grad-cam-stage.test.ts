import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, type ZooModel } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, tensor, type Tensor } from '../../src/torch/index.js';
import { classActivationMap, gradCam, SaliencyError, SaliencyStageError } from '../../src/explain/index.js';

// tiny_resnet18_w32_1ch_96: random half-width ResNet-18, the skull head's shape (13 outputs per view, view as input)
function skullNet(arch = 'resnet18_w32'): ZooModel {
  manualSeed(11);
  const model = createModel(arch, { inChannels: 1, head: { kind: 'regression', outputs: 13, relu: false, groupedBy: { extraIndex: 0, groups: 2 } }, extraInputs: 1 });
  const bias = model.namedParameters().find(([n]) => n === `${model.headLinearName}.bias`)?.[1] as Tensor;
  noGrad(() => bias.fill_(0));
  return model;
}

const VIEW = (): Tensor => tensor([1], [1, 1]);

void test('Grad-CAM at the last stage equals the default map, bit for bit in shape and to float tolerance in value', () => {
  const model = skullNet();
  const x = randn([1, 1, 96, 96]);
  for (const mode of ['positive', 'relative'] as const) {
    const base = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode });
    const last = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode, stage: model.featureStages });
    assert.deepEqual(last.featureSize, base.featureSize);
    assert.deepEqual(base.featureSize, [3, 3]);
    assert.ok(Math.abs(last.score - base.score) < 1e-5);
    let maxDiff = 0;
    for (let i = 0; i < base.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((base.data[i] as number) - (last.data[i] as number)));
    assert.ok(maxDiff < 1e-5, `${mode}: max |stage 4 − default| = ${maxDiff}`);
  }
});

void test('HiResCAM equals Grad-CAM at the last map of a global-average-pool + linear head (the gradient is the same at every position), and differs at an earlier stage', () => {
  const model = skullNet();
  const x = randn([1, 1, 96, 96]);
  const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
  for (const mode of ['positive', 'relative'] as const) {
    const grad = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode });
    const hires = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode, method: 'hirescam' });
    assert.ok(maxDiff(grad.data, hires.data) < 1e-5, `${mode}: last map, max |HiResCAM − Grad-CAM| = ${maxDiff(grad.data, hires.data)}`);
  }
  const grad2 = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode: 'relative', stage: 2 });
  const hires2 = gradCam(model, x, { extra: VIEW(), outputIndex: 3, mode: 'relative', stage: 2, method: 'hirescam' });
  assert.deepEqual(hires2.featureSize, grad2.featureSize);
  assert.ok(Math.abs(hires2.score - grad2.score) < 1e-5, 'the same output explained');
  assert.ok(maxDiff(grad2.data, hires2.data) > 0.05, 'layer2: the rest of the network weighs positions differently');
});

void test('an earlier stage gives a finer map of the same score', () => {
  const model = skullNet();
  const x = randn([1, 1, 96, 96]);
  const base = gradCam(model, x, { extra: VIEW(), outputIndex: 3 });
  const cases = [
    { stage: 3, side: 6 },
    { stage: 2, side: 12 },
    { stage: 1, side: 24 },
  ];
  for (const c of cases) {
    const m = gradCam(model, x, { extra: VIEW(), outputIndex: 3, stage: c.stage });
    assert.deepEqual(m.featureSize, [c.side, c.side], `stage ${c.stage}`);
    assert.equal(m.data.length, 96 * 96);
    assert.ok(Math.abs(m.score - base.score) < 1e-4, `stage ${c.stage}: score ${m.score} vs ${base.score}`);
    assert.ok(m.data.some((v) => v > 0) && m.data.every((v) => v >= 0 && v <= 1));
  }
});

void test('Grad-CAM at a stage leaves no gradients behind and restores training mode', () => {
  const model = skullNet();
  model.train();
  gradCam(model, randn([1, 1, 64, 64]), { extra: VIEW(), stage: 2 });
  assert.equal(model.training, true);
  assert.ok(model.parameters().every((p) => p.grad === null));
});

void test('a stage the model cannot be cut at is a one-line SaliencyStageError', () => {
  const resnet = skullNet();
  const x = randn([1, 1, 64, 64]);
  for (const stage of [0, 5]) {
    assert.throws(() => gradCam(resnet, x, { extra: VIEW(), stage }), (e: unknown) => e instanceof SaliencyStageError && e.message.includes(`stage ${stage} is not one of 1 … 4`));
  }
  const effnet = skullNet('efficientnet_b0');
  assert.throws(
    () => gradCam(effnet, x, { extra: VIEW(), stage: 3 }),
    (e: unknown) => e instanceof SaliencyStageError && e instanceof SaliencyError && !e.message.includes('\n') && e.message.startsWith('efficientnet_b0: Grad-CAM at stage 3'),
  );
  // CAM's weights belong to the last map only
  assert.throws(() => classActivationMap(resnet, x, { extra: VIEW(), stage: 3 }), SaliencyStageError);
});
