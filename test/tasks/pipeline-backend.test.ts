import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addOnnxToBundle } from '../../src/infer/index.js';
import { analyseFilm, closeTaskModels, HAND_BONE_AGE_TASK, openTaskModels } from '../../src/tasks/index.js';
import { tinyBoneAgeBundle, writeBlobPng } from '../infer/fixtures/tiny-bone-age.js';

interface Answer {
  readonly boneAgeMonths: number;
  readonly interval90: { readonly lowMonths: number; readonly highMonths: number };
}

async function answerOn(
  dir: string,
  film: string,
  backend: 'auto' | 'onnx' | 'torch',
): Promise<{ backend?: string; answer: Answer }> {
  const models = openTaskModels(HAND_BONE_AGE_TASK, dir, { backend });
  try {
    const r = await analyseFilm(models, film, { given: { cli: { sex: 'F' } } });
    assert.ok(r.answer, JSON.stringify(r.error ?? r.rejected));
    return {
      ...(r.model?.backend === undefined ? {} : { backend: r.model.backend }),
      answer: r.answer as unknown as Answer,
    };
  } finally {
    await closeTaskModels(models);
  }
}

void test('a bundle with a graph answers on ONNX Runtime by default, within float noise of libtorch, and says which', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-backend-'));
  try {
    const film = writeBlobPng(join(dir, 'blob.png'));
    const bundle = tinyBoneAgeBundle(join(dir, 'b'), {
      id: 'tiny',
      seed: 3,
      biasMonths: 80,
      interval: { scale: 2, views: 4 },
    });
    const torchOnly = await answerOn(bundle.dir, film, 'auto');
    assert.equal(torchOnly.backend, 'torch', 'no graph: libtorch');
    await assert.rejects(answerOn(bundle.dir, film, 'onnx'), /no ONNX graph/);
    addOnnxToBundle(bundle);
    const onnx = await answerOn(bundle.dir, film, 'auto');
    const torch = await answerOn(bundle.dir, film, 'torch');
    assert.equal(onnx.backend, 'onnx');
    assert.equal(torch.backend, 'torch');
    assert.deepEqual(torch.answer, torchOnly.answer, 'adding the graph does not change the libtorch answer');
    // the TTA views and the interval go through the same runner: every number agrees to float32 noise
    for (const [a, b] of [
      [onnx.answer.boneAgeMonths, torch.answer.boneAgeMonths],
      [onnx.answer.interval90.lowMonths, torch.answer.interval90.lowMonths],
      [onnx.answer.interval90.highMonths, torch.answer.interval90.highMonths],
    ] as const) {
      assert.ok(Math.abs(a - b) < 1e-3, `${a} vs ${b}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
