import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { encodeGrayPng } from '../../src/radiograph/index.js';

const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A hands folder of `n` flat PNGs with bone-age readings (the knees are phantoms; the hands only carry readings here). */
function fakeHands(root: string, n: number): string {
  const dir = join(root, 'hands');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const lines = ['file,rsna_id,boneage_months,sex,split'];
  for (let i = 0; i < n; i++) {
    writeFileSync(join(dir, 'images', `${1000 + i}.png`), encodeGrayPng(8, 8, new Float32Array(64).fill(0.5)));
    lines.push(`images/${1000 + i}.png,${1000 + i},${24 + ((i * 37) % 170)},${i % 2 ? 'M' : 'F'},${i % 4 ? 'train' : 'dev'}`);
  }
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  return dir;
}

interface Card {
  trainingData: { summary: string; command?: string };
  metrics: { name: string; value: number }[];
  files: { artifacts?: { role: string; path: string }[] };
}

// The path with radiologist readings only (no teacher): phantom cohort → pairing → knee labels → transfer from the
// shipped hand model → report with the chronological-age baseline → predict with sex and age, refusals for an age
// beyond 18 years and for an unknown age. Tiny sizes: this checks the path, not the accuracy.
void test('knee-bone-age end to end on a phantom cohort with readings: pair, train from the hand model, predict and refuse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knee-e2e-'));
  const hands = fakeHands(dir, 24);
  const cohort = join(dir, 'cohort');
  const made = run(['phantoms', 'knee-bone-age', '--out', cohort, '--hands', hands, '--size', '64', '--seed', '2']);
  assert.equal(made.code, 0, made.stderr);
  const out = join(dir, 'run');
  const args = ['train', 'knee-bone-age', '--pairs', join(cohort, 'manifest.csv'), '--label-policy', 'reading', '--init', 'models/hand-bone-age', '--size', '64', '--epochs', '1', '--batch', '8', '--threads', '1', '--out', out];
  const trained = run(args);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /pairs \(\d+ knee films of \d+ patients/);
  assert.match(trained.stdout, /devMaeChronologicalBaselineMonths/);
  // the labels file records every label's source; a second run refuses to overwrite it
  const labels = readFileSync(join(out, 'knee-labels.csv'), 'utf8').trim().split('\n');
  assert.ok(labels.length > 10);
  assert.ok(labels.slice(1).every((l) => l.includes(',reading,')), 'every label is a reading under --label-policy reading');
  const again = run(args);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /knee-labels\.csv exists/);
  const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as Card;
  assert.match(card.trainingData.summary, /radiologist readings, 0 pseudo-labels/);
  assert.match(card.trainingData.command ?? '', /--pairs \S+manifest\.csv/);
  assert.deepEqual((card.files.artifacts ?? []).map((a) => a.role).sort(), ['interval', 'label-provenance', 'ood', 'training-data', 'training-rows']);
  for (const name of ['mae', 'maeVsReadings', 'maeChronologicalAgeBaseline', 'limitsOfAgreementLow', 'interval90HalfWidth', 'labelsFromReadings']) {
    assert.ok(card.metrics.some((m) => m.name === name), `card metric ${name}`);
  }
  const report = readFileSync(join(out, 'report', 'report.html'), 'utf8');
  assert.match(report, /On the same films/);
  assert.match(report, /chronological age as the bone age/);
  assert.match(report, /Bland-Altman/);
  assert.match(report, /doi:10\.1177\/23259671261424923/);
  assert.match(report, /simulated/);
  // predict on a knee: sex and age from the DICOM header; an age beyond 18 y and an unknown age are refused
  const knee = join(cohort, 'knees', (readFileSync(join(cohort, 'manifest.csv'), 'utf8').match(/knees\/([^,]+\.dcm)/) ?? [])[1] ?? '');
  const predicted = run(['predict', knee, '--task', 'knee-bone-age', '--bundle', out, '--no-gate', '--json']);
  const r = JSON.parse(predicted.stdout.trim()) as { answer?: { boneAgeMonths: number; chronologicalAgeSource: string; simulatedTraining?: string }; rejected?: { reason: string } };
  if (r.rejected) assert.match(r.rejected.reason, /feature distance/);
  else {
    assert.ok(Number.isFinite(r.answer?.boneAgeMonths));
    assert.equal(r.answer?.chronologicalAgeSource, 'dicom');
    assert.match(r.answer?.simulatedTraining ?? '', /simulated/);
  }
  const adult = run(['predict', knee, '--task', 'knee-bone-age', '--bundle', out, '--no-gate', '--age-months', '540']);
  assert.match(adult.stdout, /rejected: chronological age 540 months \(45\.0 y\) is beyond the knee model's range/);
  const png = join(dir, 'knee.png');
  writeFileSync(png, readFileSync(join(cohort, 'masks', readFileSync(join(cohort, 'manifest.csv'), 'utf8').match(/knees\/([^,]+)\.dcm/)?.[1] + '_physes.png')));
  const unknown = run(['predict', png, '--task', 'knee-bone-age', '--bundle', out, '--no-gate', '--sex', 'F']);
  assert.match(unknown.stdout, /rejected: the film's age-months is unknown/);
});

const SHARED = resolve('../shared/data/rsna-hand');

// The teacher step on real films: real RSNA hands pseudo-labelled by the shipped hand model, the knee labelled from
// them only; the teacher's id and weights hash reach the labels file and the knee card.
void test(
  'knee-bone-age with the shipped hand model as teacher on real RSNA hands: pseudo-labels with its hash in the labels and the card',
  { skip: existsSync(join(SHARED, 'labels.csv')) ? false : `no ${SHARED} (../shared absent)` },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'knee-teacher-'));
    const hands = join(dir, 'hands');
    mkdirSync(hands);
    symlinkSync(join(SHARED, 'images'), join(hands, 'images'));
    const rows = readFileSync(join(SHARED, 'labels.csv'), 'utf8').trim().split('\n');
    writeFileSync(join(hands, 'labels.csv'), `${rows.slice(0, 25).join('\n')}\n`);
    const cohort = join(dir, 'cohort');
    assert.equal(run(['phantoms', 'knee-bone-age', '--out', cohort, '--hands', hands, '--size', '64', '--seed', '4']).code, 0);
    const out = join(dir, 'run');
    const trained = run(['train', 'knee-bone-age', '--pairs', join(cohort, 'manifest.csv'), '--teacher', 'models/hand-bone-age', '--label-policy', 'pseudo', '--size', '64', '--epochs', '1', '--batch', '8', '--threads', '1', '--out', out]);
    assert.equal(trained.code, 0, trained.stderr);
    const teacher = JSON.parse(readFileSync('models/hand-bone-age/card.json', 'utf8')) as { id: string; files: { weights: { sha256: string } } };
    const labels = readFileSync(join(out, 'knee-labels.csv'), 'utf8').trim().split('\n').slice(1);
    assert.ok(labels.length >= 10, `${labels.length} labelled knees`);
    assert.ok(labels.every((l) => l.includes(`,pseudo,`) && l.includes(`${teacher.id}@${teacher.files.weights.sha256}`)));
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as Card;
    assert.ok(card.trainingData.summary.includes(teacher.files.weights.sha256), card.trainingData.summary);
    assert.ok(card.metrics.some((m) => m.name === 'labelsFromTeacher' && m.value === labels.length));
    assert.ok(card.metrics.some((m) => m.name === 'maeVsReadings') && card.metrics.some((m) => m.name === 'maeVsPseudoLabels'));
  },
);
