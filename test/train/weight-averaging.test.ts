/**
 * Weight averaging (SWA): the snapshot steps, the running mean and its checkpoint, batch-norm statistics recomputed
 * as a cumulative mean, and the trainer shipping the averaged weights (resumable bit for bit, named in the card).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle } from '../../src/infer/index.js';
import { BatchNorm2d, Conv2d, Sequential, loadSafetensors, noGrad, tensor, type Tensor } from '../../src/torch/index.js';
import {
  CHECKPOINT_FILE,
  readJsonl,
  recomputeBatchNorm,
  snapshotSteps,
  TrainConfigError,
  trainModel,
  WeightAverager,
  type TrainOptions,
  type TrainRecipe,
} from '../../src/train/index.js';
import { SHAPES_RECIPE, SHAPES_TASK, writeShapeFilms, type ShapeItem } from './fixtures/shapes-task.js';

let root = '';
let train: ShapeItem[] = [];
let dev: ShapeItem[] = [];
let runs = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'physis-swa-'));
  train = writeShapeFilms(root, 6, 0);
  dev = writeShapeFilms(root, 4, 6);
});
after(() => rmSync(root, { recursive: true, force: true }));

const values = (t: Tensor): number[] => Array.from(t.toFloat32Array());

void test('snapshot steps are evenly spaced, the last at the end of the epoch, at most one per step', () => {
  assert.deepEqual([...snapshotSteps(10, 4)], [3, 5, 8, 10]);
  assert.deepEqual([...snapshotSteps(10, 1)], [10]);
  assert.deepEqual([...snapshotSteps(3, 10)], [1, 2, 3]);
});

void test('the averager keeps the running mean of its snapshots, writes it in place and round-trips through a file', () => {
  const a = tensor([0, 0, 0], [3]);
  const b = tensor([1, 2], [2]);
  const params = [['a', a], ['b', b]] as const;
  const averager = new WeightAverager(params);
  assert.throws(() => averager.copyInto(params), /no snapshot was taken/);
  const snapshots = [
    [[1, 2, 3], [4, 5]],
    [[3, 2, 1], [6, 7]],
    [[5, 5, 5], [2, 0]],
  ];
  for (const [va, vb] of snapshots) {
    a.copy_(tensor(va as number[], [3]));
    b.copy_(tensor(vb as number[], [2]));
    averager.update(params);
  }
  assert.equal(averager.count, 3);
  const file = join(root, 'average.safetensors');
  averager.save(file);
  averager.copyInto(params);
  assert.deepEqual(values(a), [3, 3, 3]);
  assert.deepEqual(values(b), [4, 4]);
  // a fresh averager loaded from the file continues the same mean: (3·3 + 7) / 4 = 4
  const again = new WeightAverager(params);
  again.load(file, 3);
  a.copy_(tensor([7, 7, 7], [3]));
  again.update(params);
  again.copyInto(params);
  assert.deepEqual(values(a), [4, 4, 4]);
  assert.throws(() => new WeightAverager([['c', tensor([1], [1])]]).load(file, 3), /'c' is missing or has another shape/);
  assert.throws(() => again.load(join(root, 'absent.safetensors'), 2), /averaged weights of 2 snapshots are missing/);
  averager.dispose();
  again.dispose();
});

void test('batch-norm statistics are recomputed as the plain mean over the batches, and the layers are left as they were', async () => {
  const bn = new BatchNorm2d(1);
  const model = new Sequential(new Conv2d(1, 1, 1, { bias: false }), bn);
  noGrad(() => (model.namedParameters().find(([n]) => n === '0.weight')?.[1] as Tensor).fill_(1));
  model.eval();
  // three batches of two 1×1 images: batch means 1, 5, 9; unbiased batch variances 2, 8, 0
  const batches = [
    [0, 2],
    [3, 7],
    [9, 9],
  ];
  async function* iterate(): AsyncGenerator<number[]> {
    yield* batches;
  }
  const n = await recomputeBatchNorm(model, iterate(), (b) => model.call(tensor(b, [2, 1, 1, 1])));
  assert.equal(n, 3);
  assert.ok(Math.abs((values(bn.runningMean)[0] ?? NaN) - 5) < 1e-6, 'mean of the batch means');
  assert.ok(Math.abs((values(bn.runningVar)[0] ?? NaN) - 10 / 3) < 1e-5, 'mean of the unbiased batch variances');
  assert.equal(bn.momentum, 0.1, 'momentum restored');
  assert.equal(model.training, false, 'eval mode restored');
  // the check can fail: an exponential average with momentum 0.1 would give another mean
  assert.notEqual(values(bn.runningMean)[0], 0.1 * 9 + 0.09 * 5 + 0.081 * 1);
});

const recipe = (averaging: TrainRecipe['averaging']): TrainRecipe => ({ ...SHAPES_RECIPE, epochs: 3, batchSize: 3, ...(averaging ? { averaging } : {}) });

const options = (o: Partial<TrainOptions<ShapeItem>> = {}): TrainOptions<ShapeItem> => ({
  train,
  dev,
  outDir: join(root, `run-${++runs}`),
  recipe: recipe({ fromEpoch: 2, perEpoch: 2 }),
  workers: 0,
  threads: 2,
  modelId: 'shapes-swa',
  dataSummary: 'shapes_6x32 / shapes_4x32',
  ...o,
});

void test('the trainer ships the mean of the snapshots, names them in the card and the log, and resumes to the same bytes', async () => {
  const straight = await trainModel(SHAPES_TASK, options());
  assert.deepEqual(straight.averaged, { snapshots: 4, fromEpoch: 2, toEpoch: 3, batchNormBatches: 2 });
  const card = straight.bundle.card;
  assert.match(card.trainingData.weights ?? '', /^mean of 4 snapshots \(2 per epoch, epochs 2–3; SWA/);
  const log = readJsonl(join(straight.bundle.dir, 'train.jsonl'));
  assert.deepEqual(log.at(-1)?.['averaged'], straight.averaged);
  assert.deepEqual(log.at(-1)?.['dev'], straight.evaluation.metrics);
  // the shipped weights are neither the best epoch's nor the last epoch's
  const shipped = loadSafetensors(join(straight.bundle.dir, card.files.weights.path));
  for (const file of ['best.safetensors', 'last.safetensors']) {
    const other = loadSafetensors(join(straight.bundle.dir, 'checkpoint', file));
    const name = 'fc.weight';
    assert.notDeepEqual(values(shipped.get(name) as Tensor), values(other.get(name) as Tensor), `${file} differs`);
  }

  const out = join(root, `run-${++runs}`);
  await assert.rejects(
    trainModel(SHAPES_TASK, options({ outDir: out, onEpoch: (e) => {
      if (e.epoch === 1) throw new Error('simulated interruption');
    } })),
    /simulated interruption/,
  );
  assert.ok(existsSync(join(out, 'checkpoint', CHECKPOINT_FILE)));
  const resumed = await trainModel(SHAPES_TASK, options({ outDir: out, resume: true }));
  assert.equal(resumed.bundle.card.files.weights.sha256, card.files.weights.sha256, 'the running mean survives the interruption');

  // without averaging the card says the best epoch's weights were kept, and the weights differ
  const plain = await trainModel(SHAPES_TASK, options({ recipe: recipe({ fromEpoch: 0, perEpoch: 1 }) }));
  assert.equal(plain.averaged, undefined);
  assert.match(plain.bundle.card.trainingData.weights ?? '', /^the best epoch's \(\d of 3, by dev /);
  assert.notEqual(plain.bundle.card.files.weights.sha256, card.files.weights.sha256);
});

void test('a fine-tuned card names the weights it started from by hash; averaging outside the run is refused', async () => {
  const base = await trainModel(SHAPES_TASK, options({ recipe: recipe({ fromEpoch: 0, perEpoch: 1 }) }));
  const tuned = await trainModel(SHAPES_TASK, options({ init: base.bundle.dir, recipe: { ...recipe({ fromEpoch: 1, perEpoch: 1 }), epochs: 1 } }));
  assert.deepEqual(tuned.bundle.card.trainingData.init, { source: base.bundle.dir, weightsSha256: base.bundle.card.files.weights.sha256 });
  assert.deepEqual(loadBundle(tuned.bundle.dir).card.trainingData.init, tuned.bundle.card.trainingData.init, 'the card validates with it');
  for (const averaging of [{ fromEpoch: 4, perEpoch: 1 }, { fromEpoch: 1, perEpoch: 0 }, { fromEpoch: 1.5, perEpoch: 1 }]) {
    await assert.rejects(trainModel(SHAPES_TASK, options({ recipe: recipe(averaging) })), TrainConfigError);
  }
});
