import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvField } from '../../src/radiograph/index.js';
import { HAND_BONE_AGE_TASK, kneeBoneAge, registryTrainingTable, skullInfantAge, spineView } from '../../src/tasks/index.js';
import { readBoneAgeLabels } from '../../src/tasks/hand-bone-age/index.js';

const row = (id: number, o: Record<string, string | number | null>): Record<string, string | number | null> => ({
  status: 'stored',
  source_path: `/archive/hand-${id}.png`,
  patient: `P${id % 3}`,
  sex: id % 2 ? 'M' : 'F',
  age_months: 100 + id,
  'hand-bone-age.label': String(90 + id),
  'hand-bone-age.review': null,
  ...o,
});

void test('a registry export becomes a labels file the task reads: corrections kept, rejected and unstored films left out and counted', () => {
  const table = {
    columns: [],
    rows: [
      row(1, {}),
      row(2, { 'hand-bone-age.label': '130', 'hand-bone-age.review': 'corrected' }),
      row(3, { 'hand-bone-age.review': 'rejected', 'hand-bone-age.label': null }),
      row(4, { status: 'quarantined', 'hand-bone-age.label': null }),
      row(5, { 'hand-bone-age.label': null }),
      row(6, { sex: null }),
    ],
  };
  const t = registryTrainingTable(HAND_BONE_AGE_TASK, table);
  assert.deepEqual(t.columns, ['file', 'patient_id', 'boneage_months', 'sex']);
  assert.deepEqual(t.rows.map((r) => r['boneage_months']), ['91', '130']);
  assert.deepEqual(t.leftOut, { 'rejected by a reviewer': 1, 'not stored (quarantined)': 1, 'no hand-bone-age result': 1, 'missing sex': 1 });
  // the hand task's own reader takes the file as written
  const dir = mkdtempSync(join(tmpdir(), 'registry-labels-'));
  const csv = join(dir, 'labels.csv');
  writeFileSync(csv, `${[t.columns.join(','), ...t.rows.map((r) => t.columns.map((c) => csvField(r[c] ?? '')).join(','))].join('\n')}\n`);
  const labels = readBoneAgeLabels(csv);
  assert.deepEqual(labels.map((l) => [l.path, l.sex, l.boneAgeMonths]), [['/archive/hand-1.png', 'M', 91], ['/archive/hand-2.png', 'F', 130]]);
  // the knee's labels take the chronological age from the registry; a task without the mapping is refused
  const knee = registryTrainingTable(kneeBoneAge.KNEE_BONE_AGE_TASK, { columns: [], rows: [{ status: 'stored', source_path: 'k.dcm', patient: 'P', sex: 'F', age_months: 120, 'knee-bone-age.label': '118', 'knee-bone-age.review': null }] });
  assert.deepEqual(knee.rows, [{ file: 'k.dcm', patient_id: 'P', bone_age_months: '118', sex: 'F', chronological_age_months: '120' }]);
  assert.throws(() => registryTrainingTable(skullInfantAge.SKULL_INFANT_AGE_TASK, table), /cannot be exported for training/);
  // the spine registry: the class, grouped by the patient's pseudonym under the column its reader groups by
  const spine = registryTrainingTable(spineView.SPINE_VIEW_TASK, { columns: [], rows: [{ status: 'stored', source_path: 's.png', patient: 'Q', 'spine-view.label': 'ap_postop_fusion', 'spine-view.review': 'accepted' }] });
  assert.deepEqual(spine.rows, [{ file: 's.png', patient_key: 'Q', class: 'ap_postop_fusion' }]);
});
