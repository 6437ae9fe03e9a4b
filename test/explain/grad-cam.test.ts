import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../../src/models/index.js';
import { manualSeed, noGrad, randn, tensor, type Tensor } from '../../src/torch/index.js';
import { classActivationMap, gradCam, SaliencyError } from '../../src/explain/index.js';

// tiny_resnet18_1ch_64: random ResNet-18 with a 1-channel stem and the bone-age head (sex as one extra input)
function boneAgeNet(): ReturnType<typeof createModel> {
  manualSeed(3);
  const model = createModel('resnet18', { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true }, extraInputs: 1 });
  const bias = model.namedParameters().find(([n]) => n === 'fc.bias')?.[1] as Tensor;
  noGrad(() => bias.fill_(100)); // keep the ReLU head in its linear part so gradients flow
  return model;
}

void test('Grad-CAM of a GAP + linear head equals CAM (Selvaraju et al. 2017, section 3.1)', () => {
  const model = boneAgeNet();
  const x = randn([1, 1, 64, 64]);
  const sex = tensor([1], [1, 1]);
  const g = gradCam(model, x, { extra: sex, mode: 'positive' });
  const c = classActivationMap(model, x, { extra: sex, mode: 'positive' });
  assert.equal(g.data.length, 64 * 64);
  assert.deepEqual(g.featureSize, [2, 2]);
  assert.ok(Math.abs(g.score - c.score) < 1e-3, `${g.score} vs ${c.score}`);
  let maxDiff = 0;
  for (let i = 0; i < g.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((g.data[i] as number) - (c.data[i] as number)));
  assert.ok(maxDiff < 1e-4, `max |Grad-CAM - CAM| = ${maxDiff}`);
  assert.ok(Math.max(...g.data) === 1 || Math.max(...g.data) === 0);
  assert.ok(g.data.every((v) => v >= 0 && v <= 1));
});

void test('Grad-CAM leaves no gradients behind and restores training mode', () => {
  const model = boneAgeNet();
  model.train();
  gradCam(model, randn([1, 1, 64, 64]), { extra: tensor([0], [1, 1]) });
  assert.equal(model.training, true);
  assert.ok(model.parameters().every((p) => p.grad === null));
});

void test('Grad-CAM works through a non-ResNet head (DenseNet-121) and follows the input', () => {
  manualSeed(5);
  const model = createModel('densenet121', { inChannels: 1, head: { kind: 'classification', numClasses: 3 } });
  const x = randn([1, 1, 64, 64]);
  const a = gradCam(model, x, { outputIndex: 2 });
  assert.equal(a.width, 64);
  assert.ok(a.data.some((v) => v > 0));
  assert.throws(() => gradCam(model, x, { outputIndex: 3 }), (e: unknown) => e instanceof SaliencyError && /out of range/.test(e.message));
});

void test('saliency refuses a batch of images', () => {
  const model = boneAgeNet();
  assert.throws(() => gradCam(model, randn([2, 1, 64, 64]), { extra: tensor([1, 0], [2, 1]) }), /one image \[1, C, H, W\], got \[2, 1, 64, 64\]/);
});

void test('regression heads default to the relative (signed, min-max) map, equal to CAM in the same mode', () => {
  const model = boneAgeNet();
  const bias = model.namedParameters().find(([n]) => n === 'fc.bias')?.[1] as Tensor;
  noGrad(() => bias.fill_(1000)); // an output far above the map's contribution: the sign of the map no longer matters
  const x = randn([1, 1, 64, 64]);
  const sex = tensor([0], [1, 1]);
  const g = gradCam(model, x, { extra: sex });
  const c = classActivationMap(model, x, { extra: sex, mode: 'relative' });
  assert.equal(g.mode, 'relative');
  assert.equal(Math.min(...g.data), 0);
  assert.equal(Math.max(...g.data), 1);
  let maxDiff = 0;
  for (let i = 0; i < g.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((g.data[i] as number) - (c.data[i] as number)));
  assert.ok(maxDiff < 1e-4, `max |Grad-CAM - CAM| = ${maxDiff}`);
});

void test('a region (letterbox content) scales the map on the image only and zeroes the padding', () => {
  const model = boneAgeNet();
  const x = randn([1, 1, 64, 64]);
  const sex = tensor([1], [1, 1]);
  const region = { x: 0, y: 16, width: 64, height: 32 }; // a landscape film letterboxed into a square
  const whole = gradCam(model, x, { extra: sex });
  const masked = gradCam(model, x, { extra: sex, region });
  let inMin = Infinity;
  let inMax = -Infinity;
  for (let y = 0; y < 64; y++) {
    for (let xx = 0; xx < 64; xx++) {
      const v = masked.data[y * 64 + xx] as number;
      if (y < 16 || y >= 48) assert.equal(v, 0, `padding pixel (${xx}, ${y}) = ${v}`);
      else {
        inMin = Math.min(inMin, v);
        inMax = Math.max(inMax, v);
      }
    }
  }
  assert.equal(inMin, 0);
  assert.equal(inMax, 1);
  // inside the region the masked map is the whole map re-scaled: same order of pixels
  const a = 16 * 64 + 3;
  const b = 40 * 64 + 50;
  assert.equal(Math.sign((masked.data[a] as number) - (masked.data[b] as number)), Math.sign((whole.data[a] as number) - (whole.data[b] as number)));
  assert.throws(() => gradCam(model, x, { extra: sex, region: { x: 0, y: 40, width: 64, height: 32 } }), (e: unknown) => e instanceof SaliencyError && /inside the 64x64 input/.test(e.message));
  assert.throws(() => classActivationMap(model, x, { extra: sex, region: { x: 0.5, y: 0, width: 8, height: 8 } }), SaliencyError);
});
