import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelsError, parseCsv, parseCsvTable } from '../../src/tasks/index.js';

void test('parseCsv handles quotes, escaped quotes, CRLF, BOM and blank lines', () => {
  const text = '\ufeffa,b\r\n"x, y","say ""hi"""\r\n\r\nplain,\n';
  assert.deepEqual(parseCsv(text, 't.csv'), [
    { line: 1, fields: ['a', 'b'] },
    { line: 2, fields: ['x, y', 'say "hi"'] },
    { line: 4, fields: ['plain', ''] },
  ]);
  assert.deepEqual(parseCsv('a\nb', 't.csv'), [
    { line: 1, fields: ['a'] },
    { line: 2, fields: ['b'] },
  ]);
});

void test('parseCsv reports unterminated quotes with the line', () => {
  assert.throws(() => parseCsv('a\n"oops,\n', 'bad.csv'), (e: unknown) => e instanceof LabelsError && /bad.csv:2: unterminated/.test(e.message));
});

void test('parseCsvTable names missing columns and ragged rows', () => {
  assert.throws(() => parseCsvTable('file,sex\nx,M\n', 'l.csv', ['file', 'boneage_months']), /l.csv:1: missing column\(s\) boneage_months/);
  assert.throws(() => parseCsvTable('file,sex\nx,M,extra\n', 'l.csv', ['file']), /l.csv:2: 3 fields, the header has 2/);
  assert.throws(() => parseCsvTable('', 'e.csv', ['file']), /e.csv: empty file/);
});
