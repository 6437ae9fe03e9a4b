import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabelsError, readManifest } from '../../src/tasks/index.js';

function withManifest(text: string, f: (csv: string, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'physis-manifest-'));
  try {
    const csv = join(dir, 'list.csv');
    writeFileSync(csv, text);
    f(csv, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('manifest: files relative to the CSV, input columns kept raw (empty and O stay as written; the input parses them per film)', () =>
  withManifest('file,sex\na.dcm,\nb.png,F\nc.dcm,O\n/abs/d.png,unknown\n', (csv, dir) => {
    const m = readManifest(csv);
    assert.deepEqual(
      m.map((e) => [e.file, e.path, e.columns, e.source]),
      [
        ['a.dcm', join(dir, 'a.dcm'), { sex: '' }, `${csv}:2`],
        ['b.png', join(dir, 'b.png'), { sex: 'F' }, `${csv}:3`],
        ['c.dcm', join(dir, 'c.dcm'), { sex: 'O' }, `${csv}:4`],
        ['/abs/d.png', '/abs/d.png', { sex: 'unknown' }, `${csv}:5`],
      ],
    );
  }));

void test('manifest: sex optional', () =>
  withManifest('file\nx.png\n', (csv) => assert.deepEqual(readManifest(csv)[0]?.columns, {})));

const BAD: [string, string, RegExp][] = [
  [
    'a duplicate file',
    'file\na.png\nb.png\na.png\n',
    /list\.csv:4: file 'a\.png' is listed again \(first on line 2\)/,
  ],
  ['an empty file name', 'file,sex\n,F\n', /list\.csv:2: empty 'file'/],
];
for (const [name, text, message] of BAD) {
  void test(`manifest: ${name} is a LabelsError naming file and line`, () =>
    withManifest(text, (csv) =>
      assert.throws(
        () => readManifest(csv),
        (e: unknown) => e instanceof LabelsError && message.test(e.message),
      ),
    ));
}

void test('manifest: an unreadable file is a LabelsError', () => {
  assert.throws(
    () => readManifest('/nonexistent/list.csv'),
    (e: unknown) =>
      e instanceof LabelsError && /\/nonexistent\/list\.csv: cannot read the manifest/.test(e.message),
  );
});

void test('manifest: a CSV without a file column is a LabelsError', () =>
  withManifest('path,sex\na.png,F\n', (csv) =>
    assert.throws(
      () => readManifest(csv),
      (e: unknown) => e instanceof LabelsError && /list\.csv:1: missing column\(s\) file/.test(e.message),
    ),
  ));
