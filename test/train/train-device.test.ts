import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAND_BONE_AGE_DEFAULT_CONFIG } from '../../src/tasks/index.js';
import { trainBoneAge } from '../../src/train/index.js';
import { cudaIsAvailable, DeviceError, getDefaultDevice, loadSafetensors } from '../../src/torch/index.js';
import { writeBlobPng } from '../infer/fixtures/tiny-bone-age.js';

// tiny_blob_32: synthetic blob films (test/infer/fixtures), 32 px, 2 epochs, batch 4, no augmentation
const CONFIG = { ...HAND_BONE_AGE_DEFAULT_CONFIG, inputSize: 32, epochs: 2, batchSize: 4, augmentation: { ...HAND_BONE_AGE_DEFAULT_CONFIG.augmentation, rotationDeg: 0 } };
const NO_CUDA = cudaIsAvailable() ? false : 'no CUDA: the linked libtorch has none or no GPU is visible (native/README.md)';

function items(dir: string, n: number, offset: number): { path: string; boneAgeMonths: number; sex: 'M' | 'F'; id: string }[] {
  return Array.from({ length: n }, (_, i) => {
    const path = writeBlobPng(join(dir, `${offset + i}.png`), (i % 5) - 2, 0.05);
    return { path, boneAgeMonths: 60 + 12 * (i % 8), sex: i % 2 === 0 ? 'M' : 'F', id: `${offset + i}.png` };
  });
}

void test('a cuda run without CUDA is refused with DeviceError before anything is written; the default device stays cpu', { skip: cudaIsAvailable() ? 'CUDA present' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-device-'));
  try {
    const out = join(dir, 'bundle');
    await assert.rejects(trainBoneAge({ train: items(dir, 4, 0), dev: items(dir, 2, 100), outDir: out, config: CONFIG, workers: 0, device: 'cuda' }), DeviceError);
    assert.equal(existsSync(out), false);
    assert.equal(getDefaultDevice(), 'cpu');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('training on cuda writes a bundle whose weights load on the CPU, and restores the default device', { skip: NO_CUDA }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-device-'));
  try {
    const out = join(dir, 'bundle');
    const result = await trainBoneAge({ train: items(dir, 16, 0), dev: items(dir, 8, 100), outDir: out, config: CONFIG, workers: 0, device: 'cuda', ttaViews: 2 });
    assert.equal(getDefaultDevice(), 'cpu');
    assert.ok(Number.isFinite(result.bestDevMaeMonths), `dev MAE ${result.bestDevMaeMonths}`);
    const weights = loadSafetensors(result.bundle.weightsPath);
    assert.ok([...weights.values()].every((t) => t.device === 'cpu'));
    assert.ok(weights.size > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
