import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel, type ZooModel } from '../../src/models/index.js';
import { manualSeed } from '../../src/torch/index.js';
import {
  BUNDLE_FILES,
  BundleIntegrityError,
  PredictorError,
  addOnnxToBundle,
  createPredictor,
  createTorchPredictor,
  loadBundle,
  saveModelBundle,
  type DenseArray,
  type ZooCardDraft,
} from '../../src/infer/index.js';

const SIZE = 64;
const CARD: ZooCardDraft = {
  id: 'hand-bone-age-test',
  version: '0.1.0',
  task: 'bone-age-regression',
  input: {
    shape: [1, SIZE, SIZE],
    extra: [{ name: 'sex', unit: '1 = male, 0 = female' }],
    preprocessing: { resize: SIZE, normalise: 'zscore' },
  },
  outputs: [{ name: 'boneAge', unit: 'months' }],
  trainingData: { summary: 'untrained (random initialisation), for tests' },
  metrics: [],
};

function model(seed = 5): ZooModel {
  manualSeed(seed);
  return createModel('resnet18', {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: false },
    extraInputs: 1,
  });
}

/** ramp_64x64 images for a batch of n, and alternating sex. */
function batch(n: number): { x: Float32Array; shape: number[]; sex: Float32Array } {
  const x = Float32Array.from(
    { length: n * SIZE * SIZE },
    (_, i) => ((i % SIZE) / SIZE - 0.5) * 2 + Math.floor(i / (SIZE * SIZE)) * 0.1,
  );
  return { x, shape: [n, 1, SIZE, SIZE], sex: Float32Array.from({ length: n }, (_, i) => i % 2) };
}

function maxAbsDiff(a: DenseArray | undefined, b: DenseArray | undefined): number {
  assert.ok(a && b);
  assert.deepEqual(a.shape, b.shape);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs((a.data[i] ?? NaN) - (b.data[i] ?? NaN)));
  return m;
}

void test('a saved zoo bundle runs on ONNX Runtime and libtorch with the same outputs and feature maps (<= 1e-4)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  const saved = saveModelBundle(dir, model(), { card: CARD });
  assert.equal(saved.card.architecture.name, 'resnet18');
  assert.deepEqual(saved.card.featureMap, { output: 'featureMap', module: 'layer4' });
  const b = loadBundle(dir);
  const onnx = await createPredictor(b, { threads: 2 });
  const torch = await createPredictor(b, { backend: 'torch' });
  assert.equal(onnx.backend, 'onnx', 'auto picks ONNX Runtime when the bundle has a graph');
  assert.equal(torch.backend, 'torch');
  for (const n of [1, 3]) {
    const { x, shape, sex } = batch(n);
    const a = await onnx.run(x, shape, sex);
    const t = await torch.run(x, shape, sex);
    assert.deepEqual(a.outputs['boneAge']?.shape, [n, 1]);
    assert.ok(maxAbsDiff(a.outputs['boneAge'], t.outputs['boneAge']) <= 1e-4, `batch ${n} output`);
    assert.deepEqual(a.featureMap?.shape, [n, 512, 2, 2]);
    assert.ok(maxAbsDiff(a.featureMap, t.featureMap) <= 1e-4, `batch ${n} feature map`);
    assert.deepEqual(a.model, { ...t.model, backend: 'onnx' });
    assert.equal(a.model.weightsSha256, b.card.files.weights.sha256);
    assert.equal(a.model.modelId, 'hand-bone-age-test');
  }
  // Sex is an input of the head: changing it must change the output (the extra input is wired through).
  const { x, shape } = batch(1);
  const male = await onnx.run(x, shape, Float32Array.from([1]));
  const female = await onnx.run(x, shape, Float32Array.from([0]));
  assert.notEqual(male.outputs['boneAge']?.data[0], female.outputs['boneAge']?.data[0]);
  await onnx.dispose();
  await torch.dispose();
});

void test('a bundle without a graph falls back to libtorch; fp16 weights halve the file and keep both backends equal', async () => {
  const noGraph = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  saveModelBundle(noGraph, model(), { card: CARD, onnx: false });
  const p = await createPredictor(loadBundle(noGraph));
  assert.equal(p.backend, 'torch');
  await p.dispose();

  const fp32 = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  const fp16 = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  saveModelBundle(fp32, model(), { card: CARD, onnx: false });
  const b16 = saveModelBundle(fp16, model(), { card: CARD, weightsDType: 'float16' });
  assert.equal(b16.card.files.weights.dtype, 'float16');
  const ratio =
    statSync(join(fp16, BUNDLE_FILES.weights)).size / statSync(join(fp32, BUNDLE_FILES.weights)).size;
  assert.ok(ratio > 0.49 && ratio < 0.51, `fp16/fp32 size ratio ${ratio}`);
  const { x, shape, sex } = batch(2);
  const a = await (await createPredictor(b16, { backend: 'onnx' })).run(x, shape, sex);
  const t = await (await createPredictor(b16, { backend: 'torch' })).run(x, shape, sex);
  assert.ok(maxAbsDiff(a.outputs['boneAge'], t.outputs['boneAge']) <= 1e-4);
  assert.ok(maxAbsDiff(a.featureMap, t.featureMap) <= 1e-4);
});

void test('the libtorch predictor runs the weights bytes that were hashed: a file swapped after loading is never read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  const b = saveModelBundle(dir, model(), { card: CARD, onnx: false });
  const { x, shape, sex } = batch(1);
  const before = await createTorchPredictor(b);
  const expected = (await before.run(x, shape, sex)).outputs['boneAge'];
  await before.dispose();
  const w = join(dir, BUNDLE_FILES.weights);
  const swapped = saveModelBundle(mkdtempSync(join(tmpdir(), 'physis-pred-')), model(6), { card: CARD, onnx: false });
  writeFileSync(w, readFileSync(swapped.weightsPath));
  const after = await createTorchPredictor(b);
  const got = await after.run(x, shape, sex);
  assert.deepEqual(got.outputs['boneAge'], expected, 'the verified bytes, not the swapped file');
  assert.equal(got.model.weightsSha256, b.card.files.weights.sha256);
  await after.dispose();
  // loading the folder again sees the swap
  assert.throws(() => loadBundle(dir), (e: unknown) => e instanceof BundleIntegrityError && /weights\.safetensors: sha256/.test(e.message));
  rmSync(dir, { recursive: true });
  rmSync(swapped.dir, { recursive: true });
});

void test('saveModelBundle refuses a card that disagrees with the model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  assert.throws(
    () =>
      saveModelBundle(dir, model(), { card: { ...CARD, input: { ...CARD.input, shape: [3, SIZE, SIZE] } } }),
    /does not start with the model's 1 input channels/,
  );
  assert.throws(
    () =>
      saveModelBundle(dir, model(), {
        card: { ...CARD, input: { shape: [1, SIZE, SIZE], preprocessing: {} } },
      }),
    /card lists 0 extra inputs, the model takes 1/,
  );
});

void test('addOnnxToBundle gives a weights-only bundle a verified graph; weights and creation date unchanged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  const before = saveModelBundle(dir, model(), {
    card: { ...CARD, featureMapOutput: null },
    onnx: false,
    createdAt: new Date('2026-03-04T05:06:07Z'),
  });
  assert.equal(before.onnxPath, null);
  const after = addOnnxToBundle(before);
  assert.equal(after.card.files.weights.sha256, before.card.files.weights.sha256);
  assert.equal(after.card.createdAt, '2026-03-04T05:06:07.000Z');
  assert.deepEqual(after.card.featureMap, { output: 'featureMap', module: 'layer4' });
  const reloaded = loadBundle(dir);
  assert.ok(reloaded.onnxPath);
  const onnx = await createPredictor(reloaded);
  const torch = await createPredictor(reloaded, { backend: 'torch' });
  assert.equal(onnx.backend, 'onnx');
  const { x, shape, sex } = batch(2);
  const a = await onnx.run(x, shape, sex);
  const t = await torch.run(x, shape, sex);
  assert.ok(maxAbsDiff(a.outputs['boneAge'], t.outputs['boneAge']) <= 1e-4);
  assert.ok(maxAbsDiff(a.featureMap, t.featureMap) <= 1e-4);
  await onnx.dispose();
  await torch.dispose();
});

void test('createPredictor refuses the ONNX backend for a bundle without a graph, and an unknown backend', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pred-'));
  const b = saveModelBundle(dir, model(), { card: CARD, onnx: false });
  await assert.rejects(
    createPredictor(b, { backend: 'onnx' }),
    (e: unknown) =>
      e instanceof PredictorError && /bundle hand-bone-age-test@0\.1\.0 has no ONNX graph/.test(e.message),
  );
  await assert.rejects(
    createPredictor(b, { backend: 'tensorflow' as 'onnx' }),
    /unknown predictor backend 'tensorflow'/,
  );
});
