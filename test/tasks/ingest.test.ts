/**
 * Ingestion's pure parts: what the registry keeps of a DICOM header (PS3.15 Annex E: keyed pseudonym, remapped UIDs,
 * dates shifted per patient, only sex and age of the patient) on the DICOM corpus, and how an answer becomes a
 * prediction's label, confidence and probabilities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseDicomDataSet, readRadiographBytes, remapUid } from '../../src/radiograph/index.js';
import { deidentifiedInstance, predictionFields, pseudonymOf, shiftedDate } from '../../src/tasks/index.js';

const DICOM = resolve('../shared/data/dicom');
const KEY = 'ingest-unit-key-0123456789abcdef';

void test('shiftedDate: 1–365 days back, the same for one patient under one key, another under another key', () => {
  const d = new Date('2020-03-01T00:00:00Z');
  const days = (iso: string): number => Math.round((d.getTime() - new Date(`${iso}T00:00:00Z`).getTime()) / 86_400_000);
  const a = shiftedDate(d, 'patient-1', KEY);
  assert.equal(shiftedDate(d, 'patient-1', KEY), a);
  assert.ok(days(a) >= 1 && days(a) <= 365, a);
  const shifts = new Set(Array.from({ length: 20 }, (_, i) => days(shiftedDate(d, `patient-${i}`, KEY))));
  assert.ok(shifts.size > 10, 'patients get different shifts');
  assert.notEqual(pseudonymOf('patient-1', KEY), pseudonymOf('patient-1', `${KEY}x`));
  assert.match(pseudonymOf('patient-1', KEY), /^P[0-9a-f]{24}$/);
});

void test(
  'deidentifiedInstance: the corpus headers leave no name, id, birth date, accession number or original UID; UIDs are remapped as deidentifyDicom remaps them',
  existsSync(DICOM) ? {} : { skip: `../shared/data/dicom absent (${DICOM})` },
  async () => {
    let films = 0;
    for (const f of readdirSync(DICOM).sort()) {
      const bytes = new Uint8Array(readFileSync(join(DICOM, f)));
      let r;
      try {
        r = await readRadiographBytes(bytes, f);
      } catch {
        continue; // unreadable files are quarantined before any metadata is kept
      }
      films++;
      const ds = parseDicomDataSet(bytes, f);
      const m = deidentifiedInstance(r, bytes, {}, KEY);
      const kept = JSON.stringify(m);
      for (const tag of ['x00100010', 'x00100020', 'x00100030', 'x00080050', 'x00080080', 'x00080090', 'x00080020', 'x00080022']) {
        const v = ds.string(tag)?.trim() ?? '';
        if (v.length >= 4) assert.ok(!kept.includes(v), `${f}: ${tag} kept`);
      }
      const uid = ds.string('x00080018')?.trim();
      assert.equal(m.sopInstanceUid, uid ? remapUid(uid, KEY) : null, f);
      const id = ds.string('x00100020')?.trim();
      assert.equal(m.patientPseudonym, id ? pseudonymOf(id, KEY) : null, f);
      if (m.acquisitionDateShifted != null) {
        assert.match(m.acquisitionDateShifted, /^\d{4}-\d{2}-\d{2}$/);
        assert.notEqual(m.acquisitionDateShifted, r.metadata.studyDate, `${f}: the date is shifted`);
      }
      assert.deepEqual(Object.keys(m).sort(), ['acquisitionDateShifted', 'ageMonths', 'bodyPart', 'laterality', 'modality', 'patientPseudonym', 'seriesInstanceUid', 'sex', 'sopInstanceUid', 'studyInstanceUid', 'view']);
    }
    assert.ok(films >= 20, `corpus films read (${films})`);
  },
);

const CASES: [string, Record<string, unknown>, ReturnType<typeof predictionFields>][] = [
  ['estimate_with_interval', { boneAgeMonths: 122.37, interval90: { lowMonths: 100, highMonths: 140 }, sex: 'M' }, { label: '122.4', confidence: null, probabilities: { lowMonths: 100, highMonths: 140 } }],
  [
    'estimate_unknown_input',
    { boneAgeMonthsBySex: { M: 60, F: 50 }, interval90BySex: { M: { lowMonths: 1, highMonths: 2 }, F: { lowMonths: 3, highMonths: 4 } }, sex: null },
    { label: null, confidence: null, probabilities: { M: { lowMonths: 1, highMonths: 2 }, F: { lowMonths: 3, highMonths: 4 } } },
  ],
  ['class_with_probability', { ageMonths: 3.2, ageClass: 3, ageClassProbability: 0.62, classProbabilities: [0.1, 0.28, 0.62] }, { label: '3', confidence: 0.62, probabilities: [0.1, 0.28, 0.62] }],
  [
    'class_decided',
    { decision: 'class', class: 'AP', mostLikely: 'AP', probability: 0.97, probabilities: { AP: 0.97, LAT: 0.03 }, rejectThreshold: 0.8 },
    { label: 'AP', confidence: 0.97, probabilities: { AP: 0.97, LAT: 0.03 } },
  ],
  [
    'class_left_to_review',
    { decision: 'human review', class: null, mostLikely: 'LAT', probability: 0.55, probabilities: { AP: 0.45, LAT: 0.55 }, rejectThreshold: 0.8 },
    { label: 'LAT', confidence: 0.55, probabilities: { AP: 0.45, LAT: 0.55 } },
  ],
  ['text_first', { simulatedTraining: 'phantoms', boneAgeMonths: 80 }, { label: '80', confidence: null, probabilities: null }],
];

void test('predictionFields: label, confidence and probabilities of each kind of answer', () => {
  for (const [name, answer, expected] of CASES) assert.deepEqual(predictionFields(answer), expected, name);
});
