import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readResultObject, reportContentOf, sourceStudyOf, writeStructuredReport, COMPREHENSIVE_SR_SOP_CLASS_UID } from '../../src/pacs/index.js';
import { getTask } from '../../src/tasks/index.js';
import { RESULT_CASES, HAND_ANSWERED, SPINE_ANSWERED } from './results.js';
import { RAMP_64X48, rampFilmBytes } from './source-film.js';
import { dciodvfyErrors, dsrdump } from './validators.js';

for (const { name, result } of RESULT_CASES) {
  void test(`SR of ${name}: same study, new series, references the film, dciodvfy and dsrdump without errors`, async (t) => {
    const film = await rampFilmBytes();
    const source = sourceStudyOf(film);
    const content = reportContentOf(getTask(result.task), result);
    const bytes = await writeStructuredReport({ source, ...content });
    const read = readResultObject(bytes, name);
    assert.ok(read !== null && read.kind === 'structured-report');
    assert.equal(read.sopClassUid, COMPREHENSIVE_SR_SOP_CLASS_UID);
    assert.equal(read.studyInstanceUid, RAMP_64X48.studyInstanceUid);
    assert.notEqual(read.seriesInstanceUid, RAMP_64X48.seriesInstanceUid);
    assert.notEqual(read.sopInstanceUid, RAMP_64X48.sopInstanceUid);
    assert.deepEqual(read.sources, [{ sopClassUid: source.sopClassUid, sopInstanceUid: RAMP_64X48.sopInstanceUid }]);
    assert.equal(read.title.value, '126000');
    assert.equal(read.completionFlag, 'COMPLETE');
    assert.equal(read.verificationFlag, 'UNVERIFIED');
    assert.equal(read.manufacturer, 'Physis');
    // what was written reads back: findings (values, units, intervals, qualifiers), algorithm, gate, refusal
    assert.equal(read.task, result.task);
    assert.deepEqual(read.findings, content.findings);
    assert.deepEqual(read.algorithm, content.algorithm);
    assert.deepEqual(read.gate, content.gate);
    assert.equal(read.refusal, content.refusal ?? null);
    const v = dciodvfyErrors(bytes);
    if (v === null) t.diagnostic('dciodvfy not installed (Debian dicom3tools): IOD check skipped');
    else assert.deepEqual(v.errors, [], v.all.join('\n'));
    const d = dsrdump(bytes);
    if (d === null) t.diagnostic('dsrdump not installed (Debian dcmtk): SR check skipped');
    else {
      assert.deepEqual(d.errors, [], d.text);
      assert.match(d.text, /Imaging Measurement Report/);
      assert.match(d.text, /Algorithm Name/);
    }
  });
}

void test('hand SR with sex unknown: one bone age per sex, each qualified by the assumed sex, with its 90% interval in months', async () => {
  const content = reportContentOf(getTask('hand-bone-age'), HAND_ANSWERED);
  assert.equal(content.findings.length, 2);
  const [male, female] = content.findings;
  assert.ok(male?.kind === 'numeric' && female?.kind === 'numeric');
  assert.equal(male.value, 15.612345678);
  assert.deepEqual(male.unit, { value: 'mo', scheme: 'UCUM', meaning: 'month' });
  assert.deepEqual(male.interval90, { lower: 0.5, upper: 30.8 });
  assert.deepEqual(male.qualifiers?.[0]?.value, { value: 'M', scheme: 'DCM', meaning: 'Male' });
  assert.deepEqual(female.qualifiers?.[0]?.value, { value: 'F', scheme: 'DCM', meaning: 'Female' });
  assert.equal(content.gate?.passed, true);
});

void test('spine SR: the category as a code with its probability; a gate refusal says why there is no answer', async () => {
  const answered = reportContentOf(getTask('spine-view'), SPINE_ANSWERED);
  assert.deepEqual(answered.findings.map((f) => (f.kind === 'coded' ? [f.value.value, f.probability] : null)), [['lateral_postop_3', 0.9731]]);
  const refused = reportContentOf(getTask('spine-view'), RESULT_CASES[3]?.result ?? SPINE_ANSWERED);
  assert.equal(refused.gate?.passed, false);
  assert.match(refused.refusal ?? '', /not an AP or lateral spine radiograph/);
});

void test('the source film reader keeps patient and study as written', async () => {
  const s = sourceStudyOf(await rampFilmBytes());
  assert.equal(s.patientId, RAMP_64X48.patientId);
  assert.equal(s.patientBirthDate, RAMP_64X48.birthDate);
  assert.equal(s.studyDate, RAMP_64X48.studyDate);
  assert.equal(s.seriesInstanceUid, RAMP_64X48.seriesInstanceUid);
  assert.deepEqual(s.patientOrientation, ['R', 'F']);
});
