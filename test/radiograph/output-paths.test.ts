import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { OutputPathError, isSameFile, planOutputPaths } from '../../src/radiograph/index.js';

/** A fresh folder with these files (relative paths, folders created), each holding its own name. */
function tree(files: readonly string[]): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'physis-out-')));
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), f);
  }
  return root;
}

/** Outputs must be pairwise different even on a case-insensitive file system, and none may be an input. */
function assertSafe(inputs: readonly string[], outputs: readonly string[]): void {
  assert.equal(outputs.length, inputs.length);
  const keys = outputs.map((o) => basename(o).normalize('NFC').toLowerCase());
  assert.equal(new Set(keys).size, keys.length, `colliding outputs: ${outputs.join(', ')}`);
  for (const o of outputs) {
    assert.ok(Buffer.byteLength(basename(o)) <= 255, `${basename(o).length} chars: ${o}`);
    for (const i of inputs) assert.ok(!isSameFile(o, i), `${o} is the input ${i}`);
  }
}

// Name cases: files under one fresh folder; inputs and expected outputs relative to it, outDir 'out'.
const NAME_CASES: readonly { name: string; inputs: string[]; suffix: string; expected: string[] }[] = [
  {
    name: 'unique stems keep the plain name',
    inputs: ['a/x.png', 'b/y.dcm', 'z'],
    suffix: '.preview.png',
    expected: ['out/x.preview.png', 'out/y.preview.png', 'out/z.preview.png'],
  },
  {
    name: 'a/x.png, b/x.png, a/x.jpg: extension first, then the parent folder',
    inputs: ['a/x.png', 'b/x.png', 'a/x.jpg', 'a/y.png'],
    suffix: '.preview.png',
    expected: [
      'out/a_x.png.preview.png',
      'out/b_x.png.preview.png',
      'out/x.jpg.preview.png',
      'out/y.preview.png',
    ],
  },
  {
    name: 'same folder name at two depths falls back to a counter in input order',
    inputs: ['p/a/x.png', 'q/a/x.png', 'r/a/x.png'],
    suffix: '.json',
    expected: ['out/a_x.png-1.json', 'out/a_x.png-2.json', 'out/a_x.png-3.json'],
  },
  {
    name: 'names differing only in case count as colliding (APFS, NTFS)',
    inputs: ['a/X.png', 'b/x.png'],
    suffix: '.out',
    expected: ['out/a_X.png.out', 'out/b_x.png.out'],
  },
  {
    name: 'NFC and NFD spellings of é count as colliding (HFS+)',
    inputs: ['a/caf\u00e9.png', 'b/cafe\u0301.png'],
    suffix: '.out',
    expected: ['out/a_caf\u00e9.png.out', 'out/b_cafe\u0301.png.out'],
  },
  {
    name: 'the same input twice gets two outputs',
    inputs: ['a/x.png', 'a/x.png'],
    suffix: '.out',
    expected: ['out/a_x.png-1.out', 'out/a_x.png-2.out'],
  },
  {
    name: 'a counter skips a name another input already has',
    inputs: ['a/x.png', 'a/x.png', 'b/a_x.png-1.out'],
    suffix: '.out',
    expected: ['out/a_x.png-2.out', 'out/a_x.png-3.out', 'out/a_x.png-1.out'],
  },
  {
    name: 'files without an extension and dot-files',
    inputs: ['a/README', 'b/README', 'c/.hidden'],
    suffix: '.txt',
    expected: ['out/a_README.txt', 'out/b_README.txt', 'out/.hidden.txt'],
  },
];
for (const { name, inputs, suffix, expected } of NAME_CASES) {
  void test(`planOutputPaths: ${name}`, () => {
    const root = tree(inputs);
    const abs = inputs.map((i) => join(root, i));
    const outputs = planOutputPaths(abs, join(root, 'out'), suffix);
    assert.deepEqual(
      outputs.map((o) => relative(root, o)),
      expected,
    );
    assertSafe(abs, outputs);
    assert.deepEqual(planOutputPaths(abs, join(root, 'out'), suffix), outputs, 'deterministic');
  });
}

// Outputs written next to the inputs: a name equal to an input climbs the ladder instead of overwriting it.
const IN_PLACE_CASES: readonly { name: string; inputs: string[]; suffix: string; expected: string[] }[] = [
  { name: 'suffix equal to the extension', inputs: ['d/x.png'], suffix: '.png', expected: ['d/x.png.png'] },
  { name: 'empty suffix, no extension', inputs: ['d/x'], suffix: '', expected: ['d/d_x'] },
  {
    name: 'a climbed name that is another input climbs again',
    inputs: ['d/x.png', 'd/x.png.png'],
    suffix: '.png',
    expected: ['d/d_x.png.png', 'd/x.png.png.png'],
  },
];
for (const { name, inputs, suffix, expected } of IN_PLACE_CASES) {
  void test(`planOutputPaths never names an input: ${name}`, () => {
    const root = tree(inputs);
    const abs = inputs.map((i) => join(root, i));
    const outputs = planOutputPaths(abs, join(root, 'd'), suffix);
    assert.deepEqual(
      outputs.map((o) => relative(root, o)),
      expected,
    );
    assertSafe(abs, outputs);
  });
}

void test('planOutputPaths sees through a symlinked output folder, a relative path and a hard-linked old output', () => {
  const root = tree(['films/x.png', 'films/y.png']);
  symlinkSync(join(root, 'films'), join(root, 'link'));
  const x = join(root, 'films/x.png');
  const y = join(root, 'films/y.png');
  // -o link/ with suffix .png would write link/x.png, which is films/x.png.
  assert.deepEqual(planOutputPaths([x], join(root, 'link'), '.png'), [join(root, 'link', 'x.png.png')]);
  // The same through a relative, un-normalised output folder.
  const relativeOut = join(relative(process.cwd(), root), 'films', '..', 'films');
  assert.deepEqual(planOutputPaths([x], relativeOut, '.png'), [join(relativeOut, 'x.png.png')]);
  // An earlier output that is a hard link to an input must not be written through.
  mkdirSync(join(root, 'out'));
  linkSync(y, join(root, 'out', 'y.preview.png'));
  const outputs = planOutputPaths([x, y], join(root, 'out'), '.preview.png');
  assert.deepEqual(outputs, [join(root, 'out', 'x.preview.png'), join(root, 'out', 'y.png.preview.png')]);
  assertSafe([x, y], outputs);
});

void test('planOutputPaths shortens names over 255 bytes and keeps them unique and valid UTF-8', () => {
  const long = 'a'.repeat(300);
  const accented = '\u00e9'.repeat(200); // 400 bytes
  const emoji = '\u{1F9B4}'.repeat(70); // 280 bytes, surrogate pairs in UTF-16
  const inputs = [`d1/${long}1.png`, `d2/${long}2.png`, `d3/${accented}.png`, `d4/${emoji}.png`].map((f) =>
    join('/nonexistent-physis', f),
  );
  const outputs = planOutputPaths(inputs, '/tmp/out', '.preview.png');
  assertSafe(inputs, outputs);
  for (const o of outputs) {
    const name = basename(o);
    assert.ok(name.endsWith('.preview.png'), name);
    assert.match(name, /~[0-9a-f]{8}\.preview\.png$/);
    assert.equal(Buffer.from(name, 'utf8').toString('utf8'), name, 'no broken surrogate pair');
    assert.ok(Buffer.byteLength(name) > 240, `uses the room it has: ${Buffer.byteLength(name)}`);
  }
  assert.ok(basename(outputs[0] ?? '').startsWith('a'.repeat(200)));
});

void test('planOutputPaths: many same-named inputs all get distinct, safe names', () => {
  const inputs: string[] = [];
  for (let i = 0; i < 60; i++)
    inputs.push(`/data/${['a', 'b', 'A'][i % 3]}/${i % 2 ? 'X' : 'x'}.${['png', 'PNG', 'dcm'][i % 3]}`);
  const outputs = planOutputPaths(inputs, '/data/a', '');
  assertSafe(inputs, outputs);
});

void test('planOutputPaths refuses a suffix that is not part of a file name', () => {
  for (const suffix of ['/x.png', 'a\\b', 'x\0', 'x'.repeat(250)]) {
    assert.throws(() => planOutputPaths(['a.png'], 'out', suffix), OutputPathError, JSON.stringify(suffix));
  }
  assert.deepEqual(planOutputPaths([], 'out', '.png'), []);
});

void test('isSameFile: paths, symlinks, hard links and files that do not exist yet', () => {
  const root = tree(['a/f.png', 'a/g.png']);
  symlinkSync(join(root, 'a'), join(root, 'link'));
  symlinkSync(join(root, 'a/f.png'), join(root, 'f-link.png'));
  linkSync(join(root, 'a/f.png'), join(root, 'f-hard.png'));
  const f = join(root, 'a/f.png');
  const cases: readonly (readonly [string, string, boolean])[] = [
    [f, f, true],
    [f, join(root, 'a', '.', '..', 'a', 'f.png'), true],
    [f, relative(process.cwd(), f), true],
    [f, join(root, 'link/f.png'), true],
    [f, join(root, 'f-link.png'), true],
    [f, join(root, 'f-hard.png'), true],
    [f, join(root, 'a/g.png'), false],
    [f, join(root, 'a/new.png'), false],
    [join(root, 'a/new.png'), join(root, 'link/new.png'), true],
    [join(root, 'a/new.png'), join(root, 'a/other.png'), false],
    [join(root, 'no/such/dir/x.png'), resolve(root, 'no/such/dir/../dir/x.png'), true],
  ];
  for (const [a, b, expected] of cases) {
    assert.equal(isSameFile(a, b), expected, `${a} vs ${b}`);
    assert.equal(isSameFile(b, a), expected, `${b} vs ${a}`);
  }
});
