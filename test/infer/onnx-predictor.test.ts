import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveBundle, type ModelCardDraft } from '../../src/infer/bundle.js';
import { createOnnxPredictor } from '../../src/infer/onnx-predictor.js';
import { PredictorError } from '../../src/infer/errors.js';
import { encodeOnnxModel, ONNX_DTYPE } from '../../src/torch/onnx-proto.js';
import { serializeSafetensors } from '../../src/torch/safetensors-format.js';

// tiny_1x2x2_plus_sex: flatten the 1x2x2 image, concat the 'sex' scalar, Gemm to 1 output (months);
// the feature map output is the image times 2 (stands in for the last conv activation).
const W = [1, 2, 3, 4, 10];
const B = 0.5;
const f32 = (v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);
const i64 = (v: number[]): Uint8Array => new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer);
const GRAPH = encodeOnnxModel({
  opsetVersion: 17,
  graph: {
    name: 'tiny',
    inputs: [
      { name: 'input', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 1, 2, 2] },
      { name: 'extra', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 1] },
    ],
    outputs: [
      { name: 'boneAge', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 1] },
      { name: 'features', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 1, 2, 2] },
    ],
    initializers: [
      { name: 'fc.weight', dataType: ONNX_DTYPE.FLOAT, dims: [1, 5], rawData: f32(W) },
      { name: 'fc.bias', dataType: ONNX_DTYPE.FLOAT, dims: [1], rawData: f32([B]) },
      { name: 'two', dataType: ONNX_DTYPE.FLOAT, dims: [], rawData: f32([2]) },
      { name: 'flat', dataType: ONNX_DTYPE.INT64, dims: [2], rawData: i64([0, -1]) },
    ],
    nodes: [
      { opType: 'Mul', inputs: ['input', 'two'], outputs: ['features'] },
      { opType: 'Reshape', inputs: ['input', 'flat'], outputs: ['f'] },
      { opType: 'Concat', inputs: ['f', 'extra'], outputs: ['fe'], attributes: { axis: { i: 1 } } },
      {
        opType: 'Gemm',
        inputs: ['fe', 'fc.weight', 'fc.bias'],
        outputs: ['boneAge'],
        attributes: { transB: { i: 1 } },
      },
    ],
  },
});

const DRAFT: ModelCardDraft = {
  id: 'tiny-bone-age',
  version: '1.2.3',
  task: 'bone-age-regression',
  architecture: { name: 'hand-built', options: {} },
  input: { shape: [1, 2, 2], extra: [{ name: 'sex', unit: '1 = male, 0 = female' }], preprocessing: {} },
  outputs: [{ name: 'boneAge', unit: 'months' }],
  featureMap: { output: 'features', module: 'identity' },
  trainingData: { summary: 'none (hand-set weights)' },
  metrics: [],
};

function bundle(draft: ModelCardDraft = DRAFT): ReturnType<typeof saveBundle> {
  return saveBundle(mkdtempSync(join(tmpdir(), 'physis-onnxpred-')), {
    card: draft,
    weights: serializeSafetensors(new Map([['fc.weight', { dtype: 'F32', shape: [1, 5], bytes: f32(W) }]])),
    weightsDType: 'float32',
    onnx: { bytes: GRAPH, opset: 17 },
  });
}

void test('the ONNX predictor runs a batch, returns named outputs, feature map and provenance', async () => {
  const b = bundle();
  const p = await createOnnxPredictor(b, { threads: 1 });
  const x = Float32Array.from([1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5, -1, 2, -3, 4]);
  const sex = Float32Array.from([1, 0, 1]);
  const r = await p.run(x, [3, 1, 2, 2], sex);
  const want = [0, 1, 2].map((n) => {
    let s = B + (W[4] as number) * (sex[n] as number);
    for (let j = 0; j < 4; j++) s += (W[j] as number) * (x[n * 4 + j] as number);
    return s;
  });
  assert.deepEqual(r.outputs['boneAge']?.shape, [3, 1]);
  assert.deepEqual([...(r.outputs['boneAge']?.data ?? [])], want);
  assert.deepEqual(r.featureMap?.shape, [3, 1, 2, 2]);
  assert.deepEqual(
    [...(r.featureMap?.data ?? [])],
    [...x].map((v) => v * 2),
  );
  assert.deepEqual(r.model, {
    modelId: 'tiny-bone-age',
    modelVersion: '1.2.3',
    weightsSha256: b.card.files.weights.sha256,
    backend: 'onnx',
  });
  await p.dispose();
});

const BAD_INPUTS: { name: string; x: number; shape: number[]; extra?: number; match: RegExp }[] = [
  {
    name: 'wrong image size',
    x: 9,
    shape: [1, 1, 3, 3],
    extra: 1,
    match: /input shape \[1,1,3,3\] is not \[N,1,2,2\]/,
  },
  { name: 'data/shape mismatch', x: 5, shape: [1, 1, 2, 2], extra: 1, match: /input has 5 values but shape/ },
  {
    name: 'missing extra inputs',
    x: 4,
    shape: [1, 1, 2, 2],
    match: /needs 1 extra inputs per image \(sex\)/,
  },
  { name: 'extra of wrong length', x: 8, shape: [2, 1, 2, 2], extra: 1, match: /got 1 values for batch 2/ },
];
for (const c of BAD_INPUTS) {
  void test(`the ONNX predictor refuses ${c.name} with PredictorError`, async () => {
    const p = await createOnnxPredictor(bundle(), { threads: 1 });
    await assert.rejects(
      p.run(new Float32Array(c.x), c.shape, c.extra === undefined ? undefined : new Float32Array(c.extra)),
      (e: unknown) =>
        e instanceof PredictorError && /^tiny-bone-age@1\.2\.3: /.test(e.message) && c.match.test(e.message),
    );
    await p.dispose();
  });
}

void test('the ONNX predictor refuses a card naming an output the graph lacks', async () => {
  await assert.rejects(
    createOnnxPredictor(bundle({ ...DRAFT, outputs: [{ name: 'logits', unit: 'logit' }] })),
    /graph has no output 'logits' named in card\.json \(outputs: boneAge, features\)/,
  );
});
