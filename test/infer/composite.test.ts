import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  COMPOSITE_FILE,
  isCompositeDir,
  loadBundle,
  loadComposite,
  saveComposite,
  validateComposite,
  validateModelCard,
} from '../../src/infer/index.js';
import { tinyBoneAgeBundle } from './fixtures/tiny-bone-age.js';

const withDir = (f: (dir: string) => void): void => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-composite-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

void test('an ensemble composite pins each member by card id and weights sha256 and loads them verified', () =>
  withDir((dir) => {
    const a = tinyBoneAgeBundle(join(dir, 'fold-1'), { id: 'tiny-fold1', seed: 1, biasMonths: 60 });
    const b = tinyBoneAgeBundle(join(dir, 'fold-2'), { id: 'tiny-fold2', seed: 2, biasMonths: 90 });
    assert.equal(isCompositeDir(dir), false);
    const c = saveComposite(dir, { kind: 'ensemble', id: 'tiny-ens', task: 'hand-bone-age', members: ['fold-1', 'fold-2'], description: 'test' });
    assert.equal(isCompositeDir(dir), true);
    assert.deepEqual(
      c.manifest.members.map((m) => [m.path, m.id, m.weightsSha256]),
      [
        ['fold-1', 'tiny-fold1', a.card.files.weights.sha256],
        ['fold-2', 'tiny-fold2', b.card.files.weights.sha256],
      ],
    );
    assert.deepEqual(loadComposite(dir).members.map((m) => m.card.id), ['tiny-fold1', 'tiny-fold2']);
  }));

void test('composite load refuses a missing member, a swapped member, and a tampered member file', () =>
  withDir((dir) => {
    tinyBoneAgeBundle(join(dir, 'fold-1'), { id: 'tiny-fold1', seed: 1, biasMonths: 60 });
    tinyBoneAgeBundle(join(dir, 'fold-2'), { id: 'tiny-fold2', seed: 2, biasMonths: 90 });
    saveComposite(dir, { kind: 'ensemble', id: 'tiny-ens', task: 'hand-bone-age', members: ['fold-1', 'fold-2'], description: 'test' });
    // swapped: fold-2 retrained (same id, other weights) after the composite was made
    const keep = join(dir, 'keep');
    cpSync(join(dir, 'fold-2'), keep, { recursive: true });
    tinyBoneAgeBundle(join(dir, 'fold-2'), { id: 'tiny-fold2', seed: 3, biasMonths: 90 });
    assert.throws(() => loadComposite(dir), (e: Error) => e.name === 'CompositeMemberError' && /fold-2: member 2 is tiny-fold2 with weights sha256 [0-9a-f]{64}, but composite.json pins tiny-fold2 with/.test(e.message));
    rmSync(join(dir, 'fold-2'), { recursive: true });
    assert.throws(() => loadComposite(dir), (e: Error) => e.name === 'BundleIncompleteError' && /member 2 'fold-2' \(tiny-fold2\) named in composite.json is missing/.test(e.message));
    cpSync(keep, join(dir, 'fold-2'), { recursive: true });
    assert.equal(loadComposite(dir).members.length, 2, 'the original member is accepted again');
    const w = join(dir, 'fold-2', 'weights.safetensors');
    const bytes = readFileSync(w);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    writeFileSync(w, bytes);
    assert.throws(() => loadComposite(dir), { name: 'BundleIntegrityError' });
  }));

void test('a routed composite needs one member per value of its input, each trained on that value', () =>
  withDir((dir) => {
    tinyBoneAgeBundle(join(dir, 'male'), { id: 'tiny-M', seed: 1, biasMonths: 60, sex: 'M' });
    tinyBoneAgeBundle(join(dir, 'female'), { id: 'tiny-F', seed: 2, biasMonths: 90, sex: 'F' });
    tinyBoneAgeBundle(join(dir, 'both'), { id: 'tiny-both', seed: 3, biasMonths: 75 });
    const draft = { kind: 'routed' as const, routeBy: 'sex', id: 'tiny-by-sex', task: 'hand-bone-age', description: 'test' };
    const c = saveComposite(dir, { ...draft, members: [{ path: 'male', route: 'M' }, { path: 'female', route: 'F' }] });
    assert.equal(c.manifest.routeBy, 'sex');
    assert.deepEqual(c.manifest.members.map((m) => m.route), ['M', 'F']);
    assert.throws(
      () => saveComposite(dir, { ...draft, members: [{ path: 'female', route: 'M' }, { path: 'male', route: 'F' }] }),
      (e: Error) => e.name === 'CompositeMemberError' && /the sex M member's card says it was trained on sex F only/.test(e.message),
    );
    assert.throws(
      () => saveComposite(dir, { ...draft, members: [{ path: 'both', route: 'M' }, { path: 'female', route: 'F' }] }),
      (e: Error) => e.name === 'CompositeMemberError' && /trained on every sex/.test(e.message),
    );
    assert.throws(
      () => saveComposite(dir, { ...draft, members: [{ path: 'male', route: 'M' }, { path: 'male', route: 'M' }] }),
      (e: Error) => e.name === 'CompositeError' && /of a routed composite must answer different sex values, got \[M, M\]/.test(e.message),
    );
  }));

const VALID = {
  format: 'physis-composite',
  schemaVersion: 2,
  kind: 'ensemble',
  id: 'x',
  task: 'hand-bone-age',
  members: [
    { path: 'a', id: 'a', weightsSha256: 'a'.repeat(64) },
    { path: 'b', id: 'b', weightsSha256: 'b'.repeat(64) },
  ],
  description: 'd',
  metrics: [],
  createdAt: '2026-01-01T00:00:00.000Z',
  physisVersion: '0.1.0',
};

// malformed composite.json: each case names the field
const MALFORMED: [string, Record<string, unknown>, RegExp][] = [
  ['unknown kind', { kind: 'stack' }, /kind must be 'ensemble' or 'routed'/],
  ['routed without routeBy', { kind: 'routed' }, /routeBy \(the input that chooses the member\) must be a non-empty string/],
  ['routed member without a route', { kind: 'routed', routeBy: 'sex' }, /members\[0\].route \(the sex value it answers\) must be a non-empty string/],
  ['interval without a unit', { interval90: { level: 0.9, halfWidth: 10, method: 'm', coverage: 0.9, n: 5 } }, /interval90.unit must be a non-empty string/],
  ['member outside the folder', { members: [{ path: '../a', id: 'a', weightsSha256: 'a'.repeat(64) }, VALID.members[1]] }, /members\[0\].path '..\/a' must be a folder inside/],
  ['absolute member path', { members: [{ path: '/tmp/a', id: 'a', weightsSha256: 'a'.repeat(64) }, VALID.members[1]] }, /members\[0\].path/],
  ['bad hash', { members: [{ path: 'a', id: 'a', weightsSha256: 'xyz' }, VALID.members[1]] }, /members\[0\].weightsSha256 must be 64/],
  ['one-member ensemble', { members: [VALID.members[0]] }, /of an ensemble must be at least two/],
  ['metric without data', { metrics: [{ name: 'mae', value: 1 }] }, /metrics\[0\].data/],
  ['schema version 3', { schemaVersion: 3 }, /schemaVersion must be 2, got 3/],
  ['schema version 1 (with the upgrade command)', { schemaVersion: 1, kind: 'sex-specific' }, /composite schema 1; upgrade it once with `physis bundle upgrade <dir>`/],
];
for (const [name, patch, pattern] of MALFORMED) {
  void test(`validateComposite refuses ${name}`, () => {
    assert.throws(() => validateComposite({ ...VALID, ...patch }, 'c.json'), (e: Error) => e.name === 'CompositeError' && pattern.test(e.message));
  });
}

void test('loadComposite names a folder without composite.json and invalid JSON', () =>
  withDir((dir) => {
    assert.throws(() => loadComposite(dir), (e: Error) => e.name === 'BundleIncompleteError' && /'composite.json' is missing/.test(e.message));
    writeFileSync(join(dir, COMPOSITE_FILE), '{');
    assert.throws(() => loadComposite(dir), (e: Error) => e.name === 'CompositeError' && /not valid JSON/.test(e.message));
  }));

void test('card trainingData.subset records the subset a member was trained on; its values are non-empty strings', () =>
  withDir((dir) => {
    const card = loadBundle(tinyBoneAgeBundle(join(dir, 'm'), { id: 'm', seed: 1, biasMonths: 60, sex: 'M' }).dir).card;
    assert.equal(card.schemaVersion, 2);
    assert.deepEqual(card.trainingData.subset, { sex: 'M' });
    assert.throws(() => validateModelCard({ ...card, trainingData: { ...card.trainingData, subset: { sex: '' } } }), /trainingData.subset.sex must be a non-empty string/);
    assert.throws(() => validateModelCard({ ...card, trainingData: { ...card.trainingData, subset: 'M' } }), /trainingData.subset must be an object/);
  }));
