import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { encodeGrayPng, readRadiograph } from '../../../src/radiograph/index.js';
import { writeDicom, writeImage } from '../../radiograph/dicom-writer.js';
import { startCli } from '../../helpers/cli-process.js';
import { capture } from '../capture.js';

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'physis-cli-'));
  writeFileSync(
    join(dir, 'a_u16_ramp_8x8.dcm'),
    writeImage({ rows: 8, columns: 8, values: Array.from({ length: 64 }, (_, i) => i * 100) }),
  );
  writeFileSync(join(dir, 'b_notes.txt'), 'not an image\n');
  writeFileSync(join(dir, 'c_sr_no_pixels.dcm'), writeDicom([{ tag: 0x00080060, vr: 'CS', value: 'SR' }]));
  writeFileSync(
    join(dir, 'd_gray_16x16.png'),
    encodeGrayPng(
      16,
      16,
      Float32Array.from({ length: 256 }, (_, i) => i / 255),
    ),
  );
  return dir;
}

void test('inspect --json prints one JSON line per file and never stops at a bad one', async () => {
  const dir = folder();
  const { code, stdout } = await capture(['inspect', dir, '--json']);
  assert.equal(code, 0);
  const records = stdout
    .trim()
    .split('\n')
    .map(
      (l) =>
        JSON.parse(l) as {
          file: string;
          status: string;
          rows?: number;
          error?: { name: string; message: string };
        },
    );
  assert.deepEqual(
    records.map((r) => [r.file.split('/').pop(), r.status, r.error?.name ?? null]),
    [
      ['a_u16_ramp_8x8.dcm', 'decoded', null],
      ['b_notes.txt', 'rejected', 'NotDicomError'],
      ['c_sr_no_pixels.dcm', 'rejected', 'NoPixelDataError'],
      ['d_gray_16x16.png', 'decoded', null],
    ],
  );
  assert.equal(records[0]?.rows, 8);
  assert.match(records[2]?.error?.message ?? '', /c_sr_no_pixels\.dcm: no Pixel Data/);
});

void test('inspect --strict exits 1 when a file was rejected; human output has a summary', async () => {
  const { code, stdout } = await capture(['inspect', folder(), '--strict']);
  assert.equal(code, 1);
  assert.match(stdout, /^REJECTED .*b_notes\.txt: NotDicomError: /m);
  assert.match(stdout, /4 files: 2 decoded, 2 rejected/);
});

void test('preview writes the model view as an N x N PNG', async () => {
  const dir = folder();
  const outPath = join(dir, 'out', 'preview.png');
  const { code, stdout } = await capture([
    'preview',
    join(dir, 'd_gray_16x16.png'),
    '-o',
    outPath,
    '--size',
    '32',
    '--json',
  ]);
  assert.equal(code, 0, stdout);
  const written = await readRadiograph(outPath);
  assert.equal(written.rows, 32);
  assert.equal(written.columns, 32);
  assert.equal((JSON.parse(stdout) as { out: string }).out, outPath);
});

void test('preview of a file without pixels fails with one line naming the error', async () => {
  const dir = folder();
  const { code, stderr } = await capture(['preview', join(dir, 'c_sr_no_pixels.dcm'), '-o', join(dir, 'x.png')]);
  assert.equal(code, 1);
  assert.match(stderr, /^physis: NoPixelDataError: .*c_sr_no_pixels\.dcm: no Pixel Data/);
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.equal(existsSync(join(dir, 'x.png')), false);
});

// `physis preview f.png -o f.png` used to overwrite the film with its preview. Every spelling of "the input"
// must be refused with one line naming the problem, exit 2, and the input left byte for byte as it was.
const SAME_FILE_CASES: readonly { name: string; out: (dir: string, input: string) => string }[] = [
  { name: 'the same path', out: (_dir, input) => input },
  { name: 'the same file through ..', out: (dir) => join(dir, 'sub', '..', 'd_gray_16x16.png') },
  { name: 'the same file by a relative path', out: (_dir, input) => relative(process.cwd(), input) },
  {
    name: 'a symlink to the input',
    out: (dir, input) => {
      symlinkSync(input, join(dir, 'link.png'));
      return join(dir, 'link.png');
    },
  },
  {
    name: 'a hard link to the input',
    out: (dir, input) => {
      linkSync(input, join(dir, 'hard.png'));
      return join(dir, 'hard.png');
    },
  },
];
for (const { name, out } of SAME_FILE_CASES) {
  void test(`preview refuses to write over its input: ${name}`, async () => {
    const dir = folder();
    const input = join(dir, 'd_gray_16x16.png');
    const before = readFileSync(input);
    const { code, stderr } = await capture(['preview', input, '-o', out(dir, input), '--size', '32']);
    assert.equal(code, 2);
    assert.match(
      stderr.split('\n')[0] ?? '',
      /^physis: UsageError: -o .* is the input file itself and would be overwritten; give another output path$/,
    );
    assert.deepEqual(readFileSync(input), before);
  });
}

void test('preview names a path with control characters escaped, on one line', async () => {
  const dir = folder();
  const input = join(dir, 'evil\n\x1b[2Jname.png');
  writeFileSync(input, readFileSync(join(dir, 'd_gray_16x16.png')));
  const refused = await capture(['preview', input, '-o', input]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr.split('\n')[0] ?? '', /evil\\n\\x1b\[2Jname\.png is the input file itself/);
  const outPath = join(dir, 'out\rx.png');
  const written = await capture(['preview', input, '-o', outPath, '--size', '16']);
  assert.equal(written.code, 0, written.stderr);
  assert.ok(written.stdout.startsWith(`wrote ${join(dir, 'out\\rx.png')} (16x16, `), written.stdout);
  assert.equal(written.stdout.split('\n').length, 2, 'one line');
});

void test('preview without -o is a usage error (exit 2)', async () => {
  const { code, stderr } = await capture(['preview', 'whatever.dcm']);
  assert.equal(code, 2);
  assert.match(stderr, /missing --out/);
});

void test('demo inspects the shipped sample and writes its preview', async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'physis-demo-'));
  const { code, stdout } = await capture(['demo', '--out-dir', outDir]);
  assert.equal(code, 0, stdout);
  assert.match(stdout, /ok .*hand-0\.png: png, 592x910/);
  const preview = join(outDir, 'hand-0.preview.png');
  assert.match(
    stdout,
    new RegExp(
      `preview \\(what a model sees, 512x512\\): ${preview.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`,
    ),
  );
  assert.ok(readFileSync(preview).length > 1000);
});

void test('physis demo skull-infant-age runs the whole path with the shipped gate first: held-out phantoms pass it, two films are answered with heat maps, and the folder is never reused', { skip: existsSync('models/suitability/card.json') ? false : 'models/suitability is absent' }, async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'physis-skull-demo-')), 'demo');
  // a child process: 20 s of captured stdout in this process would swallow the test runner's own reports
  const r = await startCli(['demo', 'skull-infant-age', '--out-dir', dir, '--json']).done;
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { films: { gate?: { id: string } | null; answer?: unknown; heatmap?: string }[]; evaluationReport: string };
  const report = JSON.parse(readFileSync(join(dir, 'evaluation', 'report.json'), 'utf8')) as { data: string };
  // the gate was trained on another seed's phantoms: the demo's held-out infants must all pass it
  assert.match(report.data, /(\d+) phantom films; \1 accepted, 0 refused by the suitability checks \(suitability gate suitability-/);
  assert.equal(result.films.length, 2);
  for (const f of result.films) assert.ok(f.answer !== undefined, JSON.stringify(f).slice(0, 300));
  assert.ok(existsSync(join(dir, 'ap.heat.png')) && existsSync(join(dir, 'lateral.heat.png')));
  const again = await startCli(['demo', 'skull-infant-age', '--out-dir', dir]).done;
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds files; give another --out-dir \(the demo never overwrites\)/);
  const misplaced = await capture(['demo', '--no-gate']);
  assert.equal(misplaced.code, 2);
  assert.match(misplaced.stderr, /--gate and --no-gate apply to physis demo skull-infant-age only/);
});
