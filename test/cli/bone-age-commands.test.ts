import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PNG } from 'pngjs';
import { readBoneAgeLabels } from '../../src/tasks/hand-bone-age/index.js';
import { loadBundle } from '../../src/infer/index.js';
import { withoutArtifact } from '../infer/fixtures/tiny-bone-age.js';
import type { Line } from './capture.js';

const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

/** Run the CLI in a child process (the test runner owns this process's stdout). */
function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...argv],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return Promise.resolve({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
}

void test('physis train refuses an unknown task naming the registered ones, and a missing --data as a usage error', async () => {
  const a = await run(['train', 'knee-age', '--data', 'x']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /unknown task 'knee-age'; tasks: hand-bone-age/);
  const b = await run(['train', 'hand-bone-age']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /missing --data/);
});

void test('physis train names a missing labels file in one line', async () => {
  const r = await run(['train', 'hand-bone-age', '--data', '/nonexistent/labels.csv']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^physis: LabelsError: \/nonexistent\/labels.csv: cannot read labels/);
});

const LABELS = resolve('../shared/data/rsna-hand/labels.csv');
const skip = existsSync(LABELS) ? false : `no ${LABELS} (../shared absent)`;

void test('train -> evaluate -> predict -> explain on real radiographs (tiny, 64 px)', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-'));
  try {
    const bundle = join(dir, 'bundle');
    const t = await run(['train', 'hand-bone-age', '--data', resolve('../shared/data/rsna-hand'), '--size', '64', '--epochs', '1', '--batch', '8', '--limit', '24', '--no-augment', '--out', bundle, '--json']);
    assert.equal(t.code, 0, t.stderr);
    const trained = JSON.parse(t.stdout.trim().split('\n').pop() ?? '{}') as { dev: { devMaeMonths: number }; report: string };
    assert.ok(trained.dev.devMaeMonths > 0 && existsSync(trained.report));
    // the model's own checks, without the suitability gate (its tests are test/tasks/suitability/)
    // evaluate scores what the trainer scored on the dev split; the OOD statistics of 24 training hands refuse most
    // dev hands, so the comparison runs on a copy without them (every row scored)
    const unchecked = join(dir, 'bundle-no-ood');
    cpSync(bundle, unchecked, { recursive: true });
    withoutArtifact(loadBundle(unchecked), 'ood');
    const e = await run(['evaluate', '--no-gate', unchecked, '--data', LABELS, '--split', 'dev', '--out', join(dir, 'eval'), '--json']);
    assert.equal(e.code, 0, e.stderr);
    const evaluated = JSON.parse(e.stdout) as { images: number; scored: number; metrics: { devMaeMonths: number } };
    assert.equal(evaluated.images, 177);
    assert.equal(evaluated.scored, 177);
    assert.ok(Math.abs(evaluated.metrics.devMaeMonths - trained.dev.devMaeMonths) < 1e-3);
    assert.match(e.stderr, /0 training and 177 dev rows of hand-bone-age-resnet18_w32-64 are among these rows: their numbers are in-sample/);
    assert.ok(existsSync(join(dir, 'eval', 'report.html')));
    // a training image: within the OOD threshold (1.1 × the largest training distance at n = 24) by construction
    const hand = readBoneAgeLabels(LABELS).filter((r) => r.split === 'train')[0]?.path ?? '';
    const p = await run(['predict', '--no-gate', hand, '--bundle', bundle, '--heatmap', join(dir, 'heat'), '--json']);
    assert.equal(p.code, 0, p.stderr);
    const line = JSON.parse(p.stdout) as Line;
    const a = line.answer;
    assert.ok(a);
    assert.equal(a.sexSource, 'unknown', 'a PNG without sex is never defaulted');
    assert.equal(a.sex, null);
    assert.deepEqual(line.inputs, { sex: { value: null, source: 'unknown' } });
    assert.ok(a.boneAgeMonthsBySex && Number.isFinite(a.boneAgeMonthsBySex.M) && Number.isFinite(a.boneAgeMonthsBySex.F));
    const iv = a.interval90BySex?.M;
    assert.ok(iv && iv.lowMonths <= a.boneAgeMonthsBySex.M && a.boneAgeMonthsBySex.M <= iv.highMonths, 'the interval contains the estimate');
    assert.match(line.model?.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(line.heatmap, join(dir, 'heat', `${basename(hand, '.png')}.heat.png`));
    // the heat map is laid over the film at the film's own size (at most 512 px here), not on the 64-px square input
    const heat = PNG.sync.read(readFileSync(line.heatmap));
    const film = PNG.sync.read(readFileSync(hand));
    assert.deepEqual([heat.width, heat.height], [film.width, film.height]);
    assert.notEqual(film.width, film.height, 'a film that is not square');
    const x = await run(['explain', '--no-gate', hand, '--bundle', bundle, '--sex', 'F', '-o', join(dir, 'h.png'), '--json']);
    assert.equal(x.code, 0, x.stderr);
    assert.equal((JSON.parse(x.stdout) as Line).answer?.sexSource, 'cli');
    const spine = resolve('../shared/data/aasce-spine/images', readdirSync(resolve('../shared/data/aasce-spine/images')).sort()[0] ?? '');
    const r = await run(['predict', '--no-gate', spine, '--bundle', bundle, '--sex', 'F', '--json']);
    assert.equal(r.code, 1, 'a refused film is no answer');
    const rejected = JSON.parse(r.stdout) as Line;
    assert.match(rejected.rejected?.reason ?? '', /not (like|shaped like) the training hand radiographs/);
    assert.equal(rejected.answer, undefined, 'no age for a rejected image');
    const bad = await run(['predict', 'samples/hand-0.png', '--bundle', bundle, '--sex', 'X']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SexError: --sex 'X' is not a sex/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
