import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { encodeOnnxModel, ONNX_DTYPE, type OnnxTensor } from '../../src/torch/onnx-proto.js';

function f32(name: string, dims: number[], values: number[]): OnnxTensor {
  return {
    name,
    dataType: ONNX_DTYPE.FLOAT,
    dims,
    rawData: new Uint8Array(Float32Array.from(values).buffer),
  };
}
function i64(name: string, dims: number[], values: number[]): OnnxTensor {
  return {
    name,
    dataType: ONNX_DTYPE.INT64,
    dims,
    rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer),
  };
}

// gemm_2to3 -> relu -> scale by a Constant (tensor attribute) -> reshape with a negative int64 dim -> clip.
// Exercises INT/FLOAT/TENSOR attributes, int64 initializers with negative values, symbolic batch dim.
const W = [1, -2, 0.5, 3, -1, -1];
const B = [0.25, 0, -0.5];
const bytes = encodeOnnxModel({
  opsetVersion: 17,
  producerName: 'physis-test',
  metadata: { modelId: 'gemm_2to3' },
  graph: {
    name: 'gemm_2to3',
    inputs: [{ name: 'x', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 2] }],
    outputs: [{ name: 'y', dataType: ONNX_DTYPE.FLOAT, shape: ['batch', 3, 1] }],
    initializers: [f32('fc.weight', [3, 2], W), f32('fc.bias', [3], B), i64('shape', [3], [0, -1, 1])],
    nodes: [
      {
        opType: 'Gemm',
        inputs: ['x', 'fc.weight', 'fc.bias'],
        outputs: ['h'],
        attributes: { transB: { i: 1 } },
      },
      { opType: 'Relu', inputs: ['h'], outputs: ['r'], name: 'relu0' },
      { opType: 'Constant', inputs: [], outputs: ['c'], attributes: { value: { t: f32('c', [], [1.5]) } } },
      { opType: 'Mul', inputs: ['r', 'c'], outputs: ['m'] },
      { opType: 'Reshape', inputs: ['m', 'shape'], outputs: ['rs'] },
      { opType: 'LeakyRelu', inputs: ['rs'], outputs: ['y'], attributes: { alpha: { f: 0.125 } } },
    ],
  },
});

function reference(x: number[], batch: number): number[] {
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < 3; o++) {
      const h = (x[n * 2] ?? 0) * (W[o * 2] ?? 0) + (x[n * 2 + 1] ?? 0) * (W[o * 2 + 1] ?? 0) + (B[o] ?? 0);
      out.push(Math.fround(Math.max(h, 0) * 1.5));
    }
  }
  return out;
}

for (const batch of [1, 4]) {
  void test(`an encoded model runs in ONNX Runtime with batch ${batch} and matches the hand computation`, async () => {
    const session = await ort.InferenceSession.create(bytes);
    assert.deepEqual(session.inputNames, ['x']);
    assert.deepEqual(session.outputNames, ['y']);
    const x = Array.from({ length: batch * 2 }, (_, i) => i * 0.75 - 2);
    const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [batch, 2]) });
    const y = result['y'];
    assert.ok(y);
    assert.deepEqual(y.dims, [batch, 3, 1]);
    const got = [...(y.data as Float32Array)];
    const want = reference(x, batch);
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs((got[i] ?? NaN) - (want[i] ?? NaN)) < 1e-6, `${i}`);
    await session.release();
  });
}

void test('INTS attributes and 10-byte negative varints encode as ONNX Runtime expects', async () => {
  // Transpose perm (INTS) and a Pad with negative pads (crop), whose values are int64 on the wire.
  const model = encodeOnnxModel({
    opsetVersion: 17,
    graph: {
      name: 'transpose_pad',
      inputs: [{ name: 'x', dataType: ONNX_DTYPE.FLOAT, shape: [2, 3] }],
      outputs: [{ name: 'y', dataType: ONNX_DTYPE.FLOAT, shape: [3, 1] }],
      initializers: [i64('pads', [4], [0, -1, 0, 0])],
      nodes: [
        { opType: 'Transpose', inputs: ['x'], outputs: ['t'], attributes: { perm: { ints: [1, 0] } } },
        { opType: 'Pad', inputs: ['t', 'pads'], outputs: ['y'] },
      ],
    },
  });
  const session = await ort.InferenceSession.create(model);
  const r = await session.run({
    x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]),
  });
  assert.deepEqual([...(r['y']?.data as Float32Array)], [4, 5, 6]);
  await session.release();
});
