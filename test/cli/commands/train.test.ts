/**
 * `physis train --folds K` on a labels file with test rows: the test rows are excluded with a warning naming them, and
 * no fold trains or early-stops on them (each fold's training-rows.json). Synthetic films, 32 px, one epoch per fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsWithTestRows } from '../../infer/fixtures/tiny-bone-age.js';
import { TINY_TRAIN_ARGS } from '../../infer/fixtures/tiny-bone-age.js';
import { capture } from '../capture.js';
import { getTask } from '../../../src/tasks/index.js';
import { recipePreprocessing } from '../../../src/train/index.js';

interface TrainingRows {
  train: { id: string }[];
  dev: { id: string }[];
}

void test('physis train --folds 2 names the excluded test rows in a warning and trains no fold on them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-train-splits-'));
  try {
    const split = labelsWithTestRows(dir);
    const out = join(dir, 'cv');
    const r = await capture([
      'train',
      'hand-bone-age',
      '--data',
      dir,
      ...TINY_TRAIN_ARGS,
      '--folds',
      '2',
      '--out',
      out,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stderr.includes(
        `warning: ${join(dir, 'labels.csv')}: 3 row(s) of split 'test' excluded from training (e.g. blob_12.png, blob_13.png, blob_14.png); only train and dev rows are used\n`,
      ),
      r.stderr,
    );
    const seen = new Set<string>();
    for (const fold of ['fold-1', 'fold-2']) {
      const rows = JSON.parse(readFileSync(join(out, fold, 'training-rows.json'), 'utf8')) as TrainingRows;
      const ids = [...rows.train, ...rows.dev].map((x) => x.id);
      for (const t of split.test) assert.ok(!ids.includes(t), `${fold} never saw ${t}`);
      ids.forEach((id) => seen.add(id));
    }
    assert.deepEqual(
      [...seen].sort(),
      [...split.train, ...split.dev].sort(),
      'the folds pool exactly the train and dev rows',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('physis train --recipe: an unknown name is refused listing the named recipes; a named recipe is the base of --set and is recorded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-train-recipe-'));
  try {
    labelsWithTestRows(dir);
    const bad = await capture(['train', 'hand-bone-age', '--data', dir, '--recipe', 'nope', '--out', join(dir, 'x')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /hand-bone-age has no recipe 'nope'; its named recipes: gpu, gpu-swa, seed-paper/);
    const noInit = await capture(['train', 'hand-bone-age', '--data', dir, '--recipe', 'gpu-swa', '--out', join(dir, 'y')]);
    assert.equal(noInit.code, 2, noInit.stderr);
    assert.match(noInit.stderr, /recipe gpu-swa goes on from a trained model of recipe gpu: give --init <its bundle>/);
    assert.equal(existsSync(join(dir, 'y')), false, 'refused before anything is written');
    const where = await capture(['train', 'hand-bone-age', '--data', dir, '--augment-on', 'gpu', '--out', join(dir, 'z')]);
    assert.equal(where.code, 2, where.stderr);
    assert.match(where.stderr, /--augment-on must be batch or loader, got 'gpu'/);
    assert.equal(existsSync(join(dir, 'z')), false);
    // the seed paper's network is too slow for a unit test: its other choices are checked with a small network
    const out = join(dir, 'boys');
    const r = await capture(['train', 'hand-bone-age', '--data', dir, '--recipe', 'seed-paper', '--subset', 'sex=M', ...TINY_TRAIN_ARGS, '--arch', 'resnet18_w32', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /recipe: hand-bone-age recipe seed-paper with arch=resnet18_w32, inputSize=32, epochs=1, batchSize=4/);
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as {
      architecture: { options: { head: { groupedBy?: unknown } } };
      input: { preprocessing: Record<string, unknown> };
      trainingData: { command: string; subset: Record<string, string> };
    };
    assert.equal(card.architecture.options.head.groupedBy, undefined, 'one model per sex: no per-sex heads');
    assert.deepEqual(card.input.preprocessing, { size: 32, fit: 'letterbox', crop: true });
    assert.deepEqual(card.trainingData.subset, { sex: 'M' });
    assert.match(card.trainingData.command, /--recipe seed-paper/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the seed-paper recipe is Inception-ResNet-v2 at 299 px, letterboxed after the crop, one ReLU output, one model per sex', () => {
  const named = getTask('hand-bone-age').namedRecipes?.['seed-paper'];
  assert.ok(named);
  const task = getTask('hand-bone-age');
  assert.equal(named.recipe.arch, 'inception_resnet_v2');
  assert.equal(named.recipe.inputSize, 299);
  assert.deepEqual(recipePreprocessing(named.recipe), { size: 299, fit: 'letterbox', crop: true });
  assert.deepEqual(task.modelOptions(named.recipe).head, { kind: 'regression', outputs: 1, relu: true });
  assert.deepEqual(task.modelOptions(task.recipe).head, { kind: 'regression', outputs: 1, relu: true, groupedBy: { extraIndex: 0, groups: 2 } });
  assert.match(named.description, /--subset sex=M/);
});
