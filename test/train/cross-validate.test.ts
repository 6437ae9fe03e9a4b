/**
 * K-fold cross-validation of any task (here the synthetic shapes task): one model per fold, every row predicted once
 * out of fold by the model that did not train on it, the fold ensemble as a composite with the task's calibration,
 * and a resume that continues the folds already started.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, loadComposite } from '../../src/infer/index.js';
import {
  crossValidate,
  TrainConfigError,
  type CrossValidateOptions,
  type EnsembleCalibration,
} from '../../src/train/index.js';
import { SHAPES_RECIPE, SHAPES_TASK, writeShapeFilms, type ShapeItem } from './fixtures/shapes-task.js';

let root = '';
let rows: ShapeItem[] = [];
let runs = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'physis-cv-'));
  // shapes_8x32 in 2 folds: 4 train / 4 dev each, batch 2, 1 epoch
  rows = writeShapeFilms(root, 8);
});
after(() => rmSync(root, { recursive: true, force: true }));

const options = (o: Partial<CrossValidateOptions<ShapeItem>> = {}): CrossValidateOptions<ShapeItem> => ({
  rows,
  folds: 2,
  outDir: join(root, `cv-${++runs}`),
  recipe: { ...SHAPES_RECIPE, epochs: 1, batchSize: 2 },
  workers: 0,
  threads: 2,
  modelId: 'shapes-cv',
  dataSummary: 'shapes_8x32',
  ...o,
});

void test('every row is predicted once out of fold; fold bundles, pooled report and the ensemble composite are written', async () => {
  let calibrated: { outputs: number; items: number } | null = null;
  const calibrate = (
    outputs: readonly Float32Array[],
    items: readonly ShapeItem[],
    data: string,
  ): EnsembleCalibration => {
    calibrated = { outputs: outputs.length, items: items.length };
    return {
      interval: {
        level: 0.9,
        halfWidth: 1.5,
        unit: 'logit',
        method: 'test',
        coverage: 0.9,
        n: outputs.length,
      },
      metrics: [{ name: 'testCalibration', value: 1.5, data }],
    };
  };
  const folds: [number, number, number][] = [];
  const o = options({
    ensemble: { description: 'test ensemble', calibrate },
    onFold: (f, k, nTrain, nDev) => folds.push([f, nTrain, nDev]),
  });
  const r = await crossValidate(SHAPES_TASK, o);
  assert.deepEqual(folds, [
    [1, 4, 4],
    [2, 4, 4],
  ]);
  assert.equal(r.folds.length, 2);
  assert.deepEqual(
    [...r.oofItems].sort((a, b) => a.id.localeCompare(b.id)),
    [...rows].sort((a, b) => a.id.localeCompare(b.id)),
    'each row once',
  );
  assert.deepEqual(
    r.oofOutputs,
    r.folds.flatMap((f) => f.devOutputs),
  );
  for (const [i, f] of r.folds.entries()) {
    const card = loadBundle(join(o.outDir, `fold-${i + 1}`)).card;
    assert.equal(card.id, `shapes-cv-fold${i + 1}`);
    assert.equal(card.files.weights.sha256, f.bundle.card.files.weights.sha256);
  }
  assert.deepEqual(Object.keys(r.aggregate).sort(), ['devAccuracy', 'devBce']);
  const bce = r.folds.map((f) => f.evaluation.metrics['devBce'] as number);
  assert.ok(Math.abs((r.aggregate['devBce']?.mean ?? Number.NaN) - (bce[0]! + bce[1]!) / 2) < 1e-12);
  assert.ok(existsSync(r.reportHtml) && existsSync(r.reportJson));
  assert.deepEqual(calibrated, { outputs: 8, items: 8 });
  const composite = loadComposite(o.outDir);
  assert.equal(composite.manifest.kind, 'ensemble');
  assert.equal(composite.manifest.task, SHAPES_TASK.name);
  assert.deepEqual(
    composite.manifest.members.map((m) => m.path),
    ['fold-1', 'fold-2'],
  );
  assert.equal(composite.manifest.interval90?.halfWidth, 1.5);
  assert.ok(composite.manifest.metrics.some((m) => m.name === 'devBceFoldMean'));
  assert.ok(composite.manifest.metrics.some((m) => m.name === 'testCalibration'));
});

void test('cross-validation needs at least 2 folds', async () => {
  await assert.rejects(
    crossValidate(SHAPES_TASK, options({ folds: 1 })),
    (e: unknown) => e instanceof TrainConfigError && /at least 2 folds, got 1/.test(e.message),
  );
});

void test('an interrupted cross-validation resumes: the finished fold is kept, the others are trained', async (t) => {
  const o = options();
  await assert.rejects(
    crossValidate(SHAPES_TASK, {
      ...o,
      onFold: (f) => {
        if (f === 2) throw new Error('simulated interruption');
      },
    }),
    /simulated interruption/,
  );
  const first = loadBundle(join(o.outDir, 'fold-1')).card.files.weights.sha256;
  assert.equal(existsSync(join(o.outDir, 'fold-2')), false);
  await t.test('resume: true finishes the run', async () => {
    const epochs: number[] = [];
    const r = await crossValidate(SHAPES_TASK, {
      ...o,
      resume: true,
      onEpoch: (e) => epochs.push(e.epoch),
    });
    assert.deepEqual(epochs, [0], 'only fold 2 trains');
    assert.equal(r.folds[0]?.bundle.card.files.weights.sha256, first);
    assert.equal(r.oofOutputs.length, 8);
  });
});
