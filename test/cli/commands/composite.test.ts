import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, loadComposite, saveComposite } from '../../../src/infer/index.js';
import { tinyBoneAgeBundle, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';
import { TINY_TRAIN_ARGS } from '../../infer/fixtures/tiny-bone-age.js';
import { capture, jsonLines, type HandAnswer, type Line } from '../capture.js';

/** `physis predict … --json` for one film that must be answered. */
const predict = async (argv: string[]): Promise<Line & { answer: HandAnswer }> => {
  const r = await capture(['predict', '--no-gate', ...argv, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [line] = jsonLines(r.stdout);
  assert.ok(line?.answer, r.stdout);
  return line as Line & { answer: HandAnswer };
};

void test("bundle compose --by sex + predict: the member of the resolved sex answers; unknown sex gives both members' answers", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-composite-'));
  try {
    const image = writeBlobPng(join(dir, 'blob_48x64.png'));
    const interval = { scale: 2, views: 3 };
    const m = tinyBoneAgeBundle(join(dir, 'boys'), {
      id: 'tiny-M',
      seed: 1,
      biasMonths: 60,
      sex: 'M',
      interval,
    });
    const f = tinyBoneAgeBundle(join(dir, 'girls'), {
      id: 'tiny-F',
      seed: 2,
      biasMonths: 110,
      sex: 'F',
      interval,
    });
    const pair = join(dir, 'by-sex');
    const refused = await capture([
      'bundle',
      'compose',
      '--by',
      'sex',
      `M=${f.dir}`,
      `F=${m.dir}`,
      '--out',
      pair,
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^physis: CompositeMemberError: .*girls: given as the sex M model, but its card says it was trained on sex F only \(train one with `physis train hand-bone-age --subset sex=M`\)/,
    );
    const big = tinyBoneAgeBundle(join(dir, 'girls64'), {
      id: 'tiny-F64',
      seed: 3,
      biasMonths: 110,
      sex: 'F',
      size: 64,
    });
    const sizes = await capture([
      'bundle',
      'compose',
      '--by',
      'sex',
      `M=${m.dir}`,
      `F=${big.dir}`,
      '--out',
      join(dir, 'mixed'),
    ]);
    assert.equal(sizes.code, 1);
    assert.match(
      sizes.stderr,
      /members must share the input size: .*boys takes 1x32x32, .*girls64 takes 1x64x64/,
    );
    const c = await capture([
      'bundle',
      'compose',
      '--by',
      'sex',
      `M=${m.dir}`,
      `F=${f.dir}`,
      '--out',
      pair,
      '--json',
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as { kind: string }).kind, 'routed');
    const v = await capture(['bundle', 'verify', pair]);
    assert.match(
      v.stdout,
      /routed composite hand-bone-age-by-sex of 2 verified members \(M \[sex M\] tiny-M .*, F \[sex F\] tiny-F .*\): ok/,
    );

    const boy = await predict([image, '--bundle', pair, '--sex', 'M']);
    const boyAlone = await predict([image, '--bundle', m.dir, '--sex', 'M']);
    assert.equal(boy.answer.boneAgeMonths, boyAlone.answer.boneAgeMonths, 'routed to the male member');
    assert.deepEqual(boy.answer.interval90, boyAlone.answer.interval90, "the member's own interval");
    assert.match(boy.answer.interval90Method ?? '', /the member's own interval/);
    assert.deepEqual(
      boy.members?.map((x) => [x.id, x.weightsSha256, x.route]),
      [['tiny-M', m.card.files.weights.sha256, 'M']],
    );
    assert.equal(boy.composite?.kind, 'routed');
    const girl = await predict([image, '--bundle', pair, '--sex', 'F']);
    assert.equal(
      girl.answer.boneAgeMonths,
      (await predict([image, '--bundle', f.dir, '--sex', 'F'])).answer.boneAgeMonths,
    );
    assert.notEqual(girl.answer.boneAgeMonths, boy.answer.boneAgeMonths);

    const unknown = await predict([image, '--bundle', pair]);
    assert.equal(unknown.answer.sex, null);
    assert.equal(unknown.answer.sexSource, 'unknown', 'never defaulted');
    assert.deepEqual(unknown.answer.boneAgeMonthsBySex, {
      M: boy.answer.boneAgeMonths,
      F: girl.answer.boneAgeMonths,
    });
    assert.deepEqual(unknown.answer.interval90BySex, { M: boy.answer.interval90, F: girl.answer.interval90 });
    assert.deepEqual(
      unknown.members?.map((x) => [x.id, x.route]),
      [
        ['tiny-M', 'M'],
        ['tiny-F', 'F'],
      ],
    );

    // a member swapped after composing is refused by predict
    tinyBoneAgeBundle(join(pair, 'F'), { id: 'tiny-F', seed: 9, biasMonths: 110, sex: 'F', interval });
    const swapped = await capture(['predict', '--no-gate', image, '--bundle', pair, '--sex', 'F']);
    assert.equal(swapped.code, 1);
    assert.match(
      swapped.stderr,
      /^physis: CompositeMemberError: .*F: member 2 is tiny-F with weights sha256/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('ensemble composite: predict gives the mean of the members with their spread and the composite interval; explain averages the maps; evaluate scores the mean', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-ensemble-'));
  try {
    const image = writeBlobPng(join(dir, 'blob_48x64.png'));
    const ens = join(dir, 'ens');
    const members = [60, 80, 130].map((bias, i) =>
      tinyBoneAgeBundle(join(ens, `fold-${i + 1}`), {
        id: `tiny-fold${i + 1}`,
        seed: i + 1,
        biasMonths: bias,
      }),
    );
    saveComposite(ens, {
      kind: 'ensemble',
      id: 'tiny-ens',
      task: 'hand-bone-age',
      members: ['fold-1', 'fold-2', 'fold-3'],
      description: 'test',
      interval90: { level: 0.9, halfWidth: 12.5, unit: 'months', method: 'test rule', coverage: 0.91, n: 30 },
    });
    const values: number[] = [];
    // one at a time: capture() swaps process.stdout.write
    for (const b of members)
      values.push((await predict([image, '--bundle', b.dir, '--sex', 'F'])).answer.boneAgeMonths as number);
    const e = await predict([image, '--bundle', ens, '--sex', 'F']);
    const months = e.answer.boneAgeMonths as number;
    assert.deepEqual(
      e.answer.memberPredictions?.map((x) => [x.id, x.boneAgeMonths]),
      members.map((b, i) => [b.card.id, values[i]]),
      "each member's own prediction",
    );
    assert.deepEqual(
      e.members?.map((x) => x.weightsSha256),
      members.map((b) => b.card.files.weights.sha256),
    );
    const mean = values.reduce((a, v) => a + v, 0) / 3;
    assert.ok(Math.abs(months - mean) < 1e-9, `${months} vs ${mean}`);
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
    assert.ok(Math.abs((e.answer.memberSdMonths as number) - sd) < 1e-9);
    assert.deepEqual(e.answer.interval90, { lowMonths: months - 12.5, highMonths: months + 12.5 });
    assert.match(e.answer.interval90Method ?? '', /test rule \(out-of-fold coverage 0.910, n = 30\)/);
    assert.equal(e.model, undefined, 'a composite is named as such, not as one model');
    assert.deepEqual(e.composite, { id: 'tiny-ens', kind: 'ensemble', dir: ens });
    const u = await predict([image, '--bundle', ens]);
    assert.equal(u.answer.sexSource, 'unknown');
    assert.equal(u.answer.boneAgeMonthsBySex?.F, months);
    assert.equal(u.answer.memberPredictions?.[0]?.boneAgeMonthsBySex?.F, values[0]);
    assert.ok(u.answer.memberSdMonthsBySex !== undefined);

    const heat = join(dir, 'heat.png');
    const x = await capture(['explain', '--no-gate', image, '--bundle', ens, '--sex', 'M', '-o', heat, '--json']);
    assert.equal(x.code, 0, x.stderr);
    assert.match(
      jsonLines(x.stdout)[0]?.heatmapMethod ?? '',
      /^mean of 3 HiResCAM maps of the bone age on the \d+×\d+ feature map \(tiny-fold1 × M, tiny-fold2 × M, tiny-fold3 × M\)/,
    );
    assert.equal(readFileSync(heat).subarray(1, 4).toString(), 'PNG');

    writeFileSync(
      join(dir, 'labels.csv'),
      `file,sex,boneage_months\nblob_48x64.png,F,${Math.round(mean) + 10}\n`,
    );
    const ev = await capture([
      'evaluate',
      '--no-gate',
      ens,
      '--data',
      dir,
      '--out',
      join(dir, 'eval'),
      '--workers',
      '0',
      '--json',
    ]);
    assert.equal(ev.code, 0, ev.stderr);
    const scored = JSON.parse(ev.stdout) as {
      images: number;
      scored: number;
      metrics: { devMaeMonths: number };
    };
    assert.equal(scored.images, 1);
    assert.equal(scored.scored, 1);
    const mae = scored.metrics.devMaeMonths;
    assert.ok(
      Math.abs(mae - Math.abs(Math.round(mean) + 10 - mean)) < 1e-3,
      `evaluate MAE ${mae} is that of the ensemble mean`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('train --subset sex=M and --folds K --ensemble on synthetic radiographs (32 px, 1 epoch): subset rows, card subset, composite with an OOF interval', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-train-composite-'));
  try {
    const rows = Array.from({ length: 16 }, (_, i) => {
      writeBlobPng(join(dir, `blob_${i}.png`), i - 8, 0.6);
      return `blob_${i}.png,${i % 2 === 0 ? 'M' : 'F'},${40 + 9 * i}`;
    });
    writeFileSync(join(dir, 'labels.csv'), `file,sex,boneage_months\n${rows.join('\n')}\n`);
    const common = ['--data', dir, ...TINY_TRAIN_ARGS, '--json'];
    const boys = join(dir, 'boys');
    const t = await capture(['train', 'hand-bone-age', ...common, '--subset', 'sex=M', '--out', boys]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stderr,
      /no split column: a seeded stratified 80\/20 split \(seed 1\)/,
      'the fallback split is said',
    );
    const card = loadBundle(boys).card;
    assert.deepEqual(card.trainingData.subset, { sex: 'M' });
    const split = /: (\d+) train \/ (\d+) dev images \(sex M only\)$/.exec(card.trainingData.summary);
    assert.equal(Number(split?.[1]) + Number(split?.[2]), 8, `the 8 boys only: ${card.trainingData.summary}`);
    assert.match(card.trainingData.command ?? '', /--subset sex=M/);

    const ens = join(dir, 'ens');
    const k = await capture([
      'train',
      'hand-bone-age',
      ...common,
      '--subset',
      'sex=F',
      '--folds',
      '2',
      '--ensemble',
      '--out',
      ens,
    ]);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(
      (JSON.parse(k.stdout.trim().split('\n').pop() ?? '{}') as { composite: string }).composite,
      ens,
    );
    const c = loadComposite(ens);
    assert.equal(c.manifest.kind, 'ensemble');
    assert.deepEqual(
      c.members.map((b) => b.card.trainingData.subset),
      [{ sex: 'F' }, { sex: 'F' }],
    );
    const iv = c.manifest.interval90;
    assert.ok(
      iv !== undefined && iv.n === 8 && iv.halfWidth > 0 && iv.unit === 'months' && iv.coverage >= 0.9,
      JSON.stringify(iv),
    );
    assert.match(iv.method, /out-of-fold absolute residuals .*conservative for the ensemble mean/);
    assert.match(
      c.manifest.description,
      /Every row trained some member: measure the ensemble itself on other data/,
    );
    const cv = JSON.parse(readFileSync(join(ens, 'cv', 'report.json'), 'utf8')) as {
      samples: { predicted: number; reference: number }[];
    };
    const abs = cv.samples.map((s) => Math.abs(s.reference - s.predicted)).sort((a, b) => a - b);
    assert.equal(
      iv.halfWidth,
      abs[Math.min(8, Math.ceil(9 * 0.9)) - 1],
      'calibrated on the out-of-fold predictions of the CV report',
    );
    const noFolds = await capture([
      'train',
      'hand-bone-age',
      ...common,
      '--ensemble',
      '--out',
      join(dir, 'x'),
    ]);
    assert.equal(noFolds.code, 2);
    assert.match(noFolds.stderr, /--ensemble combines fold models: give --folds K/);

    // the F ensemble's first fold is a girls' model: it pairs with the boys' model
    const pair = join(dir, 'pair');
    const p = await capture([
      'bundle',
      'compose',
      '--by',
      'sex',
      `M=${boys}`,
      `F=${join(ens, 'fold-1')}`,
      '--out',
      pair,
    ]);
    assert.equal(p.code, 0, p.stderr);
    // the ensemble as --bundle: both members run (a film one fold's OOD check refuses is refused, exit 1, naming it)
    const r = await capture(['predict', '--no-gate', join(dir, 'blob_3.png'), '--bundle', ens, '--sex', 'F', '--json']);
    const line = jsonLines(r.stdout)[0];
    assert.equal(line?.members?.length, 2, r.stdout);
    if (line?.answer) assert.equal(r.code, 0);
    else
      assert.ok(
        r.code === 1 &&
          /\(check of member hand-bone-age-resnet18_w32-32-F-fold[12]\)$/.test(line?.rejected?.reason ?? ''),
        r.stdout,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
