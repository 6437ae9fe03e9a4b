import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRadiographBytes, type Radiograph } from '../../src/radiograph/index.js';
import {
  HAND_BONE_AGE_TASK,
  InputError,
  resolveInputs,
  SexError,
  variantsOf,
  type GivenInputs,
  type InputSpec,
  type ResolvedInput,
} from '../../src/tasks/index.js';
import { writeImage } from '../radiograph/dicom-writer.js';

/** A 2×2 DICOM film whose PatientSex (0010,0040) is `sex` (absent when null). */
function film(sex: string | null): Promise<Radiograph> {
  const extra = sex === null ? [] : [{ tag: 0x00100040, vr: 'CS', value: sex }];
  return readRadiographBytes(
    writeImage({ rows: 2, columns: 2, values: [0, 100, 200, 300], extra }),
    `u16_2x2_sex_${sex ?? 'none'}.dcm`,
  );
}

const SPECS = HAND_BONE_AGE_TASK.inputs;

// command line, then manifest, then DICOM; never a default; a disagreement is said, the higher source wins
const RESOLVE: [string, GivenInputs, string | null, ResolvedInput][] = [
  ['nothing known', {}, null, { value: null, source: 'unknown' }],
  ['DICOM O and empty manifest', { manifest: { sex: '' } }, 'O', { value: null, source: 'unknown' }],
  ['DICOM only', {}, 'F', { value: 'F', source: 'dicom' }],
  ['manifest over DICOM, agreeing', { manifest: { sex: 'M' } }, 'M', { value: 'M', source: 'manifest' }],
  ['manifest spelled out', { manifest: { sex: 'female' } }, null, { value: 'F', source: 'manifest' }],
  [
    'cli over a disagreeing DICOM',
    { cli: { sex: 'F' } },
    'M',
    { value: 'F', source: 'cli', conflict: 'cli says F but dicom says M; using cli' },
  ],
  [
    'cli over a disagreeing manifest',
    { cli: { sex: 'M' }, manifest: { sex: 'F' } },
    null,
    { value: 'M', source: 'cli', conflict: 'cli says M but manifest says F; using cli' },
  ],
];
for (const [name, given, dicomSex, expected] of RESOLVE) {
  void test(`resolveInputs (sex): ${name}`, async () => {
    assert.deepEqual(resolveInputs(SPECS, await film(dicomSex), given), { sex: expected });
  });
}

void test('resolveInputs: a manifest value that is no sex fails with the manifest line named', async () => {
  await assert.rejects(
    (async () => resolveInputs(SPECS, await film(null), { manifest: { sex: 'unknown' } }, 'list.csv:3'))(),
    (e: unknown) =>
      e instanceof SexError && /list\.csv:3 column 'sex' 'unknown' is not a sex/.test(e.message),
  );
});

void test('variantsOf: one variant when the sex is known, one per sex (M, F) when unknown, with the encoded extra input', () => {
  assert.deepEqual(variantsOf(SPECS, { sex: { value: 'F', source: 'cli' } }), [
    { values: { sex: 'F' }, extra: [0] },
  ]);
  assert.deepEqual(variantsOf(SPECS, { sex: { value: null, source: 'unknown' } }), [
    { values: { sex: 'M' }, extra: [1] },
    { values: { sex: 'F' }, extra: [0] },
  ]);
});

void test('variantsOf: an unknown input without a value list is refused (never guessed)', () => {
  const age: InputSpec = {
    name: 'age',
    description: 'chronological age in months',
    parse: (raw) => raw,
    fromRadiograph: () => null,
    encode: (v) => [Number(v)],
  };
  assert.deepEqual(
    variantsOf([...SPECS, age], {
      sex: { value: 'M', source: 'cli' },
      age: { value: '120', source: 'manifest' },
    }),
    [{ values: { sex: 'M', age: '120' }, extra: [1, 120] }],
  );
  assert.throws(
    () => variantsOf([age], { age: { value: null, source: 'unknown' } }),
    (e: unknown) =>
      e instanceof InputError &&
      /the film's age is unknown; give it with --age or a manifest column 'age'/.test(e.message),
  );
});
