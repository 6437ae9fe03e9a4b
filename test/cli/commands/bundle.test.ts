import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { BUNDLE_FILES, loadBundle, saveModelBundle } from '../../../src/infer/index.js';
import { createModel } from '../../../src/models/index.js';
import { manualSeed } from '../../../src/torch/index.js';

async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((c: string) => ((stdout += c), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => ((stderr += c), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

function weightsOnlyBundle(): string {
  manualSeed(2);
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-bundle-'));
  const model = createModel('resnet18', {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: true },
  });
  saveModelBundle(dir, model, {
    card: {
      id: 'cli-test',
      version: '1.0.0',
      task: 'bone-age-regression',
      input: { shape: [1, 64, 64], preprocessing: {} },
      outputs: [{ name: 'boneAgeMonths', unit: 'months' }],
      trainingData: { summary: 'untrained' },
      metrics: [],
    },
    onnx: false,
  });
  return dir;
}

void test('physis bundle verify prints the bundle as JSON; add-onnx adds a verified graph', async () => {
  const dir = weightsOnlyBundle();
  const v = await capture(['bundle', 'verify', dir, '--json']);
  assert.equal(v.code, 0, v.stderr);
  const info = JSON.parse(v.stdout) as { id: string; onnx: unknown; weights: { sha256: string } };
  assert.equal(info.id, 'cli-test');
  assert.equal(info.onnx, null);
  const a = await capture(['bundle', 'add-onnx', dir, '--json']);
  assert.equal(a.code, 0, a.stderr);
  const after = JSON.parse(a.stdout) as {
    onnx: { opset: number; sha256: string };
    weights: { sha256: string };
  };
  assert.equal(after.onnx.opset, 17);
  assert.equal(after.weights.sha256, info.weights.sha256);
  assert.equal(loadBundle(dir).onnxPath, join(dir, BUNDLE_FILES.onnx));
});

void test('physis bundle verify exits 1 with a one-line typed error for a tampered bundle, 2 for a bad action', async () => {
  const dir = weightsOnlyBundle();
  appendFileSync(join(dir, BUNDLE_FILES.weights), 'x');
  const r = await capture(['bundle', 'verify', dir]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^physis: BundleIntegrityError: .*weights\.safetensors: sha256 [0-9a-f]{64} does not match/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const u = await capture(['bundle', 'frobnicate', dir]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown action 'frobnicate'/);
});
