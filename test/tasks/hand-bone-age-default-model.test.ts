import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { TRAIN_SHORTHANDS } from '../../src/cli/commands/train.js';
import { loadBundle } from '../../src/infer/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { applyRecipe, NO_AUGMENTATION_KEYS, recipePreprocessing, type TrainRecipe } from '../../src/train/index.js';

// The shipped bundle must be what one of the task's recipes trains: the recipe its card's command builds (the named
// recipe it picks, then its --set overrides and shorthands, as `physis train` applies them) must equal the default or
// a named recipe exactly; the command may not pick data rows (--limit, --folds, --subset) or read a recipe file. A
// change to that recipe without retraining fails here. A recipe that goes on from a trained model needs --init, and
// the card then names the weights it started from.
const DIR = 'models/hand-bone-age';
const FORBIDDEN = ['--config', '--limit', '--folds', '--subset', '--sex', '--freeze-epochs'];

/** One line of the shipped train.jsonl: an epoch record, or the record of the averaged weights. */
interface ShippedLine {
  epoch?: number;
  trainLoss?: number;
  dev: { devMaeMonths: number };
  averaged?: { snapshots: number; fromEpoch: number; toEpoch: number };
}

/** The recipe a card's command trains with, and the name of the task's recipe it equals ('default' or a named one). */
function recipeOfCommand(command: string): { recipe: TrainRecipe; name: string | undefined; continues: string | undefined } {
  const words = command.split(' ');
  const values = (flag: string): string[] => words.flatMap((w, i) => (w === flag && words[i + 1] !== undefined ? [words[i + 1] as string] : []));
  for (const flag of FORBIDDEN) assert.ok(!words.includes(flag), `the card command may not use ${flag}: ${command}`);
  const picked = values('--recipe')[0];
  const named = HAND_BONE_AGE_TASK.namedRecipes ?? {};
  const base = picked === undefined ? HAND_BONE_AGE_RECIPE : named[picked]?.recipe;
  assert.ok(base, `card command names an unknown recipe: ${command}`);
  const sets = [
    ...values('--set'),
    ...Object.entries(TRAIN_SHORTHANDS).flatMap(([option, key]) => values(`--${option}`).map((v) => `${key}=${v}`)),
    ...(words.includes('--no-augment') ? NO_AUGMENTATION_KEYS : []),
  ];
  const recipe = applyRecipe(base, { set: sets });
  const candidates: [string, TrainRecipe, string | undefined][] = [
    ['default', HAND_BONE_AGE_RECIPE, undefined],
    ...Object.entries(named).map(([n, r]): [string, TrainRecipe, string | undefined] => [n, r.recipe, r.continues]),
  ];
  const hit = candidates.find(([, r]) => isDeepStrictEqual(r, recipe));
  return { recipe, name: hit?.[0], continues: hit?.[2] };
}

void test('the shipped hand-bone-age bundle was trained by one of the task\'s recipes, to the last epoch', () => {
  const { card } = loadBundle(DIR);
  assert.equal(card.schemaVersion, 2);
  assert.equal(card.task, HAND_BONE_AGE_TASK.name);
  assert.equal(HAND_BONE_AGE_TASK.defaultModel, DIR);
  const command = card.trainingData.command ?? '';
  assert.match(command, /^physis train hand-bone-age /);
  const { recipe, name, continues } = recipeOfCommand(command);
  assert.ok(name, `the card command's recipe equals none of the task's recipes: ${command}`);
  if (continues === undefined) {
    assert.ok(!command.split(' ').includes('--init'), `recipe ${name} trains from scratch: ${command}`);
    assert.equal(card.trainingData.init, undefined);
  } else {
    assert.ok(command.split(' ').includes('--init'), `recipe ${name} goes on from a model of recipe ${continues}: ${command}`);
    assert.match(card.trainingData.init?.weightsSha256 ?? '', /^[0-9a-f]{64}$/, 'the card names the weights it started from');
  }
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
    .map((l) => JSON.parse(l) as ShippedLine);
  const epochs = log.filter((e) => e.epoch !== undefined);
  assert.deepEqual(
    epochs.map((e) => e.epoch),
    Array.from({ length: recipe.epochs }, (_, i) => i),
  );
  assert.ok(
    epochs.every((e) => Number.isFinite(e.trainLoss) && Number.isFinite(e.dev.devMaeMonths)),
    'every epoch logged its loss and dev MAE',
  );
  const averaging = recipe.averaging ?? { fromEpoch: 0, perEpoch: 1 };
  if (averaging.fromEpoch > 0) {
    const last = log.at(-1);
    assert.deepEqual(
      { snapshots: last?.averaged?.snapshots, fromEpoch: last?.averaged?.fromEpoch, toEpoch: last?.averaged?.toEpoch },
      { snapshots: (recipe.epochs - averaging.fromEpoch + 1) * averaging.perEpoch, fromEpoch: averaging.fromEpoch, toEpoch: recipe.epochs },
      'the log ends with the averaged weights, every snapshot of the recipe taken',
    );
    const mae = card.metrics.find((m) => m.name === 'mae')?.value ?? NaN;
    assert.ok(Math.abs((last?.dev.devMaeMonths ?? NaN) - mae) < 1e-9, 'the card\'s dev MAE is the averaged weights\'');
    assert.match(card.trainingData.weights ?? '', /^mean of \d+ snapshots/);
  } else {
    assert.equal(log.length, epochs.length);
  }
});

void test('the shipped hand-bone-age bundle, every file in its folder counted, is at most 25 MB (25,000,000 bytes)', () => {
  const files = readdirSync(DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  const bytes = files.reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
  assert.ok(files.some((e) => e.name === 'weights.safetensors'), 'the weights are counted');
  assert.ok(bytes <= 25_000_000, `${DIR} holds ${bytes} bytes`);
});
