import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HAND_BONE_AGE_DEFAULT_CONFIG } from '../../src/tasks/index.js';

// The shipped bundle must be what the task's default recipe trains: its card's command may set only data, output,
// threads, workers and weight precision. A change to the default recipe without retraining fails here.
const CARD = 'models/hand-bone-age/card.json';
const RECIPE_FLAGS = ['--arch', '--size', '--epochs', '--batch', '--lr', '--weight-decay', '--patience', '--seed', '--no-augment', '--limit', '--init', '--freeze-epochs', '--folds', '--sex'];

interface Card {
  architecture: { name: string };
  input: { shape: number[] };
  trainingData: { command?: string };
}

void test('the shipped hand-bone-age bundle was trained by the default recipe, to the last epoch', () => {
  const card = JSON.parse(readFileSync(CARD, 'utf8')) as Card;
  const command = card.trainingData.command ?? '';
  assert.match(command, /^physis train hand-bone-age /);
  for (const flag of RECIPE_FLAGS) assert.ok(!command.split(' ').includes(flag), `card command overrides the recipe with ${flag}: ${command}`);
  assert.equal(card.architecture.name, HAND_BONE_AGE_DEFAULT_CONFIG.arch);
  assert.deepEqual(card.input.shape, [1, HAND_BONE_AGE_DEFAULT_CONFIG.inputSize, HAND_BONE_AGE_DEFAULT_CONFIG.inputSize]);
  const epochs = readFileSync('models/hand-bone-age/train.jsonl', 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  assert.deepEqual(epochs, Array.from({ length: HAND_BONE_AGE_DEFAULT_CONFIG.epochs }, (_, i) => i));
});
