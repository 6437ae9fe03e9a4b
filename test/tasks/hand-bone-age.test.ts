import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK, LabelsError, SexError } from '../../src/tasks/index.js';
import {
  boneAgeSds,
  GP_REFERENCE,
  parseBoneAgeLabels,
  parseSex,
  readBoneAgeLabels,
  referenceSdMonths,
  requireSex,
  sexInput,
} from '../../src/tasks/hand-bone-age/index.js';

const RSNA = resolve('../shared/data/rsna-hand/labels.csv');

void test('labels: the RSNA column order with extra columns parses, paths are relative to the CSV', () => {
  const rows = parseBoneAgeLabels(
    'file,rsna_id,boneage_months,sex,split\nimages/1.png,1,180,F,train\nimages/2.png,2,57.5,m,dev\n',
    '/data/hand/labels.csv',
  );
  assert.deepEqual(rows[0], {
    file: 'images/1.png',
    path: '/data/hand/images/1.png',
    sex: 'F',
    boneAgeMonths: 180,
    split: 'train',
    line: 2,
  });
  assert.equal(rows[1]?.sex, 'M');
  assert.equal(rows[1]?.boneAgeMonths, 57.5);
  assert.deepEqual(
    rows.filter((r) => r.split === 'dev').map((r) => r.file),
    ['images/2.png'],
  );
  const noSplit = parseBoneAgeLabels('file,sex,boneage_months\na.png,F,12\n', '/x/l.csv');
  assert.equal(noSplit[0]?.split, undefined);
});

const BAD_LABELS: [string, string, RegExp][] = [
  ['an unknown sex', 'file,sex,boneage_months\na.png,X,12\n', /l.csv:2: sex 'X' must be M or F/],
  [
    'an empty sex (never defaulted)',
    'file,sex,boneage_months\na.png,,12\n',
    /l.csv:2: sex '' must be M or F/,
  ],
  [
    'a bone age in years by mistake beyond range',
    'file,sex,boneage_months\na.png,F,300\n',
    /boneage_months '300'/,
  ],
  ['a non-numeric bone age', 'file,sex,boneage_months\na.png,F,ten\n', /boneage_months 'ten'/],
  [
    'a duplicate file',
    'file,sex,boneage_months\na.png,F,1\nb.png,M,2\na.png,F,3\n',
    /l.csv:4: file 'a.png' is listed again \(first on line 2\)/,
  ],
  ['no rows', 'file,sex,boneage_months\n', /no labelled rows/],
  ['a missing column', 'file,sex\na.png,F\n', /missing column\(s\) boneage_months/],
];
// the CSV's own structure (header, quoting, field counts) is checked by the one CSV reader; its CsvError reaches
// the caller as a LabelsError like every other labels problem
for (const [name, text, message] of BAD_LABELS) {
  void test(`labels: ${name} is a LabelsError naming file and line`, () => {
    assert.throws(
      () => parseBoneAgeLabels(text, '/x/l.csv'),
      (e: unknown) => e instanceof LabelsError && message.test(e.message),
    );
  });
}

void test('sex parsing is strict and --sex never accepts other values', () => {
  assert.equal(parseSex(' Female '), 'F');
  assert.equal(parseSex('m'), 'M');
  assert.equal(parseSex('O'), null);
  assert.equal(parseSex(undefined), null);
  assert.equal(requireSex('f', '--sex'), 'F');
  assert.throws(
    () => requireSex('x', '--sex'),
    (e: unknown) => e instanceof SexError && /--sex 'x'/.test(e.message),
  );
});

// The task's sex input (--sex, a manifest's sex column): parsed strictly; empty and O are unknown (DICOM PS3.3
// C.7.1.1), never a default; anything else fails that film with a SexError naming where the value came from.
const SEX = HAND_BONE_AGE_TASK.inputs.find((i) => i.name === 'sex');
const SEX_VALUES: [string, string | null][] = [
  ['M', 'M'],
  [' female ', 'F'],
  ['', null],
  ['O', null],
  ['o', null],
];
for (const [raw, expected] of SEX_VALUES) {
  void test(`sex input: '${raw}' is ${expected ?? 'unknown'}`, () =>
    assert.equal(SEX?.parse(raw, 'list.csv:2 column sex'), expected));
}

void test('sex input: any other value is a SexError naming where it came from; M and F are encoded 1 and 0', () => {
  assert.ok(SEX);
  assert.deepEqual(SEX.values, ['M', 'F']);
  assert.throws(
    () => SEX.parse('unknown', 'list.csv:4 column sex'),
    (e: unknown) => e instanceof SexError && /list\.csv:4 column sex 'unknown' is not a sex/.test(e.message),
  );
  assert.deepEqual(SEX.encode('M'), [1]);
  assert.deepEqual(SEX.encode('F'), [0]);
});

void test('reference SD: tabulated ages exact, interpolation between, null outside the table', () => {
  const boys = GP_REFERENCE.boys;
  const row = boys[10];
  assert.ok(row);
  assert.equal(referenceSdMonths(row.ageMonths, 'M'), row.sdMonths);
  const a = GP_REFERENCE.girls[12];
  const b = GP_REFERENCE.girls[13];
  assert.ok(a && b);
  const mid = (a.ageMonths + b.ageMonths) / 2;
  assert.ok(Math.abs((referenceSdMonths(mid, 'F') as number) - (a.sdMonths + b.sdMonths) / 2) < 1e-12);
  assert.equal(referenceSdMonths(1, 'F'), null);
  assert.equal(referenceSdMonths(240, 'M'), null);
  // the table is monotone in age and SDs are positive
  for (const t of [GP_REFERENCE.boys, GP_REFERENCE.girls]) {
    for (let i = 1; i < t.length; i++) assert.ok((t[i]?.ageMonths ?? 0) > (t[i - 1]?.ageMonths ?? 0));
    assert.ok(t.every((r) => r.sdMonths > 0));
  }
});

void test('SDS = (bone age - chronological age) / reference SD, with the source cited', () => {
  const row = GP_REFERENCE.girls[15];
  assert.ok(row);
  const r = boneAgeSds(row.ageMonths + 2 * row.sdMonths, row.ageMonths, 'F');
  assert.ok(Math.abs((r.sds as number) - 2) < 1e-12);
  assert.ok(Math.abs(r.differenceMonths - 2 * row.sdMonths) < 1e-9);
  assert.match(r.citation, /Greulich WW, Pyle SI/);
  assert.equal(r.referenceVerified, GP_REFERENCE.verifiedAgainstSource);
  const outside = boneAgeSds(30, 230, 'M');
  assert.equal(outside.sds, null);
  assert.equal(outside.differenceMonths, -200);
});

void test('the default recipe is data: half-width resnet18 at 128 px, films squashed via 100 px, 1 channel, sex as one extra input and one head per sex, no flips', () => {
  const r = HAND_BONE_AGE_RECIPE;
  assert.equal(r.arch, 'resnet18_w32');
  assert.equal(r.inputSize, 128);
  assert.deepEqual(r.preprocessing, { fit: 'stretch', stretchVia: 100, stretchFilter: 'nearest', crop: false });
  assert.equal(r.augmentation.flipLeftRightProbability, 0);
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  assert.ok(Object.isFrozen(r));
  assert.equal(HAND_BONE_AGE_TASK.recipe, r);
  const m = HAND_BONE_AGE_TASK.modelOptions(r);
  assert.equal(m.inChannels, 1);
  assert.equal(m.extraInputs, 1);
  assert.deepEqual(m.head, { kind: 'regression', outputs: 1, relu: true, groupedBy: { extraIndex: 0, groups: 2 } });
  assert.deepEqual(HAND_BONE_AGE_TASK.selection, { metric: 'devMaeMonths', mode: 'min' });
  assert.equal(sexInput('M'), 1);
  assert.equal(sexInput('F'), 0);
});

void test(
  'the shared RSNA labels parse: 846 train and 177 dev rows',
  { skip: existsSync(RSNA) ? false : `no ${RSNA} (../shared absent)` },
  () => {
    const rows = readBoneAgeLabels(RSNA);
    assert.equal(rows.filter((r) => r.split === 'train').length, 846);
    assert.equal(rows.filter((r) => r.split === 'dev').length, 177);
    assert.ok(rows.every((r) => r.boneAgeMonths >= 12 && r.boneAgeMonths <= 228));
    assert.ok(existsSync(join(RSNA, '..', rows[0]?.file ?? '')));
    const items = HAND_BONE_AGE_TASK.readLabels(RSNA);
    assert.equal(items.filter((i) => HAND_BONE_AGE_TASK.splitOf(i) === 'dev').length, 177);
    const first = items[0];
    assert.ok(first);
    assert.deepEqual(
      [first.id, first.path, HAND_BONE_AGE_TASK.inputValue(first, 'sex')],
      [rows[0]?.file, rows[0]?.path, rows[0]?.sex],
    );
  },
);
