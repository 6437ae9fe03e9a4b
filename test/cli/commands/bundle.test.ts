import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUNDLE_FILES,
  loadBundle,
  loadComposite,
  saveModelBundle,
  sha256Hex,
  type ModelBundle,
} from '../../../src/infer/index.js';
import { createModel } from '../../../src/models/index.js';
import { manualSeed, parseSafetensors, serializeSafetensors } from '../../../src/torch/index.js';
import { addTinyOod, tinyBoneAgeBundle, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';
import { capture, jsonLines } from '../capture.js';

function weightsOnlyBundle(): string {
  manualSeed(2);
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-bundle-'));
  const model = createModel('resnet18', {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: true },
  });
  saveModelBundle(dir, model, {
    card: {
      id: 'cli-test',
      version: '1.0.0',
      task: 'bone-age-regression',
      input: { shape: [1, 64, 64], preprocessing: {} },
      outputs: [{ name: 'boneAgeMonths', unit: 'months' }],
      trainingData: { summary: 'untrained' },
      metrics: [],
    },
    onnx: false,
  });
  return dir;
}

const withDir =
  (f: (dir: string) => Promise<void>): (() => Promise<void>) =>
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'physis-cli-bundle-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

void test('physis bundle verify prints the bundle as JSON; add-onnx adds a verified graph', async () => {
  const dir = weightsOnlyBundle();
  const v = await capture(['bundle', 'verify', dir, '--json']);
  assert.equal(v.code, 0, v.stderr);
  const info = JSON.parse(v.stdout) as { id: string; onnx: unknown; weights: { sha256: string } };
  assert.equal(info.id, 'cli-test');
  assert.equal(info.onnx, null);
  const a = await capture(['bundle', 'add-onnx', dir, '--json']);
  assert.equal(a.code, 0, a.stderr);
  const after = JSON.parse(a.stdout) as {
    onnx: { opset: number; sha256: string };
    weights: { sha256: string };
  };
  assert.equal(after.onnx.opset, 17);
  assert.equal(after.weights.sha256, info.weights.sha256);
  assert.equal(loadBundle(dir).onnxPath, join(dir, BUNDLE_FILES.onnx));
  rmSync(dir, { recursive: true });
});

void test('physis bundle verify exits 1 with a one-line typed error for a tampered bundle, 2 for a bad action', async () => {
  const dir = weightsOnlyBundle();
  appendFileSync(join(dir, BUNDLE_FILES.weights), 'x');
  const r = await capture(['bundle', 'verify', dir]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^physis: BundleIntegrityError: .*weights\.safetensors: sha256 [0-9a-f]{64} does not match/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1);
  const u = await capture(['bundle', 'frobnicate', dir]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown action 'frobnicate'/);
  rmSync(dir, { recursive: true });
});

/** blob films for the OOD fit, varied by shift and noise. */
const films = (dir: string): string[] =>
  [0, 1, 2, 3].map((i) => writeBlobPng(join(dir, `blob_${i}.png`), 2 * i - 3, 0.3));

void test(
  'physis bundle verify and add-onnx keep the OOD statistics and calibration hashed; an edited one, or an unlisted OOD file, fails verify and predict',
  withDir(async (dir) => {
    const ref = await addTinyOod(
      tinyBoneAgeBundle(join(dir, 'b'), {
        id: 'tiny',
        seed: 1,
        biasMonths: 60,
        interval: { scale: 2, views: 3 },
      }),
      films(dir),
    );
    const v = await capture(['bundle', 'verify', ref.dir]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(
      v.stdout,
      /, interval calibration\.json sha256 [0-9a-f]{12}…, ood ood\.json sha256 [0-9a-f]{12}…: ok/,
    );
    const a = await capture(['bundle', 'add-onnx', ref.dir, '--json']);
    assert.equal(a.code, 0, a.stderr);
    assert.deepEqual(
      (JSON.parse(a.stdout) as { artifacts: unknown }).artifacts,
      ref.card.files.artifacts,
      'add-onnx keeps the artifacts',
    );
    const film = join(dir, 'blob_0.png');
    assert.equal((await capture(['predict', '--no-gate', film, '--bundle', ref.dir, '--sex', 'M'])).code, 0);

    for (const [file, edit] of [
      ['ood.json', (t: string) => t.replace(/"threshold": [0-9.e+-]+/, '"threshold": 1e9')],
      ['calibration.json', (t: string) => t.replace(/"scale": [0-9.e+-]+/, '"scale": 0.1')],
    ] as const) {
      const path = join(ref.dir, file);
      const original = readFileSync(path, 'utf8');
      const edited = edit(original);
      assert.notEqual(edited, original, `${file} edited`);
      writeFileSync(path, edited);
      const bad = await capture(['bundle', 'verify', ref.dir]);
      assert.equal(bad.code, 1, `${file} edited: verify fails`);
      assert.match(
        bad.stderr,
        new RegExp(
          `^physis: BundleIntegrityError: .*${file.replace('.', '\\.')}: sha256 [0-9a-f]{64} does not match [0-9a-f]{64} recorded in card\\.json`,
        ),
      );
      const p = await capture(['predict', '--no-gate', film, '--bundle', ref.dir, '--sex', 'M']);
      assert.equal(p.code, 1, `${file} edited: predict refuses the bundle`);
      assert.match(p.stderr, /BundleIntegrityError/);
      writeFileSync(path, original);
    }

    // an OOD file dropped into a bundle whose card does not list one
    const plain = tinyBoneAgeBundle(join(dir, 'plain'), { id: 'plain', seed: 2, biasMonths: 60 });
    writeFileSync(join(plain.dir, 'ood.json'), readFileSync(join(ref.dir, 'ood.json')));
    const extra = await capture(['bundle', 'verify', plain.dir]);
    assert.equal(extra.code, 1);
    assert.match(
      extra.stderr,
      /^physis: BundleIntegrityError: .*plain\/ood\.json: file present but card\.json records no sha256 for it/,
    );
  }),
);

/**
 * Write `ref` as Physis 0.1 wrote bundles (card schema 1): only the weights hashed in the card, the OOD statistics'
 * sha256 in the weights file's metadata, `trainingData.sex`, the interval calibration as card metrics.
 */
function writeSchema1(
  ref: ModelBundle,
  dir: string,
  o: { scale: number; views: number; sex?: 'M' | 'F'; withoutCoverage?: boolean },
): void {
  mkdirSync(dir, { recursive: true });
  const ood = ref.artifacts.get('ood')?.bytes;
  const { tensors, metadata } = parseSafetensors(ref.weightsBytes);
  const weights = serializeSafetensors(tensors, {
    ...metadata,
    ...(ood ? { oodSha256: sha256Hex(ood) } : {}),
  });
  writeFileSync(join(dir, 'weights.safetensors'), weights);
  if (ood) writeFileSync(join(dir, 'ood.json'), ood);
  const { files: _f, trainingData, metrics: _m, ...rest } = ref.card;
  const card = {
    ...rest,
    schemaVersion: 1,
    trainingData: { summary: trainingData.summary, ...(o.sex ? { sex: o.sex } : {}) },
    metrics: [
      { name: 'ttaViews', value: o.views, unit: 'count', data: 'views per image for the interval' },
      {
        name: 'interval90Scale',
        value: o.scale,
        unit: 'multiple of (TTA SD + 1 month)',
        data: 'split-conformal calibration on the dev split, 10 images',
      },
      ...(o.withoutCoverage === true
        ? []
        : [
            {
              name: 'interval90Coverage',
              value: 0.9,
              unit: 'fraction',
              data: 'dev split, 10 images (in-sample: the calibration set)',
            },
          ]),
    ],
    files: {
      weights: {
        path: 'weights.safetensors',
        sha256: sha256Hex(weights),
        dtype: ref.card.files.weights.dtype,
      },
    },
  };
  writeFileSync(join(dir, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
}

void test(
  'physis bundle upgrade refuses a schema-1 card with an interval scale but no coverage (its calibration is unknown) and leaves it as it was',
  withDir(async (dir) => {
    const interval = { scale: 2, views: 3 };
    const ref = tinyBoneAgeBundle(join(dir, 'ref'), { id: 'tiny', seed: 1, biasMonths: 60, interval });
    const old = join(dir, 'old');
    writeSchema1(ref, old, { ...interval, withoutCoverage: true });
    const before = readFileSync(join(old, 'card.json'), 'utf8');
    const r = await capture(['bundle', 'upgrade', old]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /interval90Scale without interval90Coverage/);
    assert.equal(readFileSync(join(old, 'card.json'), 'utf8'), before);
    assert.equal(existsSync(join(old, 'calibration.json')), false);
  }),
);

void test(
  'physis bundle upgrade: a schema-1 bundle becomes schema 2 (OOD and calibration hashed, subset from sex, weights untouched), verifies and answers as before',
  withDir(async (dir) => {
    const interval = { scale: 2, views: 3 };
    const ref = await addTinyOod(
      tinyBoneAgeBundle(join(dir, 'ref'), { id: 'tiny-M', seed: 1, biasMonths: 60, sex: 'M', interval }),
      films(dir),
    );
    const old = join(dir, 'old');
    writeSchema1(ref, old, { ...interval, sex: 'M' });
    const film = join(dir, 'blob_1.png');

    const refused = await capture(['bundle', 'verify', old]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^physis: ModelCardError: .*card schema 1 does not hash .*upgrade it once with `physis bundle upgrade <dir>`/,
    );
    const oodBytes = readFileSync(join(old, 'ood.json'));
    writeFileSync(join(old, 'ood.json'), '{}');
    const tampered = await capture(['bundle', 'upgrade', old]);
    assert.equal(tampered.code, 1, 'an OOD file that is not the one the weights recorded is not vouched for');
    assert.match(tampered.stderr, /ood\.json: sha256 differs from the one the weights file recorded/);
    writeFileSync(join(old, 'ood.json'), oodBytes);

    const weightsBefore = readFileSync(join(old, 'weights.safetensors'));
    const labels = join(dir, 'labels.csv');
    writeFileSync(
      labels,
      'file,sex,boneage_months,split\nblob_0.png,M,50,train\nblob_1.png,M,60,train\nblob_2.png,M,70,dev\nblob_3.png,M,80,test\n',
    );
    const u = await capture(['bundle', 'upgrade', old, '--training-labels', labels]);
    assert.equal(u.code, 0, u.stderr);
    assert.match(
      u.stdout,
      /old: card schema 1 -> 2 \(ood\.json, calibration\.json hashed; weights unchanged\)/,
    );
    assert.match(u.stdout, /old: 2 train and 1 dev rows of .*labels\.csv recorded/);
    assert.ok(readFileSync(join(old, 'weights.safetensors')).equals(weightsBefore), 'weights file untouched');
    const v = await capture(['bundle', 'verify', old]);
    assert.equal(v.code, 0, v.stderr);
    const card = loadBundle(old).card;
    assert.equal(card.schemaVersion, 2);
    assert.deepEqual(card.trainingData.subset, { sex: 'M' });
    assert.equal((card.trainingData as Record<string, unknown>)['sex'], undefined);
    assert.deepEqual((card.files.artifacts ?? []).map((a) => a.role).sort(), [
      'interval',
      'ood',
      'training-rows',
    ]);
    const rows = JSON.parse(readFileSync(join(old, 'training-rows.json'), 'utf8')) as {
      train: { id: string }[];
      dev: { id: string }[];
    };
    assert.deepEqual(
      [rows.train.map((r) => r.id), rows.dev.map((r) => r.id)],
      [['blob_0.png', 'blob_1.png'], ['blob_2.png']],
    );

    const before = jsonLines(
      (await capture(['predict', '--no-gate', film, '--bundle', ref.dir, '--sex', 'M', '--json'])).stdout,
    )[0];
    const after = jsonLines(
      (await capture(['predict', '--no-gate', film, '--bundle', old, '--sex', 'M', '--json'])).stdout,
    )[0];
    assert.ok(before?.answer && after?.answer, 'both answered');
    assert.equal(after.answer.boneAgeMonths, before.answer.boneAgeMonths);
    assert.deepEqual(after.answer.interval90, before.answer.interval90);
    const girl = jsonLines(
      (await capture(['predict', '--no-gate', film, '--bundle', old, '--sex', 'F', '--json'])).stdout,
    )[0];
    assert.match(
      girl?.rejected?.reason ?? '',
      /tiny-M was trained on sex M only/,
      'the upgraded subset is enforced',
    );
    const again = await capture(['bundle', 'upgrade', old]);
    assert.match(again.stdout, /card schema 2, nothing to upgrade/);
  }),
);

void test(
  'physis bundle upgrade: a schema-1 sex-specific composite becomes one routed by sex, its pins still hold and unknown sex gets both answers',
  withDir(async (dir) => {
    const interval = { scale: 2, views: 3 };
    const refs = {
      M: tinyBoneAgeBundle(join(dir, 'ref-M'), { id: 'tiny-M', seed: 1, biasMonths: 60, sex: 'M', interval }),
      F: tinyBoneAgeBundle(join(dir, 'ref-F'), {
        id: 'tiny-F',
        seed: 2,
        biasMonths: 110,
        sex: 'F',
        interval,
      }),
    };
    const pair = join(dir, 'pair');
    writeSchema1(refs.M, join(pair, 'male'), { ...interval, sex: 'M' });
    writeSchema1(refs.F, join(pair, 'female'), { ...interval, sex: 'F' });
    const pin = (path: string, sex: 'M' | 'F'): Record<string, string> => ({
      path,
      id: `tiny-${sex}`,
      weightsSha256: sha256Hex(readFileSync(join(pair, path, 'weights.safetensors'))),
      sex,
    });
    const composite = {
      format: 'physis-composite',
      schemaVersion: 1,
      kind: 'sex-specific',
      id: 'tiny-by-sex',
      task: 'hand-bone-age',
      members: [pin('male', 'M'), pin('female', 'F')],
      description: 'one model per sex',
      metrics: [],
      createdAt: '2026-01-01T00:00:00.000Z',
      physisVersion: '0.1.0',
    };
    writeFileSync(join(pair, 'composite.json'), JSON.stringify(composite));
    assert.equal((await capture(['bundle', 'verify', pair])).code, 1, 'schema 1 is refused until upgraded');

    const u = await capture(['bundle', 'upgrade', pair]);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /pair: composite schema 1 -> 2/);
    const c = loadComposite(pair);
    assert.equal(c.manifest.kind, 'routed');
    assert.equal(c.manifest.routeBy, 'sex');
    assert.deepEqual(
      c.manifest.members.map((m) => m.route),
      ['M', 'F'],
    );
    const film = writeBlobPng(join(dir, 'blob_48x64.png'));
    const alone = async (b: ModelBundle, sex: string): Promise<number | undefined> =>
      jsonLines((await capture(['predict', '--no-gate', film, '--bundle', b.dir, '--sex', sex, '--json'])).stdout)[0]
        ?.answer?.boneAgeMonths;
    const both = await capture(['predict', '--no-gate', film, '--bundle', pair, '--json']);
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(jsonLines(both.stdout)[0]?.answer?.boneAgeMonthsBySex, {
      M: await alone(refs.M, 'M'),
      F: await alone(refs.F, 'F'),
    });
  }),
);

/**
 * 26 noisy blob films: blob_0…3 train, blob_4…25 dev (sexes alternating, 30…180 months), with their labels.csv.
 */
function calibrationFilms(dir: string): { labels: string; train: string[]; dev: string[] } {
  const rows = Array.from({ length: 26 }, (_, i) => ({
    file: writeBlobPng(join(dir, `cal_${i}.png`), i - 13, 0.5),
    line: `cal_${i}.png,${i % 2 === 0 ? 'M' : 'F'},${30 + 6 * i},${i < 4 ? 'train' : 'dev'}`,
  }));
  const labels = join(dir, 'labels.csv');
  writeFileSync(labels, `file,sex,boneage_months,split\n${rows.map((r) => r.line).join('\n')}\n`);
  return { labels, train: rows.slice(0, 4).map((r) => r.file), dev: rows.slice(4).map((r) => r.file) };
}

void test(
  'physis bundle recalibrate: refuses films the network trained on and too few films, leaving the bundle as it was; on dev films writes the interval predict then gives (its coverage and median width are the card\'s), weights untouched',
  withDir(async (dir) => {
    const { labels, train, dev } = calibrationFilms(dir);
    const b = tinyBoneAgeBundle(join(dir, 'b'), { id: 'tiny', seed: 3, biasMonths: 100, interval: { scale: 2, views: 3 }, trainingRows: { train, dev } });
    const cardBefore = readFileSync(join(b.dir, 'card.json'));

    const trained = await capture(['bundle', 'recalibrate', b.dir, '--data', labels]);
    assert.equal(trained.code, 1);
    assert.match(trained.stderr, /^physis: InputError: 4 of the 26 films trained this network \(first: cal_0\.png\); an interval calibrated on them would be too narrow/);
    const few = await capture(['bundle', 'recalibrate', b.dir, '--data', labels, '--split', 'test']);
    assert.equal(few.code, 1);
    assert.match(few.stderr, /0 film\(s\) in split 'test'; a 90% interval needs at least 20 to calibrate on/);
    assert.deepEqual(readFileSync(join(b.dir, 'card.json')), cardBefore, 'a refused recalibration leaves the card as it was');

    const r = await capture(['bundle', 'recalibrate', b.dir, '--data', labels, '--split', 'dev', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /22\/22 films, [\d.]+ films\/s/);
    const after = loadBundle(b.dir);
    assert.equal(after.card.files.weights.sha256, b.card.files.weights.sha256, 'weights untouched');
    assert.equal(after.card.version, '0.0.2');
    assert.deepEqual(after.card.trainingData.calibration, {
      command: `physis bundle recalibrate ${b.dir} --data ${labels} --split dev`,
      data: `${labels} (in split 'dev'), 22 images`,
    });
    const cal = JSON.parse(readFileSync(join(b.dir, 'calibration.json'), 'utf8')) as { views: number; n: number; scale: number; coverage: number };
    assert.equal(cal.views, 32);
    assert.equal(cal.n, 22);
    const metric = (name: string): number[] => after.card.metrics.filter((m) => m.name === name).map((m) => m.value);
    assert.deepEqual(metric('ttaViews'), [32]);
    assert.deepEqual(metric('interval90Scale'), [cal.scale]);
    assert.equal(metric('interval90CoverageHeldOut').length, 1);

    // predict on the same films, as a reader would: the share its intervals cover and their median width are the card's
    const manifest = join(dir, 'dev.csv');
    const refs = new Map<string, number>();
    writeFileSync(
      manifest,
      `file,sex\n${readFileSync(labels, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .filter((l) => l.endsWith(',dev'))
        .map((l) => {
          const [file, sex, months] = l.split(',') as [string, string, string];
          refs.set(file, Number(months));
          return `${file},${sex}`;
        })
        .join('\n')}\n`,
    );
    const p = await capture(['predict', '--no-gate', '--manifest', manifest, '--bundle', b.dir, '--json']);
    assert.ok(jsonLines(p.stdout).every((l) => refs.has(l.file)), p.stdout.slice(0, 400));
    const answers = jsonLines(p.stdout).map((l) => ({ ref: refs.get(l.file) as number, iv: l.answer?.interval90 as { lowMonths: number; highMonths: number } }));
    assert.equal(answers.length, 22);
    const covered = answers.filter((a) => a.ref >= a.iv.lowMonths && a.ref <= a.iv.highMonths).length;
    assert.equal(covered / 22, metric('interval90Coverage')[0]);
    const widths = answers.map((a) => a.iv.highMonths - a.iv.lowMonths).sort((x, y) => x - y);
    assert.ok(Math.abs(((widths[10] as number) + (widths[11] as number)) / 2 - (metric('interval90MedianWidth')[0] as number)) < 1e-6);
    assert.equal((await capture(['bundle', 'verify', b.dir])).code, 0);
  }),
);

void test(
  'physis bundle recalibrate: a model of one sex is calibrated on films of its sex; a composite is refused',
  withDir(async (dir) => {
    const { labels, train, dev } = calibrationFilms(dir);
    // 40 dev films, so each sex has 20 of them
    const more = Array.from({ length: 18 }, (_, i) => `${writeBlobPng(join(dir, `more_${i}.png`), i - 9, 0.4).slice(dir.length + 1)},${i % 2 === 0 ? 'M' : 'F'},${40 + 7 * i},dev`);
    appendFileSync(labels, `${more.join('\n')}\n`);
    const m = tinyBoneAgeBundle(join(dir, 'm'), { id: 'tiny-M', seed: 4, biasMonths: 90, sex: 'M', interval: { scale: 2, views: 3 }, trainingRows: { train, dev } });
    const r = await capture(['bundle', 'recalibrate', m.dir, '--data', labels, '--split', 'dev']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /interval recalibrated on 20 films over 32 TTA views/);
    assert.equal(loadBundle(m.dir).card.trainingData.calibration?.data, `${labels} (in split 'dev' of sex M), 20 images`);
    const composite = join(dir, 'by-sex');
    mkdirSync(composite);
    writeFileSync(join(composite, 'composite.json'), '{}');
    const c = await capture(['bundle', 'recalibrate', composite, '--data', labels]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /is a composite: recalibrate each member folder/);
  }),
);
