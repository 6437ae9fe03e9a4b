/**
 * `physis train --folds K` on a labels file with test rows: the test rows are excluded with a warning naming them, and
 * no fold trains or early-stops on them (each fold's training-rows.json). Synthetic films, 32 px, one epoch per fold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelsWithTestRows } from '../../infer/fixtures/tiny-bone-age.js';
import { TINY_TRAIN_ARGS } from '../../infer/fixtures/tiny-bone-age.js';
import { capture } from '../capture.js';

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
