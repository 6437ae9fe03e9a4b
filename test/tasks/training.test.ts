/**
 * trainTask honours the labels file's split column: rows of any split but train and dev (test, holdout…) are excluded
 * and named, and never reach training (the bundle's training-rows.json lists exactly the train and dev rows).
 * Synthetic films, 32 px, one epoch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HAND_BONE_AGE_TASK, trainTask } from '../../src/tasks/index.js';
import { applyRecipe, NO_AUGMENTATION_KEYS } from '../../src/train/index.js';
import { labelsWithTestRows } from '../infer/fixtures/tiny-bone-age.js';

interface TrainingRows {
  train: { id: string }[];
  dev: { id: string }[];
}

void test("trainTask excludes a labels file's test rows, names them in a note, and never trains on them", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-train-splits-'));
  try {
    const split = labelsWithTestRows(dir);
    const notes: string[] = [];
    const recipe = applyRecipe(HAND_BONE_AGE_TASK.recipe, {
      set: ['inputSize=32', 'epochs=1', 'batchSize=4', ...NO_AUGMENTATION_KEYS],
    });
    const r = await trainTask(HAND_BONE_AGE_TASK, {
      data: dir,
      outDir: join(dir, 'run'),
      recipe,
      workers: 0,
      onNote: (l) => notes.push(l),
    });
    assert.equal(r.kind, 'single');
    const csv = join(dir, 'labels.csv');
    assert.deepEqual(notes, [
      `${csv}: 3 row(s) of split 'test' excluded from training (e.g. blob_12.png, blob_13.png, blob_14.png); only train and dev rows are used`,
    ]);
    const rows = JSON.parse(readFileSync(join(dir, 'run', 'training-rows.json'), 'utf8')) as TrainingRows;
    assert.deepEqual(
      rows.train.map((x) => x.id),
      split.train,
    );
    assert.deepEqual(
      rows.dev.map((x) => x.id),
      split.dev,
    );
    if (r.kind === 'single')
      assert.match(r.result.bundle.card.trainingData.summary, /: 8 train \/ 4 dev images$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
