/**
 * trainModel's device: a CUDA run where there is none is refused before anything is written, and a CUDA run (where
 * libtorch has CUDA and a GPU is visible) writes a bundle whose weights load on the CPU; the default device is
 * restored either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../../src/infer/index.js';
import { cudaIsAvailable, DeviceError, getDefaultDevice, loadSafetensors } from '../../src/torch/index.js';
import { RUN_LOCK_FILE, trainModel, type TrainOptions } from '../../src/train/index.js';
import { SHAPES_RECIPE, SHAPES_TASK, writeShapeFilms, type ShapeItem } from './fixtures/shapes-task.js';

const NO_CUDA = cudaIsAvailable()
  ? false
  : 'no CUDA: the linked libtorch has none or no GPU is visible (native/README.md)';

let root = '';
let train: ShapeItem[] = [];
let dev: ShapeItem[] = [];

before(() => {
  root = mkdtempSync(join(tmpdir(), 'physis-device-'));
  // shapes_16x32 / shapes_8x32, batch 4, 2 epochs
  train = writeShapeFilms(root, 16, 0);
  dev = writeShapeFilms(root, 8, 16);
});
after(() => rmSync(root, { recursive: true, force: true }));

const options = (outDir: string): TrainOptions<ShapeItem> => ({
  train,
  dev,
  outDir,
  recipe: { ...SHAPES_RECIPE, epochs: 2, batchSize: 4 },
  workers: 0,
  device: 'cuda',
  modelId: 'shapes-cuda',
  dataSummary: 'shapes_16x32 / shapes_8x32',
});

void test(
  'a cuda run without CUDA is refused with DeviceError; the default device stays cpu',
  { skip: cudaIsAvailable() ? 'CUDA present' : false },
  async (t) => {
    const out = join(root, 'refused');
    await assert.rejects(trainModel(SHAPES_TASK, options(out)), DeviceError);
    assert.equal(getDefaultDevice(), 'cpu');
    await t.test('before anything is written: no folder, no lock left to refuse the next run', () => {
      assert.equal(existsSync(join(out, RUN_LOCK_FILE)), false, 'no lock left behind');
      assert.equal(existsSync(out), false, 'nothing written');
    });
  },
);

void test(
  'training on cuda writes a bundle whose weights load on the CPU, and restores the default device',
  { skip: NO_CUDA },
  async () => {
    const out = join(root, 'cuda');
    const result = await trainModel(SHAPES_TASK, options(out));
    assert.equal(getDefaultDevice(), 'cpu');
    assert.ok(
      Number.isFinite(result.evaluation.metrics['devBce']),
      `dev BCE ${result.evaluation.metrics['devBce']}`,
    );
    const weights = loadSafetensors(result.bundle.weightsPath);
    assert.ok(weights.size > 0);
    assert.ok([...weights.values()].every((t) => t.device === 'cpu'));
    assert.doesNotThrow(() => loadBundle(out));
    assert.equal(existsSync(join(out, RUN_LOCK_FILE)), false);
  },
);
