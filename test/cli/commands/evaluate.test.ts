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
