import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// answer-changing artifacts as a task writes them; the bundle layer only hashes them
const ARTIFACTS = [
  { path: 'ood.json', role: 'ood', bytes: new TextEncoder().encode('{"threshold": 3.5}\n') },
  { path: 'calibration.json', role: 'interval', bytes: new TextEncoder().encode('{"scale": 2}\n') },
];

function freshBundle(withOnnx = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'physis-bundle-'));
  saveBundle(dir, {
    card: DRAFT,
    weights: weightsBytes(0),
    weightsDType: 'float32',
    ...(withOnnx ? { onnx: { bytes: ONNX_BYTES, opset: 17 } } : {}),
    artifacts: ARTIFACTS,
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });
  return dir;
}

type CardJson = {
  schemaVersion: number;
  files: { onnx?: unknown; artifacts?: { path: string; role: string; sha256: string }[] };
};
const editCard = (d: string, f: (card: CardJson) => void): void => {
  const card = JSON.parse(readFileSync(join(d, BUNDLE_FILES.card), 'utf8')) as CardJson;
  f(card);
  writeFileSync(join(d, BUNDLE_FILES.card), JSON.stringify(card));
};

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
  assert.ok(
    Buffer.from(b.weightsBytes).equals(readFileSync(b.weightsPath)),
    'the very bytes that were hashed',
  );
  assert.equal(b.onnxPath, join(dir, BUNDLE_FILES.onnx));
  assert.equal(b.card.schemaVersion, 2);
});

void test('saveBundle lists every artifact with its role and sha256; loadBundle keeps the hashed bytes by role', () => {
  const dir = freshBundle();
  const b = loadBundle(dir);
  const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  assert.deepEqual(b.card.files.artifacts, [
    { path: 'ood.json', role: 'ood', sha256: sha(join(dir, 'ood.json')) },
    { path: 'calibration.json', role: 'interval', sha256: sha(join(dir, 'calibration.json')) },
  ]);
  assert.deepEqual([...b.artifacts.keys()], ['ood', 'interval']);
  assert.equal(new TextDecoder().decode(b.artifacts.get('interval')?.bytes), '{"scale": 2}\n');
  assert.equal(b.artifacts.get('ood')?.path, 'ood.json');
});

void test('saveBundle over a bundle that shipped more artifacts removes the graph and artifacts the old card listed, and only those', () => {
  const dir = freshBundle();
  writeFileSync(join(dir, 'notes.txt'), 'kept');
  const b = saveBundle(dir, {
    card: DRAFT,
    weights: weightsBytes(2),
    weightsDType: 'float32',
    artifacts: [ARTIFACTS[1] as (typeof ARTIFACTS)[number]],
  });
  assert.deepEqual([...b.artifacts.keys()], ['interval']);
  assert.equal(existsSync(join(dir, 'ood.json')), false, 'the old OOD file went with the old bundle');
  assert.equal(existsSync(join(dir, BUNDLE_FILES.onnx)), false, 'and so did its graph');
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'kept');
  assert.doesNotThrow(() => loadBundle(dir));
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
    match: /model\.onnx: file present but card\.json records no sha256/,
  },
  // card schema 2 hashes every answer-changing file: schema 1 hashed the weights only, so an edited ood.json or
  // calibration changed clinical answers and still loaded
  {
    name: 'OOD statistics edited',
    breakIt: (d) => writeFileSync(join(d, 'ood.json'), '{"threshold": 1e9}\n'),
    error: BundleIntegrityError,
    match: /ood\.json: sha256 [0-9a-f]{64} does not match [0-9a-f]{64} recorded in card\.json/,
  },
  {
    name: 'interval calibration edited',
    breakIt: (d) => writeFileSync(join(d, 'calibration.json'), '{"scale": 0.5}\n'),
    error: BundleIntegrityError,
    match: /calibration\.json: sha256 [0-9a-f]{64} does not match/,
  },
  {
    name: 'an artifact missing',
    breakIt: (d) => rmSync(join(d, 'calibration.json')),
    error: BundleIncompleteError,
    match: /interval file 'calibration\.json' named in card\.json is missing/,
  },
  {
    name: 'an OOD file the card does not list (dropped in by hand, or left from another run)',
    breakIt: (d) =>
      editCard(d, (c) => (c.files.artifacts = c.files.artifacts?.filter((a) => a.role !== 'ood'))),
    error: BundleIntegrityError,
    match: /ood\.json: file present but card\.json records no sha256 for it/,
  },
  {
    name: 'an unlisted training-rows file',
    breakIt: (d) => writeFileSync(join(d, 'training-rows.json'), '{}'),
    error: BundleIntegrityError,
    match: /training-rows\.json: file present but card\.json records no sha256/,
  },
  {
    name: 'two artifacts with one role',
    breakIt: (d) => editCard(d, (c) => c.files.artifacts?.forEach((a) => (a.role = 'ood'))),
    error: ModelCardError,
    match: /two artifacts have the role 'ood'/,
  },
  {
    name: 'an artifact listed twice',
    breakIt: (d) =>
      editCard(d, (c) =>
        c.files.artifacts?.push({
          ...(c.files.artifacts[0] as { path: string; role: string; sha256: string }),
          role: 'x',
        }),
      ),
    error: ModelCardError,
    match: /files\.artifacts\[2\]\.path 'ood\.json' is listed twice/,
  },
  {
    name: 'card schema 1 (hint: physis bundle upgrade)',
    breakIt: (d) => editCard(d, (c) => (c.schemaVersion = 1)),
    error: ModelCardError,
    match:
      /card schema 1 does not hash the bundle's OOD statistics and interval calibration; upgrade it once with `physis bundle upgrade <dir>`/,
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
