/**
 * `physis predict` over batches through the one pipeline: every film gets its own line (answer, refusal or error) and
 * the batch goes on; heat maps never collide or overwrite a film; a bundle trained on one sex refuses other films;
 * decoder warnings are shown; file names are printed escaped. Tiny untrained bundles (32 px), synthetic films.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyBoneAgeBundle, writeBlobJpeg, writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';
import { writeImage } from '../../radiograph/dicom-writer.js';
import { capture, jsonLines } from '../capture.js';

function withDir(f: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'physis-cli-predict-'));
    try {
      await f(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** random_bytes_512: seeded bytes that are neither DICOM, PNG nor JPEG. */
function randomBytes(n: number): Uint8Array {
  let s = 12345;
  return Uint8Array.from({ length: n }, (_, i) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return i === 0 ? 0x5a : s >>> 24;
  });
}

void test(
  'predict: a missing file and a corrupt file get their own error lines, the batch goes on, exit 1; all answered, exit 0',
  withDir(async (dir) => {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    const missing = join(dir, 'missing.png');
    const corrupt = join(dir, 'x.dcm');
    writeFileSync(corrupt, randomBytes(512));
    const good = writeBlobPng(join(dir, 'blob_48x64.png'));
    const files = [missing, corrupt, good];

    const j = await capture(['predict', '--no-gate', ...files, '--bundle', bundle.dir, '--sex', 'F', '--json']);
    assert.equal(j.code, 1, 'not every film was answered');
    const lines = jsonLines(j.stdout);
    assert.deepEqual(
      lines.map((l) => l.file),
      files,
      'one JSON object per film, in order',
    );
    assert.equal(lines[0]?.error?.name, 'NotDicomError');
    assert.match(lines[0]?.error?.message ?? '', /missing\.png.*cannot read: ENOENT/);
    assert.equal(lines[1]?.error?.name, 'NotDicomError');
    assert.match(lines[1]?.error?.message ?? '', /x\.dcm.*not a DICOM, PNG or JPEG file \(512 bytes/);
    for (const bad of lines.slice(0, 2)) {
      assert.deepEqual(Object.keys(bad.error ?? {}).sort(), ['message', 'name']);
      assert.equal(bad.answer, undefined);
    }
    assert.ok(
      Number.isFinite(lines[2]?.answer?.boneAgeMonths),
      'the good film after the bad ones is answered',
    );
    assert.match(j.stderr, /3 films: 1 answered, 0 rejected, 2 failed/);

    const h = await capture(['predict', '--no-gate', ...files, '--bundle', bundle.dir, '--sex', 'F']);
    assert.equal(h.code, 1);
    // one line per film; the answer's warning (the gate was skipped) on its own indented line
    const human = h.stdout.trim().split('\n').filter((l) => !l.startsWith('  warning: '));
    assert.equal(human.length, 3, h.stdout);
    assert.match(h.stdout, /blob_48x64\.png: bone age .*\n {2}warning: not checked by the suitability gate: --no-gate/);
    assert.match(human[0] ?? '', /^.*missing\.png: error: NotDicomError: /);
    assert.match(human[1] ?? '', /^.*x\.dcm: error: NotDicomError: .*not a DICOM, PNG or JPEG file/);
    assert.match(human[2] ?? '', /^.*blob_48x64\.png: bone age \d+\.\d months .*sex F from cli/);

    const other = writeBlobPng(join(dir, 'blob_48x64_shift3.png'), 3);
    const ok = await capture(['predict', '--no-gate', good, other, '--bundle', bundle.dir, '--sex', 'F', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(jsonLines(ok.stdout).filter((l) => l.answer !== undefined).length, 2);
  }),
);

void test(
  "predict --manifest: a row's invalid sex fails that film only (named with its manifest line)",
  withDir(async (dir) => {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    writeBlobPng(join(dir, 'a.png'));
    writeBlobPng(join(dir, 'b.png'), 2);
    const csv = join(dir, 'list.csv');
    writeFileSync(csv, 'file,sex\na.png,X\nb.png,F\n');
    const r = await capture(['predict', '--no-gate', '--manifest', csv, '--bundle', bundle.dir, '--json']);
    assert.equal(r.code, 1);
    const [a, b] = jsonLines(r.stdout);
    assert.equal(a?.error?.name, 'SexError');
    assert.match(a?.error?.message ?? '', /list\.csv:2 column 'sex' 'X' is not a sex/);
    assert.equal(b?.answer?.sex, 'F');
    assert.equal(b?.answer?.sexSource, 'manifest');
  }),
);

void test(
  'predict --heatmap: a/x.png, b/x.png and a/x.jpg get three different heat maps, and no film (not even one named like a heat map) is overwritten',
  withDir(async (dir) => {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    mkdirSync(join(dir, 'h'));
    const films = [
      writeBlobPng(join(dir, 'a', 'x.png'), 0),
      writeBlobPng(join(dir, 'b', 'x.png'), 3),
      writeBlobJpeg(join(dir, 'a', 'x.jpg'), 5),
      // where a naive `<name>.heat.png` of a/x.png would go
      writeBlobPng(join(dir, 'h', 'x.heat.png'), 7),
    ];
    const before = films.map((f) => readFileSync(f));
    const r = await capture([
      'predict',
      '--no-gate',
      ...films,
      '--bundle',
      bundle.dir,
      '--heatmap',
      join(dir, 'h'),
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const heat = jsonLines(r.stdout).map((l) => l.heatmap ?? '');
    assert.equal(new Set(heat).size, 4, `distinct heat maps: ${heat.join(', ')}`);
    for (const h of heat) {
      assert.ok(!films.includes(h), `${h} is not a film`);
      assert.equal(readFileSync(h).subarray(1, 4).toString(), 'PNG');
    }
    films.forEach((f, i) => assert.ok(readFileSync(f).equals(before[i] as Buffer), `${f} unchanged`));
    assert.equal(readdirSync(join(dir, 'h')).length, 5, 'four heat maps beside the film already there');
  }),
);

void test(
  "predict with a bundle trained on sex M only: a girl's film and a film of unknown sex are refused with the reason; a routed pair answers unknown sex for both",
  withDir(async (dir) => {
    const m = tinyBoneAgeBundle(join(dir, 'boys'), { id: 'tiny-M', seed: 1, biasMonths: 60, sex: 'M' });
    const f = tinyBoneAgeBundle(join(dir, 'girls'), { id: 'tiny-F', seed: 2, biasMonths: 110, sex: 'F' });
    const film = writeBlobPng(join(dir, 'blob_48x64.png'));

    const girl = await capture(['predict', '--no-gate', film, '--bundle', m.dir, '--sex', 'F', '--json']);
    assert.equal(girl.code, 1);
    const g = jsonLines(girl.stdout)[0];
    assert.equal(g?.answer, undefined, 'no bone age from a model that never saw girls');
    assert.equal(g?.rejected?.reason, 'tiny-M was trained on sex M only, the film is sex F');
    const unknown = await capture(['predict', '--no-gate', film, '--bundle', m.dir]);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stdout,
      /blob_48x64\.png: rejected: tiny-M was trained on sex M only and the film's sex is unknown/,
    );
    const boy = await capture(['predict', '--no-gate', film, '--bundle', m.dir, '--sex', 'M', '--json']);
    assert.equal(boy.code, 0, boy.stderr);
    const boyMonths = jsonLines(boy.stdout)[0]?.answer?.boneAgeMonths;

    const pair = join(dir, 'by-sex');
    const c = await capture(['bundle', 'compose', '--by', 'sex', `M=${m.dir}`, `F=${f.dir}`, '--out', pair]);
    assert.equal(c.code, 0, c.stderr);
    const both = await capture(['predict', '--no-gate', film, '--bundle', pair, '--json']);
    assert.equal(both.code, 0, both.stderr);
    const a = jsonLines(both.stdout)[0]?.answer;
    assert.equal(a?.sexSource, 'unknown');
    assert.equal(a?.boneAgeMonthsBySex?.M, boyMonths, 'the male member answers for M');
    assert.ok(Number.isFinite(a?.boneAgeMonthsBySex?.F));
    assert.notEqual(a?.boneAgeMonthsBySex?.F, a?.boneAgeMonthsBySex?.M);
  }),
);

void test(
  'predict shows the decoder warnings of a film (2-frame DICOM) in the human output and the JSON',
  withDir(async (dir) => {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    const rows = 64;
    const columns = 48;
    const values = Array.from({ length: 2 * rows * columns }, (_, i) => {
      const x = i % columns;
      const y = Math.floor(i / columns) % rows;
      return ((x - 24) / 14) ** 2 + ((y - 34) / 22) ** 2 < 1 ? 3000 : 400 + 4 * y;
    });
    const film = join(dir, 'u16_blob_48x64_2frames.dcm');
    writeFileSync(
      film,
      writeImage({ rows, columns, values, extra: [{ tag: 0x00280008, vr: 'IS', value: '2' }] }),
    );

    const h = await capture(['predict', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'M']);
    assert.equal(h.code, 0, h.stderr);
    const [line, ...warnings] = h.stdout.trimEnd().split('\n');
    assert.match(line ?? '', /u16_blob_48x64_2frames\.dcm: bone age/);
    assert.ok(warnings.includes('  warning: 2 frames; only frame 1 is decoded'), h.stdout);
    const j = await capture(['predict', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'M', '--json']);
    assert.ok(jsonLines(j.stdout)[0]?.warnings?.includes('2 frames; only frame 1 is decoded'), j.stdout);
  }),
);

void test(
  'predict prints a file name with an ESC character escaped in the human line (raw in the JSON string)',
  withDir(async (dir) => {
    const bundle = tinyBoneAgeBundle(join(dir, 'bundle'), { id: 'tiny', seed: 1, biasMonths: 60 });
    const film = writeBlobPng(join(dir, 'a\x1b[2Jb.png'));
    const h = await capture(['predict', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'F']);
    assert.equal(h.code, 0, h.stderr);
    assert.ok(!h.stdout.includes('\x1b'), 'no raw ESC reaches the terminal');
    assert.ok(h.stdout.includes('a\\x1b[2Jb.png: bone age'), h.stdout);
    const j = await capture(['predict', '--no-gate', film, '--bundle', bundle.dir, '--sex', 'F', '--json']);
    assert.equal(jsonLines(j.stdout)[0]?.file, film);
  }),
);

void test('predict --backend onnx with the shipped gate: the model answers on ONNX Runtime, the gate (no graph shipped) on libtorch', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-predict-onnx-gate-'));
  try {
    const bundle = join(dir, 'hand');
    cpSync('models/hand-bone-age', bundle, { recursive: true });
    const add = await capture(['bundle', 'add-onnx', bundle]);
    assert.equal(add.code, 0, add.stderr);
    const r = await capture(['predict', 'samples/hand-0.png', '--bundle', bundle, '--backend', 'onnx', '--sex', 'M', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const line = jsonLines(r.stdout)[0] as { answer?: { boneAgeMonths: number }; backend?: string; gate?: { gate?: { id: string } } };
    assert.ok(line.answer && Number.isFinite(line.answer.boneAgeMonths), r.stdout);
    assert.match(r.stdout, /"backend":"onnx"/);
    assert.match(r.stdout, /suitability-resnet18_w32-128/, 'the gate checked the film');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
