import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputRefusal, kneeBoneAge, LabelsError, type ResolvedInput } from '../../../src/tasks/index.js';

const { KNEE_BONE_AGE_TASK: TASK, parseKneeLabels, AGE_INPUT, kneeExtraInputs } = kneeBoneAge;

const HEADER = 'file,patient_id,sex,chronological_age_months,bone_age_months,label_source,reading_months,pseudo_months,pseudo_by,laterality,split,simulated';
const SHA = 'a'.repeat(64);

void test('knee labels: required columns, sources, the teacher as id@sha256, strict values', () => {
  const rows = parseKneeLabels(
    `${HEADER}\nknees/a.dcm,P1,F,120.5,131,reading,131,128.2,hand-x@${SHA},R,train,1\nknees/b.png,P1,F,121,128.2,pseudo,,128.2,hand-x@${SHA},L,dev,1\n`,
    '/data/knee-labels.csv',
  );
  assert.equal(rows.length, 2);
  assert.equal(rows[0]?.path, '/data/knees/a.dcm');
  assert.equal(rows[0]?.labelSource, 'reading');
  assert.equal(rows[0]?.laterality, 'R');
  assert.deepEqual(rows[1]?.pseudoBy, { id: 'hand-x', weightsSha256: SHA });
  assert.equal(rows[1]?.readingMonths, undefined);
  const bad = (line: string, re: RegExp): void => assert.throws(() => parseKneeLabels(`${HEADER}\n${line}\n`, 'x.csv'), (e: unknown) => e instanceof LabelsError && re.test(e.message));
  bad('a.png,P,F,300,120,reading,,,,L,train,0', /chronological_age_months '300' must be a number of months in \[0, 216\]/);
  bad('a.png,P,X,100,120,reading,,,,L,train,0', /sex 'X'/);
  bad('a.png,P,F,100,120,teacher,,,,L,train,0', /label_source 'teacher'/);
  bad('a.png,P,F,100,120,pseudo,,120,hand-x,L,train,0', /pseudo_by 'hand-x' must be <model id>@<weights sha256>/);
  bad('a.png,P,F,100,,reading,,,,L,train,0', /bone_age_months ''/);
  assert.throws(() => parseKneeLabels('file,sex,bone_age_months\na.png,F,10\n', 'y.csv'), /chronological_age_months/);
});

void test('chronological age: required, never defaulted, refused beyond 18 years, encoded with sex as the network takes it', () => {
  assert.equal(AGE_INPUT.parse(' 130 ', 'cli'), '130');
  assert.equal(AGE_INPUT.parse('', 'cli'), null);
  assert.throws(() => AGE_INPUT.parse('ten', 'manifest column'), /is not a chronological age in months/);
  assert.throws(() => AGE_INPUT.parse('5000', 'cli'), /0–1200/);
  assert.equal(AGE_INPUT.refusal?.('216'), null);
  assert.match(AGE_INPUT.refusal?.('600') ?? '', /600 months \(50\.0 y\) is beyond the knee model's range of 0–216 months/);
  const inputs = (sex: string | null, age: string | null): Record<string, ResolvedInput> => ({
    sex: { value: sex, source: sex === null ? 'unknown' : 'cli' },
    'age-months': { value: age, source: age === null ? 'unknown' : 'dicom' },
  });
  assert.equal(inputRefusal(TASK.inputs, inputs('F', '120')), null);
  assert.equal(inputRefusal(TASK.inputs, inputs(null, '120')), null, 'unknown sex gives both answers');
  assert.match(inputRefusal(TASK.inputs, inputs('F', null)) ?? '', /the film's age-months is unknown/);
  assert.match(inputRefusal(TASK.inputs, inputs('M', '300')) ?? '', /beyond the knee model's range/);
  assert.deepEqual(kneeExtraInputs('M', 150), [1, 1.5]);
  assert.deepEqual(kneeExtraInputs('F', 0), [0, 0]);
});

void test('evaluation and the report score the bone age against the label, the readings, the pseudo-labels and the chronological age', () => {
  const items = parseKneeLabels(
    `${HEADER}\na.png,P1,F,100,110,reading,110,112,hand-x@${SHA},L,dev,1\nb.png,P2,M,150,140,reading,140,,,R,dev,1\nc.png,P3,M,60,66,pseudo,,66,hand-x@${SHA},L,dev,1\n`,
    '/d/l.csv',
  ).map((r) => ({ ...r, id: r.file }));
  // outputs are the labels exactly
  const outputs = [Float32Array.of(110), Float32Array.of(140), Float32Array.of(66)];
  const m = TASK.evaluate(outputs, items).metrics;
  assert.equal(m['devMaeMonths'], 0);
  // the baseline "bone age = chronological age" is off by 10, 10 and 6
  assert.ok(Math.abs((m['devMaeChronologicalBaselineMonths'] as number) - 26 / 3) < 1e-9);
  const report = TASK.report(outputs, items, { title: 't', facts: {}, data: 'dev' });
  const get = (name: string): number | undefined => report.metrics.find((x) => x.name === name)?.value;
  assert.equal(get('mae'), 0);
  assert.equal(get('maeVsReadings'), 0);
  // against the pseudo-labels (112 and 66): 2 and 0
  assert.equal(get('maeVsPseudoLabels'), 1);
  assert.ok(Math.abs((get('maeChronologicalAgeBaseline') as number) - 26 / 3) < 1e-9);
  const dir = mkdtempSync(join(tmpdir(), 'knee-report-'));
  const { htmlPath } = report.write(dir);
  const html = readFileSync(htmlPath, 'utf8');
  assert.match(html, /On the same films/);
  assert.match(html, /this model vs the teacher hand model&#39;s pseudo-labels \(2 films\)|this model vs the teacher hand model's pseudo-labels \(2 films\)/);
  assert.match(html, /3 of 3 scored knees are simulated/);
});
