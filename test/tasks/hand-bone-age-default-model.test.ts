import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadBundle } from '../../src/infer/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { recipePreprocessing } from '../../src/train/index.js';

// The shipped bundle must be what the task's default recipe trains: its card's command may set only data, output,
// threads, workers and weight precision. A change to the default recipe without retraining fails here.
const DIR = 'models/hand-bone-age';
const RECIPE_FLAGS = [
  '--config',
  '--set',
  '--arch',
  '--size',
  '--epochs',
  '--batch',
  '--lr',
  '--weight-decay',
  '--patience',
  '--seed',
  '--no-augment',
  '--limit',
  '--init',
  '--freeze-epochs',
  '--folds',
  '--subset',
  '--sex',
  '--recipe',
];

/** One line of the shipped train.jsonl (the generic trainer's epoch record). */
interface ShippedEpoch {
  epoch: number;
  trainLoss: number;
  dev: { devMaeMonths: number };
}

void test('the shipped hand-bone-age bundle was trained by the default recipe, to the last epoch', () => {
  const { card } = loadBundle(DIR);
  assert.equal(card.schemaVersion, 2);
  assert.equal(card.task, HAND_BONE_AGE_TASK.name);
  assert.equal(HAND_BONE_AGE_TASK.defaultModel, DIR);
  const command = card.trainingData.command ?? '';
  assert.match(command, /^physis train hand-bone-age /);
  for (const flag of RECIPE_FLAGS)
    assert.ok(
      !command.split(' ').includes(flag),
      `card command overrides the recipe with ${flag}: ${command}`,
    );
  assert.equal(card.trainingData.subset, undefined, 'trained on every sex');
  assert.equal(card.architecture.name, HAND_BONE_AGE_RECIPE.arch);
  assert.deepEqual(card.architecture.options, HAND_BONE_AGE_TASK.modelOptions(HAND_BONE_AGE_RECIPE));
  assert.deepEqual(card.input.shape, [1, HAND_BONE_AGE_RECIPE.inputSize, HAND_BONE_AGE_RECIPE.inputSize]);
  assert.deepEqual(card.input.preprocessing, { ...recipePreprocessing(HAND_BONE_AGE_RECIPE) });
  assert.match(command, /--data \S*rsna-hand-lowres /, 'trained on the RSNA films at 100 px');
  assert.deepEqual((card.files.artifacts ?? []).map((a) => [a.role, a.path]).sort(), [
    ['interval', 'calibration.json'],
    ['ood', 'ood.json'],
    ['training-rows', 'training-rows.json'],
  ]);
  const log = readFileSync(`${DIR}/train.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ShippedEpoch);
  assert.deepEqual(
    log.map((e) => e.epoch),
    Array.from({ length: HAND_BONE_AGE_RECIPE.epochs }, (_, i) => i),
  );
  assert.ok(
    log.every((e) => Number.isFinite(e.trainLoss) && Number.isFinite(e.dev.devMaeMonths)),
    'every epoch logged its loss and dev MAE',
  );
});
