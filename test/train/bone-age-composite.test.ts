import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveComposite } from '../../src/infer/index.js';
import {
  calibrateOofInterval,
  disposeBoneAgeModels,
  ensembleMean,
  evaluateBoneAgeModels,
  openBoneAgeModels,
  predictBoneAges,
  predictBoneAgesWithSet,
} from '../../src/train/index.js';
import { tinyBoneAgeBundle, writeBlobPng } from '../infer/fixtures/tiny-bone-age.js';

void test('OOF interval: the ceil((n+1)0.9)-th smallest |residual|, its coverage, and held-out coverage', () => {
  // residuals ±1..±9 months (signs alternate): k = ceil(10 * 0.9) = 9 -> half-width 9, all covered
  const nine = Array.from({ length: 9 }, (_, i) => ({ predicted: 100, reference: 100 + (i % 2 === 0 ? 1 : -1) * (i + 1) }));
  const c9 = calibrateOofInterval(nine);
  assert.deepEqual([c9.halfWidthMonths, c9.coverage, c9.n, c9.level], [9, 1, 9, 0.9]);
  // |residuals| 2, 4, ..., 38 (19 cases): k = 18 -> 36 months, 18 of 19 covered
  const c19 = calibrateOofInterval(Array.from({ length: 19 }, (_, i) => ({ predicted: 50, reference: 50 + 2 * (i + 1) })));
  assert.equal(c19.halfWidthMonths, 36);
  assert.equal(c19.coverage, 18 / 19);
  // held out: |residuals| 1..20; even-indexed cases hold 1,3,..,19 (k = ceil(11*0.9) = 10 -> 19), odd 2,..,20 (-> 20);
  // 19 covers 9 of the 10 odd cases, 20 covers all 10 even ones -> (0.9 + 1) / 2
  const c20 = calibrateOofInterval(Array.from({ length: 20 }, (_, i) => ({ predicted: 0, reference: i + 1 })));
  assert.equal(c20.coverageHeldOut, (0.9 + 1) / 2);
  assert.equal(calibrateOofInterval([{ predicted: 1, reference: 4 }]).coverageHeldOut, null);
  assert.throws(() => calibrateOofInterval([]), /no out-of-fold predictions/);
  assert.throws(() => calibrateOofInterval(nine, 1), /level 1 must be in \(0, 1\)/);
});

void test('ensembleMean: weighted mean and the sample SD of the members', () => {
  assert.deepEqual(ensembleMean([10, 20, 30]), { meanMonths: 20, sdMonths: 10 });
  assert.equal(ensembleMean([10, 20], [3, 1]).meanMonths, 12.5);
  assert.equal(ensembleMean([42]).sdMonths, 0);
  assert.throws(() => ensembleMean([1, 2], [1]), /ensemble of 2 predictions with 1 weights/);
});

void test('a composite predicts labelled items: ensemble = mean of members, sex-specific = the member of each item\'s sex', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-composite-train-'));
  try {
    const images = [0, 3, -3, 6].map((s, i) => writeBlobPng(join(dir, `blob_${i}.png`), s));
    const items = images.map((path, i) => ({ path, boneAgeMonths: 60 + 12 * i, sex: (i % 2 === 0 ? 'M' : 'F') as 'M' | 'F', id: `blob_${i}` }));
    const ens = join(dir, 'ens');
    tinyBoneAgeBundle(join(ens, 'fold-1'), { id: 'f1', seed: 1, biasMonths: 60 });
    tinyBoneAgeBundle(join(ens, 'fold-2'), { id: 'f2', seed: 2, biasMonths: 100 });
    saveComposite(ens, { kind: 'ensemble', id: 'ens', task: 'hand-bone-age', members: ['fold-1', 'fold-2'], description: 'test' });
    const set = openBoneAgeModels(ens);
    try {
      assert.equal(set.kind, 'ensemble');
      const o = { workers: 0, batchSize: 2 };
      const got = await predictBoneAgesWithSet(set, items, o);
      const each = await Promise.all(set.members.map((m) => predictBoneAges(m.model, items, { ...o, size: 32 })));
      got.forEach((g, i) => {
        const values = each.map((e) => e[i]?.predicted as number);
        assert.deepEqual(g.memberPredictions, values);
        assert.equal(g.predicted, (values[0]! + values[1]!) / 2);
        assert.equal(g.id, `blob_${i}`);
      });
      assert.ok(Math.abs((got[0]?.memberPredictions?.[0] ?? 0) - (got[0]?.memberPredictions?.[1] ?? 0)) > 10, 'the members differ');
    } finally {
      disposeBoneAgeModels(set);
    }
    const bySex = join(dir, 'by-sex');
    tinyBoneAgeBundle(join(bySex, 'male'), { id: 'm', seed: 1, biasMonths: 60, sex: 'M' });
    tinyBoneAgeBundle(join(bySex, 'female'), { id: 'f', seed: 2, biasMonths: 100, sex: 'F' });
    saveComposite(bySex, { kind: 'sex-specific', id: 'by-sex', task: 'hand-bone-age', members: [{ path: 'male', sex: 'M' }, { path: 'female', sex: 'F' }], description: 'test' });
    const pair = openBoneAgeModels(bySex);
    try {
      const got = await predictBoneAgesWithSet(pair, items, { workers: 0 });
      const male = await predictBoneAges(pair.members[0]!.model, items, { size: 32, workers: 0 });
      const female = await predictBoneAges(pair.members[1]!.model, items, { size: 32, workers: 0 });
      got.forEach((g, i) => assert.equal(g.predicted, (items[i]?.sex === 'M' ? male : female)[i]?.predicted, `item ${i} routed by sex`));
    } finally {
      disposeBoneAgeModels(pair);
    }
    const r = await evaluateBoneAgeModels(bySex, items, { outDir: join(dir, 'eval'), workers: 0, dataSummary: 'blobs' });
    assert.equal(r.samples.length, 4);
    assert.ok(Number.isFinite(r.maeMonths));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
