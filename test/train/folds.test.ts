import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupedKFold, Rng, stratifiedKFold, TrainConfigError, type Fold } from '../../src/train/index.js';

function checkPartition(folds: Fold[], n: number): void {
  const seen = new Array<number>(n).fill(0);
  for (const f of folds) {
    for (const i of f.dev) seen[i] = (seen[i] as number) + 1;
    assert.equal(f.train.length + f.dev.length, n);
    const dev = new Set(f.dev);
    assert.ok(f.train.every((i) => !dev.has(i)), 'train and dev are disjoint');
  }
  assert.ok(seen.every((c) => c === 1), 'every item is in exactly one dev fold');
}

// ages_sexes_103: bone ages 12..228 months, sex alternating in a 2:1 pattern
const rng = new Rng(11);
const ITEMS = Array.from({ length: 103 }, (_, i) => ({ target: 12 + rng.uniform(0, 216), stratum: i % 3 === 0 ? 'M' : 'F' }));

void test('stratifiedKFold partitions the items with balanced sizes', () => {
  const folds = stratifiedKFold(ITEMS, 5, { seed: 1 });
  checkPartition(folds, ITEMS.length);
  const sizes = folds.map((f) => f.dev.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${sizes}`);
});

void test('stratifiedKFold spreads every (sex, 24-month bin) stratum evenly', () => {
  const folds = stratifiedKFold(ITEMS, 4, { seed: 2, binWidth: 24 });
  const strata = new Map<string, number[]>();
  folds.forEach((f, k) => {
    for (const i of f.dev) {
      const it = ITEMS[i];
      assert.ok(it);
      const key = `${it.stratum}|${Math.floor(it.target / 24)}`;
      const counts = strata.get(key) ?? [0, 0, 0, 0];
      counts[k] = (counts[k] as number) + 1;
      strata.set(key, counts);
    }
  });
  for (const [key, counts] of strata) assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${key}: ${counts}`);
});

void test('folds are reproducible by seed and change with it', () => {
  assert.deepEqual(stratifiedKFold(ITEMS, 5, { seed: 3 }), stratifiedKFold(ITEMS, 5, { seed: 3 }));
  assert.notDeepEqual(stratifiedKFold(ITEMS, 5, { seed: 3 }), stratifiedKFold(ITEMS, 5, { seed: 4 }));
});

void test('groupedKFold keeps each group on one side and balances sizes', () => {
  // patients_40: 40 patients with 1-4 images each
  const groups: string[] = [];
  for (let p = 0; p < 40; p++) for (let j = 0; j <= p % 4; j++) groups.push(`patient-${p}`);
  const folds = groupedKFold(groups, 5, 9);
  checkPartition(folds, groups.length);
  for (const f of folds) {
    const devGroups = new Set(f.dev.map((i) => groups[i]));
    assert.ok(f.train.every((i) => !devGroups.has(groups[i])), 'no group on both sides');
  }
  const sizes = folds.map((f) => f.dev.length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 4, `${sizes}`);
  assert.deepEqual(groupedKFold(groups, 5, 9), folds);
});

void test('impossible fold counts are refused', () => {
  assert.throws(() => stratifiedKFold(ITEMS.slice(0, 3), 5, { seed: 1 }), TrainConfigError);
  assert.throws(() => stratifiedKFold(ITEMS, 1, { seed: 1 }), /folds must be an integer >= 2/);
  assert.throws(() => groupedKFold(['a', 'a', 'b'], 3, 1), /cannot make 3 folds from 2 groups/);
  assert.throws(() => stratifiedKFold([{ target: Number.NaN }, { target: 1 }], 2, { seed: 1 }), /target NaN/);
});
