/**
 * The shipped hand model was trained on the RSNA films at 100 × 100 px (each film squashed to a square with PIL's
 * default filter); its card says so and prediction replays it. Checked on the films that ../shared holds twice, at up
 * to 512 px (rsna-hand) and at 100 px (rsna-hand-lowres): the card's preprocessing of the larger film gives nearly the
 * input of its 100-px twin, and the shipped model answers both alike. Skips without ../shared.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { preprocess } from '../../src/preprocess/index.js';
import { readRadiograph } from '../../src/radiograph/index.js';
import { analyseFilm, cardPreprocessing, closeTaskModels, HAND_BONE_AGE_TASK, openTaskModels } from '../../src/tasks/index.js';
import { readBoneAgeLabels } from '../../src/tasks/hand-bone-age/index.js';

const SHARED = resolve('../shared/data');
const BUNDLE = 'models/hand-bone-age';
const skip = ['rsna-hand', 'rsna-hand-lowres'].every((d) => existsSync(join(SHARED, d, 'labels.csv')))
  ? false
  : `no ${SHARED}/{rsna-hand,rsna-hand-lowres} (../shared absent)`;
const FILMS = 40;

/** The first FILMS films held at both sizes: [larger film, 100-px twin]. */
function twins(): { large: string; small: string; sex: 'M' | 'F' }[] {
  const small = new Map(readBoneAgeLabels(join(SHARED, 'rsna-hand-lowres', 'labels.csv')).map((r) => [r.file, r]));
  return readBoneAgeLabels(join(SHARED, 'rsna-hand', 'labels.csv'))
    .filter((r) => small.has(r.file))
    .slice(0, FILMS)
    .map((r) => ({ large: r.path, small: (small.get(r.file) as { path: string }).path, sex: r.sex }));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return ((s[Math.floor((s.length - 1) / 2)] as number) + (s[Math.ceil((s.length - 1) / 2)] as number)) / 2;
};

void test('the shipped card squashes the whole film to 100 px first; a ≤512-px film then looks like its 100-px twin, and predict answers both alike', { skip }, async (t) => {
  const models = openTaskModels(HAND_BONE_AGE_TASK, BUNDLE, { backend: 'torch', gate: null, gateSkipped: 'test: the films are RSNA hands' });
  try {
    const member = models.set.members[0];
    assert.ok(member);
    const p = cardPreprocessing(member);
    assert.equal(p.fit, 'stretch');
    assert.equal(p.stretchVia, 100);
    assert.equal(p.stretchFilter, 'nearest', "the 100-px set was squashed with old Pillow's NEAREST");
    assert.equal(p.crop, false);
    const pixelDiffs: number[] = [];
    const monthDiffs: number[] = [];
    // a film the feature check refuses has no answer; the twins are counted, not compared
    let refused = 0;
    const age = async (path: string, sex: string): Promise<number | null> => {
      const r = await analyseFilm(models, path, { given: { cli: { sex } } });
      return r.answer === undefined ? null : (r.answer as { boneAgeMonths: number }).boneAgeMonths;
    };
    for (const f of twins()) {
      const a = preprocess(await readRadiograph(f.large), p).image.data;
      const b = preprocess(await readRadiograph(f.small), p).image.data;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
      pixelDiffs.push(sum / a.length);
      const [large, small] = [await age(f.large, f.sex), await age(f.small, f.sex)];
      if (large === null || small === null) refused++;
      else monthDiffs.push(Math.abs(large - small));
    }
    t.diagnostic(`${pixelDiffs.length} films (${refused} refused at either size): median per-film mean |Δ| of the input ${median(pixelDiffs).toFixed(4)}, median |Δ bone age| ${median(monthDiffs).toFixed(2)} months, max ${Math.max(...monthDiffs).toFixed(2)}`);
    assert.ok(median(pixelDiffs) <= 0.02, `median input difference ${median(pixelDiffs)}`);
    assert.ok(median(monthDiffs) <= 4, `median bone-age difference ${median(monthDiffs)} months`);
    assert.ok(refused <= pixelDiffs.length / 10, `${refused} of ${pixelDiffs.length} hands refused at one size or the other`);
  } finally {
    await closeTaskModels(models);
  }
});
