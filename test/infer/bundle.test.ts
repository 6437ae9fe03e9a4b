import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BUNDLE_FILES, loadBundle, saveBundle, type ModelCardDraft } from '../../src/infer/bundle.js';
import { BundleIncompleteError, BundleIntegrityError, ModelCardError } from '../../src/infer/errors.js';
import { serializeSafetensors } from '../../src/torch/safetensors-format.js';

const DRAFT: ModelCardDraft = {
  id: 'bone-age-tiny',
  version: '0.0.1',
  task: 'bone-age-regression',
  architecture: { name: 'resnet18', options: { inChannels: 1, numOutputs: 1 } },
  input: {
    shape: [1, 64, 64],
    extra: [{ name: 'sex', unit: '1 = male' }],
    preprocessing: { resize: 64, normalise: 'zscore' },
  },
  outputs: [{ name: 'boneAge', unit: 'months' }],
  featureMap: { output: 'features', module: 'layer4' },
  trainingData: { summary: 'ramp_64x64 synthetic images', datasets: ['synthetic'] },
  metrics: [{ name: 'MAE', value: 12.5, unit: 'months', data: 'synthetic dev split, 8 images' }],
};

function weightsBytes(seed: number): Uint8Array {
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i + seed));
  return serializeSafetensors(
    new Map([['fc.weight', { dtype: 'F32', shape: [3, 4], bytes: new Uint8Array(w.buffer) }]]),
  );
}
const ONNX_BYTES = Uint8Array.from([8, 8, 18, 4, 116, 101, 115, 116]); // any bytes: the bundle layer only hashes them

function freshBundle(withOnnx = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'physis-bundle-'));
  saveBundle(dir, {
    card: DRAFT,
    weights: weightsBytes(0),
    weightsDType: 'float32',
    ...(withOnnx ? { onnx: { bytes: ONNX_BYTES, opset: 17 } } : {}),
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
  return dir;
}

void test('saveBundle writes card, weights and graph with their sha256, and loadBundle verifies them', () => {
  const dir = freshBundle();
  const b = loadBundle(dir);
  const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  assert.equal(b.card.files.weights.sha256, sha(join(dir, BUNDLE_FILES.weights)));
  assert.equal(b.card.files.onnx?.sha256, sha(join(dir, BUNDLE_FILES.onnx)));
  assert.equal(b.card.files.onnx?.opset, 17);
  assert.equal(b.card.createdAt, '2026-01-02T03:04:05.000Z');
  assert.equal(
    b.card.physisVersion,
    (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version,
  );
  assert.equal(b.card.id, 'bone-age-tiny');
  assert.deepEqual(b.card.metrics, DRAFT.metrics);
  assert.equal(b.weightsPath, join(dir, BUNDLE_FILES.weights));
  assert.equal(b.onnxPath, join(dir, BUNDLE_FILES.onnx));
});

void test('a bundle without a graph loads with onnxPath null', () => {
  const b = loadBundle(freshBundle(false));
  assert.equal(b.onnxPath, null);
  assert.equal(b.card.files.onnx, undefined);
});

const BROKEN: {
  name: string;
  breakIt: (dir: string) => void;
  error: new (m: string) => Error;
  match: RegExp;
}[] = [
  {
    name: 'weights changed by one byte',
    breakIt: (d) => appendFileSync(join(d, BUNDLE_FILES.weights), Uint8Array.from([0])),
    error: BundleIntegrityError,
    match: /weights\.safetensors: sha256 [0-9a-f]{64} does not match [0-9a-f]{64}/,
  },
  {
    name: 'weights swapped for another model',
    breakIt: (d) => writeFileSync(join(d, BUNDLE_FILES.weights), weightsBytes(1)),
    error: BundleIntegrityError,
    match: /weights\.safetensors: sha256/,
  },
  {
    name: 'graph changed',
    breakIt: (d) => writeFileSync(join(d, BUNDLE_FILES.onnx), Uint8Array.from([1, 2, 3])),
    error: BundleIntegrityError,
    match: /model\.onnx: sha256/,
  },
  {
    name: 'weights missing',
    breakIt: (d) => rmSync(join(d, BUNDLE_FILES.weights)),
    error: BundleIncompleteError,
    match: /weights file 'weights\.safetensors' named in card\.json is missing/,
  },
  {
    name: 'graph missing',
    breakIt: (d) => rmSync(join(d, BUNDLE_FILES.onnx)),
    error: BundleIncompleteError,
    match: /ONNX file 'model\.onnx' named in card\.json is missing/,
  },
  {
    name: 'card missing',
    breakIt: (d) => rmSync(join(d, BUNDLE_FILES.card)),
    error: BundleIncompleteError,
    match: /'card\.json' is missing/,
  },
  {
    name: 'unlisted graph beside a graph-less card',
    breakIt: (d) => {
      const card = JSON.parse(readFileSync(join(d, BUNDLE_FILES.card), 'utf8')) as {
        files: { onnx?: unknown };
      };
      delete card.files.onnx;
      writeFileSync(join(d, BUNDLE_FILES.card), JSON.stringify(card));
    },
    error: BundleIntegrityError,
    match: /model\.onnx: model file present but card\.json records no sha256/,
  },
  {
    name: 'card not JSON',
    breakIt: (d) => writeFileSync(join(d, BUNDLE_FILES.card), '{"id": '),
    error: ModelCardError,
    match: /card\.json: not valid JSON/,
  },
  {
    name: 'metric without its data set',
    breakIt: (d) => {
      const card = JSON.parse(readFileSync(join(d, BUNDLE_FILES.card), 'utf8')) as {
        metrics: { data?: string }[];
      };
      delete card.metrics[0]?.data;
      writeFileSync(join(d, BUNDLE_FILES.card), JSON.stringify(card));
    },
    error: ModelCardError,
    match: /metrics\[0\]\.data \(the data the metric was measured on\) must be a non-empty string/,
  },
  {
    name: 'file path escaping the bundle',
    breakIt: (d) => {
      const card = JSON.parse(readFileSync(join(d, BUNDLE_FILES.card), 'utf8')) as {
        files: { weights: { path: string } };
      };
      card.files.weights.path = '../weights.safetensors';
      writeFileSync(join(d, BUNDLE_FILES.card), JSON.stringify(card));
    },
    error: ModelCardError,
    match: /files\.weights\.path must be a plain file name inside the bundle/,
  },
];
for (const c of BROKEN) {
  void test(`loadBundle refuses a bundle with ${c.name}`, () => {
    const dir = freshBundle();
    c.breakIt(dir);
    assert.throws(
      () => loadBundle(dir),
      (e: unknown) => e instanceof c.error && e.name === c.error.name && c.match.test(e.message),
    );
  });
}

void test('loadBundle names a directory that does not exist', () => {
  assert.throws(
    () => loadBundle('/nonexistent/bundle-x'),
    /\/nonexistent\/bundle-x: bundle directory does not exist/,
  );
});
