import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DAYS_PER_MONTH,
  ageMonthsBetween,
  parseAgeString,
  parseDicomDate,
  readRadiographBytes,
} from '../../src/radiograph/index.js';
import { writeImage, type El } from './dicom-writer.js';

const DATE_CASES: [string, string | null][] = [
  ['20190315', '2019-03-15'],
  ['2019.03.15', '2019-03-15'],
  ['20190230', null], // not a calendar date
  ['2019031', null],
  ['', null],
];
for (const [input, expected] of DATE_CASES) {
  void test(`parseDicomDate('${input}') -> ${expected}`, () => assert.equal(parseDicomDate(input), expected));
}

const AGE_CASES: [string, number | null][] = [
  ['010Y', 120],
  ['018M', 18],
  ['004W', (28 / 365.2425) * 12],
  ['030D', 30 / DAYS_PER_MONTH],
  ['10 Y', 120],
  ['1.5Y', null],
  ['', null],
];
for (const [input, expected] of AGE_CASES) {
  void test(`parseAgeString('${input}') -> ${expected}`, () => {
    const got = parseAgeString(input);
    if (expected === null) assert.equal(got, null);
    else assert.ok(got !== null && Math.abs(got - expected) < 1e-9, `got ${got}`);
  });
}

void test('ageMonthsBetween counts days over 365.2425/12', () => {
  assert.ok(Math.abs((ageMonthsBetween('2010-01-01', '2020-01-01') ?? 0) - 3652 / DAYS_PER_MONTH) < 1e-9);
  assert.equal(ageMonthsBetween('2020-01-02', '2020-01-01'), null);
});

function withMetadata(extra: El[]): Promise<Awaited<ReturnType<typeof readRadiographBytes>>> {
  return readRadiographBytes(writeImage({ rows: 1, columns: 1, values: [0], extra }), 'meta.dcm');
}

void test('typed metadata: modality, body part, view, laterality, sex, dates, age from dates, UIDs', async () => {
  const r = await withMetadata([
    { tag: 0x00080060, vr: 'CS', value: 'DX' },
    { tag: 0x00180015, vr: 'CS', value: 'HAND' },
    { tag: 0x00185101, vr: 'CS', value: 'PA' },
    { tag: 0x00200062, vr: 'CS', value: 'R' },
    { tag: 0x00200060, vr: 'CS', value: 'L' },
    { tag: 0x00100040, vr: 'CS', value: 'F' },
    { tag: 0x00100030, vr: 'DA', value: '20100101' },
    { tag: 0x00080020, vr: 'DA', value: '20200101' },
    { tag: 0x00101010, vr: 'AS', value: '010Y' },
    { tag: 0x0020000d, vr: 'UI', value: '1.2.3' },
    { tag: 0x0020000e, vr: 'UI', value: '1.2.3.4' },
  ]);
  const m = r.metadata;
  assert.equal(m.modality, 'DX');
  assert.equal(m.bodyPartExamined, 'HAND');
  assert.equal(m.viewPosition, 'PA');
  assert.equal(m.laterality, 'R'); // ImageLaterality wins over series Laterality
  assert.equal(m.lateralitySource, 'ImageLaterality');
  assert.equal(m.patientSex, 'F');
  assert.equal(m.patientBirthDate, '2010-01-01');
  assert.equal(m.studyDate, '2020-01-01');
  assert.equal(m.age?.source, 'dates');
  assert.ok(Math.abs((m.age?.ageMonths ?? 0) - 3652 / DAYS_PER_MONTH) < 1e-9);
  assert.equal(m.studyInstanceUid, '1.2.3');
  assert.equal(m.seriesInstanceUid, '1.2.3.4');
});

void test('age falls back to PatientAge when dates are missing', async () => {
  const r = await withMetadata([{ tag: 0x00101010, vr: 'AS', value: '018M' }]);
  assert.deepEqual(r.metadata.age, { ageMonths: 18, source: 'PatientAge' });
});

const IMPLAUSIBLE_AGE_CASES: { name: string; elements: El[] }[] = [
  { name: 'PatientAge_999Y', elements: [{ tag: 0x00101010, vr: 'AS', value: '999Y' }] },
  {
    name: 'study_before_birth',
    elements: [
      { tag: 0x00100030, vr: 'DA', value: '20200101' },
      { tag: 0x00080020, vr: 'DA', value: '20100101' },
    ],
  },
];
for (const c of IMPLAUSIBLE_AGE_CASES) {
  void test(`an implausible age is not used and warns: ${c.name}`, async () => {
    const r = await withMetadata(c.elements);
    assert.equal(r.metadata.age, null);
    assert.ok(r.warnings.some((w) => w.includes('implausible')), r.warnings.join('; '));
  });
}

const SPACING_CASES: { name: string; extra: El[]; expected: unknown; warns: boolean }[] = [
  {
    name: 'PixelSpacing_only',
    extra: [{ tag: 0x00280030, vr: 'DS', value: '0.1\\0.2' }],
    expected: { rowMm: 0.1, columnMm: 0.2, source: 'PixelSpacing' },
    warns: false,
  },
  {
    name: 'ImagerPixelSpacing_only_is_labelled_as_such',
    extra: [{ tag: 0x00181164, vr: 'DS', value: '0.15\\0.15' }],
    expected: { rowMm: 0.15, columnMm: 0.15, source: 'ImagerPixelSpacing' },
    warns: true,
  },
  {
    name: 'both_prefers_PixelSpacing',
    extra: [
      { tag: 0x00280030, vr: 'DS', value: '0.14\\0.14' },
      { tag: 0x00181164, vr: 'DS', value: '0.15\\0.15' },
    ],
    expected: { rowMm: 0.14, columnMm: 0.14, source: 'PixelSpacing' },
    warns: false,
  },
  {
    name: 'malformed_single_value',
    extra: [{ tag: 0x00280030, vr: 'DS', value: '0.1' }],
    expected: null,
    warns: false,
  },
];
for (const { name, extra, expected, warns } of SPACING_CASES) {
  void test(`pixel spacing: ${name}`, async () => {
    const r = await withMetadata(extra);
    assert.deepEqual(r.metadata.spacing, expected);
    assert.equal(
      r.warnings.some((w) => /ImagerPixelSpacing/.test(w)),
      warns,
    );
  });
}

void test('strings honour SpecificCharacterSet (ISO_IR 100 -> latin1) and drop control characters', async () => {
  const r = await withMetadata([
    { tag: 0x00080005, vr: 'CS', value: 'ISO_IR 100' },
    { tag: 0x00080070, vr: 'LO', value: 'Sch\xf6n\x07\x1b[31m Med\x9b' },
  ]);
  assert.equal(r.metadata.manufacturer, 'Schön[31m Med');
});
