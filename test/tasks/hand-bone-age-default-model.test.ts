import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadBundle } from '../../src/infer/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import type { HandRecipe } from '../../src/tasks/hand-bone-age/index.js';
import { recipePreprocessing } from '../../src/train/index.js';

// The shipped bundle must be what one of the task's recipes trains (the default, or a named one its card's command
// picks with --recipe or with the equivalent --arch/--epochs shorthands); otherwise the command may set only data,
// output, device, threads, workers and weight precision. A change to that recipe without retraining fails here.
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

/**
 * The recipe a card's command names: --recipe NAME, or the named recipe whose arch and epochs the --arch/--epochs
 * shorthands give exactly (no other recipe flag allowed), or the default recipe when it sets none.
 */
function recipeOfCommand(command: string): HandRecipe {
  const words = command.split(' ');
  const value = (flag: string): string | undefined => {
    const i = words.indexOf(flag);
    return i < 0 ? undefined : words[i + 1];
  };
  const used = RECIPE_FLAGS.filter((f) => words.includes(f));
  const named = Object.entries(HAND_BONE_AGE_TASK.namedRecipes ?? {});
  if (used.length === 0) return HAND_BONE_AGE_RECIPE;
  if (used.length === 1 && used[0] === '--recipe') {
    const hit = named.find(([n]) => n === value('--recipe'));
    assert.ok(hit, `card command names an unknown recipe: ${command}`);
    return hit[1].recipe as HandRecipe;
  }
  assert.deepEqual(used.sort(), ['--arch', '--epochs'], `card command overrides the recipe beyond a named one: ${command}`);
  const hit = named.find(([, r]) => r.recipe.arch === value('--arch') && String(r.recipe.epochs) === value('--epochs') && JSON.stringify({ ...r.recipe, arch: HAND_BONE_AGE_RECIPE.arch, epochs: HAND_BONE_AGE_RECIPE.epochs }) === JSON.stringify(HAND_BONE_AGE_RECIPE));
  assert.ok(hit, `--arch/--epochs of the card command match no named recipe that differs from the default in only those: ${command}`);
  return hit[1].recipe as HandRecipe;
}

void test('the shipped hand-bone-age bundle was trained by one of the task\'s recipes, to the last epoch', () => {
  const { card } = loadBundle(DIR);
  assert.equal(card.schemaVersion, 2);
  assert.equal(card.task, HAND_BONE_AGE_TASK.name);
  assert.equal(HAND_BONE_AGE_TASK.defaultModel, DIR);
  const command = card.trainingData.command ?? '';
  assert.match(command, /^physis train hand-bone-age /);
  const recipe = recipeOfCommand(command);
  assert.equal(card.trainingData.subset, undefined, 'trained on every sex');
  assert.equal(card.architecture.name, recipe.arch);
  assert.deepEqual(card.architecture.options, HAND_BONE_AGE_TASK.modelOptions(recipe));
  assert.deepEqual(card.input.shape, [1, recipe.inputSize, recipe.inputSize]);
  assert.deepEqual(card.input.preprocessing, { ...recipePreprocessing(recipe) });
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
    Array.from({ length: recipe.epochs }, (_, i) => i),
  );
  assert.ok(
    log.every((e) => Number.isFinite(e.trainLoss) && Number.isFinite(e.dev.devMaeMonths)),
    'every epoch logged its loss and dev MAE',
  );
});
