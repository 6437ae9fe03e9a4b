import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boneAgeSds,
  GP_REFERENCE,
  referenceSdMonths,
  type BoneAgeReference,
  type ReferenceSdRow,
} from '../../../src/tasks/hand-bone-age/index.js';

// The atlas grid of the Brush Foundation table: quarterly to 1 year, half-yearly to 5 years, then yearly.
const grid = (lastMonths: number): number[] => {
  const ages = [3, 6, 9, 12, 18, 24, 30, 36, 42, 48, 54, 60];
  for (let a = 72; a <= lastMonths; a += 12) ages.push(a);
  return ages;
};

const sdAt = (table: readonly ReferenceSdRow[], ageMonths: number): number => {
  const row = table.find((r) => r.ageMonths === ageMonths);
  assert.ok(row, `no row at ${ageMonths} months`);
  return row.sdMonths;
};

void test('GP table shape: boys 3-204 months (24 rows), girls 3-192 months (23 rows), on the atlas grid', () => {
  assert.deepEqual(GP_REFERENCE.boys.map((r) => r.ageMonths), grid(204));
  assert.deepEqual(GP_REFERENCE.girls.map((r) => r.ageMonths), grid(192));
  for (const table of [GP_REFERENCE.boys, GP_REFERENCE.girls]) {
    for (const r of table) assert.ok(Number.isFinite(r.sdMonths) && r.sdMonths > 0 && r.sdMonths < 20, `SD ${r.sdMonths}`);
    assert.ok(Object.isFrozen(table) && table.every((r) => Object.isFrozen(r)));
  }
  assert.ok(Object.isFrozen(GP_REFERENCE));
});

// Values pinned to the cited transcription (dfnr2/bone-age-app src/data/BrushFoundationData.js):
// the two that the first, from-memory version had wrong, and each table's ends.
const PINNED: readonly [string, 'M' | 'F', number, number][] = [
  ['boys 3 months (was 0.72, the girls value)', 'M', 3, 0.69],
  ['boys 17 years, last row', 'M', 204, 13.05],
  ['boys 4.5 years', 'M', 54, 8.36],
  ['girls 3 months', 'F', 3, 0.72],
  ['girls 5 years', 'F', 60, 11.65],
  ['girls 16 years, last row (the from-memory 17-year row is in no source)', 'F', 192, 7.31],
];
for (const [name, sex, ageMonths, sd] of PINNED) {
  void test(`GP table value: ${name}`, () => {
    assert.equal(sdAt(sex === 'M' ? GP_REFERENCE.boys : GP_REFERENCE.girls, ageMonths), sd);
    assert.equal(referenceSdMonths(ageMonths, sex), sd);
  });
}

void test('GP citation names the atlas and where the numbers were read; the flag is honest', () => {
  assert.match(GP_REFERENCE.citation, /Greulich WW, Pyle SI\. Radiographic Atlas of Skeletal Development of the Hand and Wrist/);
  assert.match(GP_REFERENCE.citation, /Brush Foundation/);
  assert.match(GP_REFERENCE.citation, /dfnr2\/bone-age-app src\/data\/BrushFoundationData\.js/);
  // no printed copy was compared; see the module comment
  assert.equal(GP_REFERENCE.verifiedAgainstSource, false);
});

void test('reference SD: linear between rows, null outside each sex range, never extrapolated', () => {
  const boys = GP_REFERENCE.boys;
  for (let i = 1; i < boys.length; i++) {
    const lo = boys[i - 1] as ReferenceSdRow;
    const hi = boys[i] as ReferenceSdRow;
    const at = lo.ageMonths + 0.25 * (hi.ageMonths - lo.ageMonths);
    const got = referenceSdMonths(at, 'M');
    assert.ok(got !== null && Math.abs(got - (0.75 * lo.sdMonths + 0.25 * hi.sdMonths)) < 1e-12, `at ${at} months`);
  }
  assert.equal(referenceSdMonths(2.9, 'M'), null);
  assert.equal(referenceSdMonths(204.1, 'M'), null);
  assert.equal(referenceSdMonths(198, 'F'), null); // girls table ends at 192
  assert.ok(referenceSdMonths(198, 'M') !== null);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) assert.equal(referenceSdMonths(bad, 'F'), null);
});

void test('SDS = (bone age - chronological age) / interpolated SD, sign gives advanced vs delayed', () => {
  // a boy of 12.5 years: halfway between the 144 and 156 month rows
  const sd = (sdAt(GP_REFERENCE.boys, 144) + sdAt(GP_REFERENCE.boys, 156)) / 2;
  const advanced = boneAgeSds(171, 150, 'M');
  assert.equal(advanced.differenceMonths, 21);
  assert.ok(Math.abs((advanced.referenceSdMonths as number) - sd) < 1e-12);
  assert.ok(Math.abs((advanced.sds as number) - 21 / sd) < 1e-12);
  const delayed = boneAgeSds(100, 120, 'F');
  assert.ok(Math.abs((delayed.sds as number) + 20 / sdAt(GP_REFERENCE.girls, 120)) < 1e-12);
  // the same reading scores differently by sex because the SDs differ
  assert.notEqual(boneAgeSds(100, 120, 'M').sds, delayed.sds);
  // exactly 2 SD above at a tabulated age
  for (const row of GP_REFERENCE.girls) {
    const r = boneAgeSds(row.ageMonths + 2 * row.sdMonths, row.ageMonths, 'F');
    assert.ok(Math.abs((r.sds as number) - 2) < 1e-12, `girls ${row.ageMonths} months`);
  }
  assert.equal(advanced.reference, GP_REFERENCE.name);
  assert.equal(advanced.citation, GP_REFERENCE.citation);
  assert.equal(advanced.referenceVerified, false);
});

void test('SDS outside the table: difference still given, SDS and SD null', () => {
  const girl17 = boneAgeSds(200, 204, 'F');
  assert.equal(girl17.differenceMonths, -4);
  assert.equal(girl17.sds, null);
  assert.equal(girl17.referenceSdMonths, null);
});

void test('SDS against a caller-supplied reference uses that table and its flag', () => {
  const toy: BoneAgeReference = {
    name: 'toy',
    citation: 'toy table for the test',
    verifiedAgainstSource: true,
    boys: [
      { ageMonths: 100, sdMonths: 10 },
      { ageMonths: 200, sdMonths: 20 },
    ],
    girls: [{ ageMonths: 120, sdMonths: 8 }],
  };
  const r = boneAgeSds(180, 150, 'M', toy);
  assert.equal(r.referenceSdMonths, 15);
  assert.equal(r.sds, 2);
  assert.equal(r.reference, 'toy');
  assert.equal(r.referenceVerified, true);
  // a one-row table answers only at its own age
  assert.equal(referenceSdMonths(120, 'F', toy), 8);
  assert.equal(referenceSdMonths(121, 'F', toy), null);
});
