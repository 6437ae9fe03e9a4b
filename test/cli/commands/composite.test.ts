import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { loadBundle, loadComposite, saveComposite } from '../../../src/infer/index.js';
import { tinyBoneAgeBundle, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';

async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  // the CLI writes strings; the test runner's own (binary) reports pass through untouched
  process.stdout.write = ((c: string | Uint8Array) => (typeof c === 'string' ? ((stdout += c), true) : out(c))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (typeof c === 'string' ? ((stderr += c), true) : err(c))) as typeof process.stderr.write;
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

interface Line {
  boneAgeMonths?: number;
  boneAgeMonthsBySex?: { M: number; F: number };
  interval90?: { lowMonths: number; highMonths: number };
  interval90BySex?: { M: { lowMonths: number; highMonths: number }; F: { lowMonths: number; highMonths: number } };
  interval90Missing?: string;
  interval90Method?: string;
  sex: string | null;
  sexSource: string;
  model?: { id: string; weightsSha256: string };
  composite?: { id: string; kind: string };
  members?: { id: string; weightsSha256: string; sex?: string; boneAgeMonths?: number; boneAgeMonthsBySex?: { M: number; F: number } }[];
  memberSdMonths?: number;
  memberSdMonthsBySex?: { M: number; F: number };
  heatmapMethod?: string;
}

const predict = async (argv: string[]): Promise<Line> => {
  const r = await capture(['predict', ...argv, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Line;
};

void test('bundle compose + predict: the member of the resolved sex answers; unknown sex gives both members\' answers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-composite-'));
  try {
    const image = writeBlobPng(join(dir, 'blob_48x64.png'));
    const interval = { scale: 2, views: 3 };
    const m = tinyBoneAgeBundle(join(dir, 'boys'), { id: 'tiny-M', seed: 1, biasMonths: 60, sex: 'M', interval });
    const f = tinyBoneAgeBundle(join(dir, 'girls'), { id: 'tiny-F', seed: 2, biasMonths: 110, sex: 'F', interval });
    const pair = join(dir, 'by-sex');
    const refused = await capture(['bundle', 'compose', '--male', f.dir, '--female', m.dir, '--out', pair]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^physis: CompositeMemberError: .*girls: given as the male model, but its card says it was trained on sex F only/);
    const big = tinyBoneAgeBundle(join(dir, 'girls64'), { id: 'tiny-F64', seed: 3, biasMonths: 110, sex: 'F', size: 64 });
    const sizes = await capture(['bundle', 'compose', '--male', m.dir, '--female', big.dir, '--out', join(dir, 'mixed')]);
    assert.equal(sizes.code, 1);
    assert.match(sizes.stderr, /takes input 1x32x32 but .*girls64 takes 1x64x64; a pair must share the input size/);
    const c = await capture(['bundle', 'compose', '--male', m.dir, '--female', f.dir, '--out', pair, '--json']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as { kind: string }).kind, 'sex-specific');
    const v = await capture(['bundle', 'verify', pair]);
    assert.match(v.stdout, /sex-specific composite .* of 2 verified members .*: ok/);

    const boy = await predict([image, '--bundle', pair, '--sex', 'M']);
    const boyAlone = await predict([image, '--bundle', m.dir, '--sex', 'M']);
    assert.equal(boy.boneAgeMonths, boyAlone.boneAgeMonths, 'routed to the male member');
    assert.deepEqual(boy.interval90, boyAlone.interval90, "the member's own interval");
    assert.deepEqual(boy.members?.map((x) => [x.id, x.weightsSha256, x.sex]), [['tiny-M', m.card.files.weights.sha256, 'M']]);
    assert.equal(boy.composite?.kind, 'sex-specific');
    const girl = await predict([image, '--bundle', pair, '--sex', 'F']);
    assert.equal(girl.boneAgeMonths, (await predict([image, '--bundle', f.dir, '--sex', 'F'])).boneAgeMonths);
    assert.notEqual(girl.boneAgeMonths, boy.boneAgeMonths);

    const unknown = await predict([image, '--bundle', pair]);
    assert.equal(unknown.sex, null);
    assert.equal(unknown.sexSource, 'unknown', 'never defaulted');
    assert.deepEqual(unknown.boneAgeMonthsBySex, { M: boy.boneAgeMonths, F: girl.boneAgeMonths });
    assert.deepEqual(unknown.interval90BySex, { M: boy.interval90, F: girl.interval90 });
    assert.deepEqual(unknown.members?.map((x) => x.id), ['tiny-M', 'tiny-F']);

    // a member swapped after composing is refused by predict
    tinyBoneAgeBundle(join(pair, 'female'), { id: 'tiny-F', seed: 9, biasMonths: 110, sex: 'F', interval });
    const swapped = await capture(['predict', image, '--bundle', pair, '--sex', 'F']);
    assert.equal(swapped.code, 1);
    assert.match(swapped.stderr, /^physis: CompositeMemberError: .*female: member 2 is tiny-F with weights sha256/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('ensemble composite: predict gives the mean of the members with their spread and the composite interval; explain averages the maps; evaluate scores the mean', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-ensemble-'));
  try {
    const image = writeBlobPng(join(dir, 'blob_48x64.png'));
    const ens = join(dir, 'ens');
    const members = [60, 80, 130].map((bias, i) => tinyBoneAgeBundle(join(ens, `fold-${i + 1}`), { id: `tiny-fold${i + 1}`, seed: i + 1, biasMonths: bias }));
    saveComposite(ens, {
      kind: 'ensemble',
      id: 'tiny-ens',
      task: 'hand-bone-age',
      members: ['fold-1', 'fold-2', 'fold-3'],
      description: 'test',
      interval90: { level: 0.9, halfWidthMonths: 12.5, method: 'test rule', coverage: 0.91, n: 30 },
    });
    const values: number[] = [];
    // one at a time: capture() swaps process.stdout.write
    for (const b of members) values.push((await predict([image, '--bundle', b.dir, '--sex', 'F'])).boneAgeMonths as number);
    const e = await predict([image, '--bundle', ens, '--sex', 'F']);
    assert.deepEqual(e.members?.map((x) => x.boneAgeMonths), values, "each member's own prediction");
    assert.deepEqual(e.members?.map((x) => x.weightsSha256), members.map((b) => b.card.files.weights.sha256));
    const mean = (values[0]! + values[1]! + values[2]!) / 3;
    assert.ok(Math.abs((e.boneAgeMonths as number) - mean) < 1e-9, `${e.boneAgeMonths} vs ${mean}`);
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
    assert.ok(Math.abs((e.memberSdMonths as number) - sd) < 1e-9);
    assert.deepEqual(e.interval90, { lowMonths: (e.boneAgeMonths as number) - 12.5, highMonths: (e.boneAgeMonths as number) + 12.5 });
    assert.match(e.interval90Method ?? '', /test rule \(out-of-fold coverage 0.910, n = 30\)/);
    assert.equal(e.model, undefined, 'a composite is named as such, not as one model');
    assert.deepEqual(e.composite, { id: 'tiny-ens', kind: 'ensemble', dir: ens });
    const u = await predict([image, '--bundle', ens]);
    assert.equal(u.sexSource, 'unknown');
    assert.equal(u.boneAgeMonthsBySex?.F, e.boneAgeMonths);
    assert.equal(u.members?.[0]?.boneAgeMonthsBySex?.F, values[0]);
    assert.ok(u.memberSdMonthsBySex !== undefined);

    const heat = join(dir, 'heat.png');
    const x = await capture(['explain', image, '--bundle', ens, '--sex', 'M', '-o', heat, '--json']);
    assert.equal(x.code, 0, x.stderr);
    assert.match((JSON.parse(x.stdout) as Line).heatmapMethod ?? '', /^mean of 3 Grad-CAM maps \(tiny-fold1 × M, tiny-fold2 × M, tiny-fold3 × M\)/);
    assert.equal(readFileSync(heat).subarray(1, 4).toString(), 'PNG');

    writeFileSync(join(dir, 'labels.csv'), `file,sex,boneage_months\nblob_48x64.png,F,${Math.round(mean) + 10}\n`);
    const ev = await capture(['evaluate', ens, '--data', dir, '--out', join(dir, 'eval'), '--workers', '0', '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const scored = JSON.parse(ev.stdout) as { images: number; maeMonths: number };
    assert.equal(scored.images, 1);
    assert.ok(Math.abs(scored.maeMonths - Math.abs(Math.round(mean) + 10 - mean)) < 1e-3, `evaluate MAE ${scored.maeMonths} is that of the ensemble mean`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('train --sex and --folds K --ensemble on synthetic radiographs (32 px, 1 epoch): sex-filtered rows, card sex, composite with an OOF interval', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-train-composite-'));
  try {
    const rows = Array.from({ length: 16 }, (_, i) => {
      writeBlobPng(join(dir, `blob_${i}.png`), i - 8, 0.6);
      return `blob_${i}.png,${i % 2 === 0 ? 'M' : 'F'},${40 + 9 * i}`;
    });
    writeFileSync(join(dir, 'labels.csv'), `file,sex,boneage_months\n${rows.join('\n')}\n`);
    const common = ['--data', dir, '--size', '32', '--epochs', '1', '--batch', '4', '--workers', '0', '--no-augment', '--json'];
    const boys = join(dir, 'boys');
    const t = await capture(['train', 'hand-bone-age', ...common, '--sex', 'M', '--out', boys]);
    assert.equal(t.code, 0, t.stderr);
    const card = loadBundle(boys).card;
    assert.equal(card.trainingData.sex, 'M');
    const split = /: (\d+) train \/ (\d+) dev images \(sex M only\)$/.exec(card.trainingData.summary);
    assert.equal(Number(split?.[1]) + Number(split?.[2]), 8, `the 8 boys only: ${card.trainingData.summary}`);
    assert.match(card.trainingData.command ?? '', /--sex M/);

    const ens = join(dir, 'ens');
    const k = await capture(['train', 'hand-bone-age', ...common, '--sex', 'F', '--folds', '2', '--ensemble', '--out', ens]);
    assert.equal(k.code, 0, k.stderr);
    assert.equal((JSON.parse(k.stdout.trim().split('\n').pop() ?? '{}') as { composite: string }).composite, ens);
    const c = loadComposite(ens);
    assert.equal(c.manifest.kind, 'ensemble');
    assert.deepEqual(c.members.map((b) => b.card.trainingData.sex), ['F', 'F']);
    const iv = c.manifest.interval90;
    assert.ok(iv !== undefined && iv.n === 8 && iv.halfWidthMonths > 0 && iv.coverage >= 0.9, JSON.stringify(iv));
    assert.match(iv.method, /out-of-fold absolute residuals/);
    assert.match(c.manifest.description, /conservative/);
    const cv = JSON.parse(readFileSync(join(ens, 'cv', 'report.json'), 'utf8')) as { samples: { predicted: number; reference: number }[] };
    const abs = cv.samples.map((s) => Math.abs(s.reference - s.predicted)).sort((a, b) => a - b);
    assert.equal(iv.halfWidthMonths, abs[Math.min(8, Math.ceil(9 * 0.9)) - 1], 'calibrated on the out-of-fold predictions of the CV report');
    const noFolds = await capture(['train', 'hand-bone-age', ...common, '--ensemble', '--out', join(dir, 'x')]);
    assert.equal(noFolds.code, 2);
    assert.match(noFolds.stderr, /--ensemble combines fold models: give --folds K/);

    // the F ensemble's first fold is a girls' model: it pairs with the boys' model
    const pair = join(dir, 'pair');
    const p = await capture(['bundle', 'compose', '--male', boys, '--female', join(ens, 'fold-1'), '--out', pair]);
    assert.equal(p.code, 0, p.stderr);
    const r = await predict([join(dir, 'blob_3.png'), '--bundle', ens, '--sex', 'F']);
    assert.equal(r.members?.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
