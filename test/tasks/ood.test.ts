import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { preprocess } from '../../src/preprocess/index.js';
import { readRadiograph } from '../../src/radiograph/index.js';
import {
  checkHand,
  fitOodModel,
  handDescriptors,
  labelsInSplit,
  OOD_DESCRIPTORS,
  OodModelError,
  readBoneAgeLabels,
} from '../../src/tasks/index.js';

void test('fitOodModel takes each descriptor range, trimmed by the tail', () => {
  // grid_1000x2: descriptor 0 runs 0..999, descriptor 1 runs 0..-999
  const rows = Array.from({ length: 1000 }, (_, i) => [i, 0 - i]);
  const full = fitOodModel(rows, 0);
  assert.deepEqual([full.low, full.high], [
    [0, -999],
    [999, 0],
  ]);
  const trimmed = fitOodModel(rows, 0.01);
  assert.deepEqual([trimmed.low, trimmed.high], [
    [10, -989],
    [989, -10],
  ]);
  assert.deepEqual(trimmed.descriptors, OOD_DESCRIPTORS.slice(0, 2));
});

void test('checkHand accepts inside the ranges and names every descriptor outside', () => {
  const m = fitOodModel(
    Array.from({ length: 10 }, (_, i) => [i / 10, 1 + i]),
    0,
  );
  assert.deepEqual(checkHand(m, [0.5, 5]), { rejected: false });
  const v = checkHand(m, [-1, 50]);
  assert.equal(v.rejected, true);
  assert.match(v.reason ?? '', /logFilmAspect -1.00 outside \[0.00, 0.90\]; logExposedAspect 50.00 outside \[1.00, 10.00\]/);
  assert.throws(() => checkHand(m, [1]), OodModelError);
  assert.throws(() => fitOodModel([[1]]), OodModelError);
});

const SHARED = resolve('../shared/data');
const skip = existsSync(join(SHARED, 'rsna-hand')) && existsSync(join(SHARED, 'aasce-spine')) ? false : `no ${SHARED} (../shared absent)`;

void test('measured on real films: ≥ 99% of RSNA dev hands pass, ≥ 95% of AASCE spines are rejected', { skip }, async (t) => {
  const size = 128;
  const describe = async (path: string): Promise<number[]> => {
    const r = await readRadiograph(path);
    return handDescriptors({ width: r.columns, height: r.rows }, preprocess(r, { size }));
  };
  const rows = readBoneAgeLabels(join(SHARED, 'rsna-hand', 'labels.csv'));
  const train = await Promise.all(labelsInSplit(rows, 'train').map((r) => describe(r.path)));
  const dev = await Promise.all(labelsInSplit(rows, 'dev').map((r) => describe(r.path)));
  const spineFiles = readFileSync(join(SHARED, 'aasce-spine', 'labels.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => join(SHARED, 'aasce-spine', l.split(',')[0] ?? ''));
  const spines = await Promise.all(spineFiles.map(describe));
  const model = fitOodModel(train);
  const devPass = dev.filter((x) => !checkHand(model, x).rejected).length / dev.length;
  const spineRejected = spines.filter((x) => checkHand(model, x).rejected).length / spines.length;
  t.diagnostic(`dev hands passing ${(devPass * 100).toFixed(1)}% of ${dev.length}; AASCE spines rejected ${(spineRejected * 100).toFixed(1)}% of ${spines.length}`);
  assert.ok(devPass >= 0.99, `dev pass rate ${devPass}`);
  assert.ok(spineRejected >= 0.95, `spine rejection rate ${spineRejected}`);
});
