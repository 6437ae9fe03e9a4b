/**
 * `physis evaluate`: the report goes to ./evaluation-<bundle> (a new folder each run), never inside the bundle, and
 * rows the bundle was trained or early-stopped on are flagged. Tiny untrained bundle (32 px), synthetic films.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disposeModelSet, loadBundle, openModelSet, type ModelSetMember } from '../../../src/infer/index.js';
import { preprocess } from '../../../src/preprocess/index.js';
import { readRadiograph } from '../../../src/radiograph/index.js';
import { cardPreprocessing } from '../../../src/tasks/index.js';
import { noGrad, tensor, tidy } from '../../../src/torch/index.js';
import { tinyBoneAgeBundle, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';
import { capture } from '../capture.js';

interface Evaluated {
  images: number;
  scored: number;
  overlap: { member: string; train: number; dev: number }[];
  report: string;
}

void test('evaluate writes its report to ./evaluation-<bundle> outside the bundle, and warns about rows the bundle trained on', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'physis-cli-evaluate-')));
  const cwd = process.cwd();
  try {
    const films = [0, 1, 2].map((i) => writeBlobPng(join(dir, `blob_${i}.png`), 2 * i - 2));
    writeFileSync(
      join(dir, 'labels.csv'),
      'file,sex,boneage_months\nblob_0.png,M,50\nblob_1.png,F,60\nblob_2.png,M,70\n',
    );
    const bundle = tinyBoneAgeBundle(join(dir, 'tiny'), {
      id: 'tiny',
      seed: 1,
      biasMonths: 60,
      trainingRows: { train: [films[0] as string], dev: [films[1] as string] },
    });
    const bundleFiles = readdirSync(bundle.dir).sort();
    process.chdir(dir);
    const evaluate = ['evaluate', '--no-gate', bundle.dir, '--data', join(dir, 'labels.csv'), '--workers', '0', '--json'];
    const r = await capture(evaluate);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as Evaluated;
    assert.equal(e.images, 3);
    assert.equal(e.scored, 3);
    assert.equal(e.report, join('evaluation-tiny', 'report.html'), 'relative to the working directory');
    assert.ok(existsSync(join(dir, 'evaluation-tiny', 'report.html')));
    assert.deepEqual(readdirSync(bundle.dir).sort(), bundleFiles, 'nothing written inside the bundle');
    // the films are prepared as the bundle's card says (letterboxed), not as the task's current default recipe
    const scored = (JSON.parse(readFileSync(join(dir, 'evaluation-tiny', 'report.json'), 'utf8')) as { samples: { id: string; predicted: number }[] }).samples;
    const set = openModelSet(bundle.dir, { task: 'hand-bone-age' });
    try {
      const member = set.members[0] as ModelSetMember;
      for (const [i, sex] of [1, 0, 1].entries()) {
        const image = preprocess(await readRadiograph(films[i] as string), cardPreprocessing(member)).image;
        const want = tidy(() => noGrad(() => member.model.eval().call(tensor(image.data, [1, 1, 32, 32]), tensor([sex], [1, 1])).item()));
        const got = scored.find((x) => x.id === `blob_${i}.png`)?.predicted as number;
        assert.ok(Math.abs(got - want) < 1e-3, `blob_${i}.png: evaluate ${got}, the card's preprocessing ${want}`);
      }
    } finally {
      disposeModelSet(set);
    }
    loadBundle(bundle.dir);
    assert.deepEqual(e.overlap, [{ member: 'tiny', train: 1, dev: 1 }]);
    assert.match(
      r.stderr,
      /warning: 1 training and 1 dev rows of tiny are among these rows: their numbers are in-sample/,
    );

    const again = await capture(evaluate);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      (JSON.parse(again.stdout) as Evaluated).report,
      join('evaluation-tiny-2', 'report.html'),
      'a new folder, the first report kept',
    );

    const unlisted = tinyBoneAgeBundle(join(dir, 'unlisted'), { id: 'unlisted', seed: 2, biasMonths: 60 });
    const u = await capture(['evaluate', '--no-gate', unlisted.dir, '--data', join(dir, 'labels.csv'), '--workers', '0']);
    assert.equal(u.code, 0, u.stderr);
    assert.match(
      u.stderr,
      /warning: unlisted does not list its training rows; overlap with these rows was not checked/,
    );
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('evaluate --published: the results of a file go into the report after the task\'s own; a wrong field is named in one line and nothing is written', async () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'physis-cli-evaluate-')));
  try {
    [0, 1, 2].forEach((i) => writeBlobPng(join(dir, `blob_${i}.png`), 2 * i - 2));
    writeFileSync(join(dir, 'labels.csv'), 'file,sex,boneage_months\nblob_0.png,M,50\nblob_1.png,F,60\nblob_2.png,M,70\n');
    const bundle = tinyBoneAgeBundle(join(dir, 'tiny'), { id: 'tiny', seed: 1, biasMonths: 60 });
    const paper = { label: 'Our group 2026, boys', citation: 'A. Author et al. A journal 2026;1:1-10', data: '120 held-out films', mae: 6.1, within: { '6': 0.55, '12': 0.93 } };
    const good = join(dir, 'published.json');
    writeFileSync(good, JSON.stringify([paper]));
    const out = join(dir, 'eval');
    const r = await capture(['evaluate', '--no-gate', bundle.dir, '--data', join(dir, 'labels.csv'), '--workers', '0', '--published', good, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { published: { label: string }[] };
    const labels = report.published.map((p) => p.label);
    assert.equal(labels.at(-1), paper.label, 'the file\'s result last');
    assert.ok(labels.length > 1 && labels.includes('Larson et al. 2018'), 'after the task\'s own list');
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /Our group 2026, boys<\/th><td>120 held-out films<\/td><td>—<\/td><td>6\.10<\/td><td>55\.0%<\/td><td>93\.0%<\/td><td>—<\/td><td>—<\/td>/);

    const bad = join(dir, 'bad.json');
    const wrong: readonly [unknown, RegExp][] = [
      [[{ ...paper, within: { '12': 93 } }], /result 1: within\['12'\] must be a share in \[0, 1\]/],
      [[{ ...paper, citation: '' }], /result 1: 'citation' must be a non-empty string/],
      [[paper, { ...paper, mae: -1 }], /result 2: 'mae' must be a number >= 0 or null/],
      [[{ ...paper, year: 2026 }], /result 1: unknown field 'year'/],
      [{ ...paper }, /expected a non-empty array of published results/],
    ];
    for (const [content, message] of wrong) {
      writeFileSync(bad, JSON.stringify(content));
      const e = await capture(['evaluate', '--no-gate', bundle.dir, '--data', join(dir, 'labels.csv'), '--workers', '0', '--published', bad, '--out', join(dir, 'eval-bad')]);
      assert.equal(e.code, 1);
      assert.match(e.stderr, new RegExp(`^physis: MetricInputError: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${message.source}`));
      assert.equal(e.stderr.trim().split('\n').length, 1);
      assert.ok(!existsSync(join(dir, 'eval-bad')), 'no report for a refused file');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
