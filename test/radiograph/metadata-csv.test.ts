import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetadataError, parseCsv, readMetadataCsv } from '../../src/radiograph/index.js';

function csv(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'physis-csv-')), 'labels.csv');
  writeFileSync(path, text);
  return path;
}

void test('parseCsv handles quotes, doubled quotes and CRLF', () => {
  assert.deepEqual(parseCsv('a,b\r\n"x, y","say ""hi"""\r\n'), [
    ['a', 'b'],
    ['x, y', 'say "hi"'],
  ]);
});

void test('maps clinical columns and ignores label columns such as boneage_months', () => {
  const m = readMetadataCsv(
    csv(
      'file,rsna_id,boneage_months,sex,age_months,laterality,spacing_mm\n1.png,1,120,M,118.5,L,0.1\n2.png,2,60,F,,R,\n',
    ),
  );
  assert.deepEqual(m.get('1.png'), {
    patientSex: 'M',
    ageMonths: 118.5,
    laterality: 'L',
    pixelSpacingMm: [0.1, 0.1],
  });
  assert.deepEqual(m.get('2.png'), { patientSex: 'F', laterality: 'R' });
});

void test('a bad value is a MetadataError naming the CSV line', () => {
  assert.throws(
    () => readMetadataCsv(csv('file,sex\n1.png,M\n2.png,X\n')),
    (e: unknown) => e instanceof MetadataError && /labels\.csv:3: patientSex 'X'/.test(e.message),
  );
});

void test('a CSV without a file column is refused', () => {
  assert.throws(() => readMetadataCsv(csv('id,sex\n1,M\n')), /no file column/);
});
