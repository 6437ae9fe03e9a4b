import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvError, MetadataError, readMetadataCsv } from '../../src/radiograph/index.js';

function csv(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'physis-csv-')), 'labels.csv');
  writeFileSync(path, text);
  return path;
}

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

void test('the metadata CSV reader is the one CSV reader: BOM, quoted file names, CRLF, empty rows', () => {
  const m = readMetadataCsv(csv('\ufeffFile,Sex\r\n"a, b.png",F\r\n,\r\n\r\nc.png,M\r\n'));
  assert.deepEqual([...m.keys()], ['a, b.png', 'c.png']);
  assert.deepEqual(m.get('a, b.png'), { patientSex: 'F' });
});

void test('errors name the true line after blank lines and multi-line quoted fields', () => {
  assert.throws(
    () => readMetadataCsv(csv('file,note,sex\n\n1.png,"two\nlines",M\n2.png,,X\n')),
    (e: unknown) => e instanceof MetadataError && /labels\.csv:5: patientSex 'X'/.test(e.message),
  );
});

void test('a CSV that breaks RFC 4180 is a MetadataError naming the line, caused by a CsvError', () => {
  assert.throws(
    () => readMetadataCsv(csv('file,sex\n1.png,M\n"2.png,F\n')),
    (e: unknown) =>
      e instanceof MetadataError &&
      e.cause instanceof CsvError &&
      /labels\.csv:3: unterminated quoted field/.test(e.message),
  );
});
