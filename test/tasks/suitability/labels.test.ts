import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suitability, SUITABILITY_TASK } from '../../../src/tasks/index.js';
import { tensor } from '../../../src/torch/index.js';

const { collectSuitabilityRows, writeSuitabilityLabels, readSuitabilityLabels, parseSuitabilityLabels, targetsOf, HEAD_WIDTH } = suitability;

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'physis-gate-labels-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

void test('the builder labels each source, keeps the hands split, splits the rest by file or patient, and leaves out a category', () => {
  const root = folder({
    'anatomy/labels.csv': 'file,anatomy,view,modality,source\nimages/k.png,knee,AP,radiograph,x\nimages/u.png,other,ultrasound,ultrasound,x\nimages/c.png,chest,adult,radiograph,x\nimages/s.png,skull,lateral,radiograph,x\n',
    'hands/labels.csv': 'file,rsna_id,boneage_months,sex,split\nimages/1.png,1,10,M,train\nimages/2.png,2,20,F,dev\n',
    'lowres/labels.csv': 'file,rsna_id,boneage_months,sex,split,in_rsna_hand\nimages/1.png,1,10,M,train,1\nimages/3.png,3,30,F,train,0\nimages/4.png,4,30,F,dev,0\n',
    'spine/labels.csv': 'file,patient_key\nimages/a_A.png,p1\nimages/a_B.png,p1\n',
  });
  try {
    const rows = collectSuitabilityRows({ anatomy: join(root, 'anatomy'), hands: join(root, 'hands'), moreHands: join(root, 'lowres'), spine: join(root, 'spine') });
    const by = (id: string, dir: string) => rows.find((r) => r.path === join(root, dir, id));
    assert.deepEqual({ ...by('images/k.png', 'anatomy'), path: '' }, { id: 'images/k.png', path: '', anatomy: 'knee', view: 'frontal', modality: 'radiograph', laterality: null, category: 'knee', split: by('images/k.png', 'anatomy')?.split });
    assert.equal(by('images/u.png', 'anatomy')?.anatomy, 'other');
    assert.equal(by('images/c.png', 'anatomy')?.view, null, 'the adult chest source mixes views');
    assert.equal(by('images/s.png', 'anatomy')?.view, 'lateral');
    assert.equal(by('images/2.png', 'hands')?.split, 'dev');
    assert.equal(by('images/2.png', 'hands')?.laterality, 'left');
    assert.ok(rows.every((r) => r.simulated === undefined), 'films of people are not marked simulated');
    // lowres: training films not already in the first hand folder, never a dev film
    assert.deepEqual(rows.filter((r) => r.category === 'hand-lowres').map((r) => r.id), ['images/3.png']);
    // one patient's films share a split
    assert.equal(by('images/a_A.png', 'spine')?.split, by('images/a_B.png', 'spine')?.split);
    const without = collectSuitabilityRows({ anatomy: join(root, 'anatomy'), exclude: ['ultrasound'] });
    assert.equal(without.some((r) => r.category === 'ultrasound'), false);
    // written and read back with paths relative to the file
    const csv = join(root, 'out', 'gate.csv');
    mkdirSync(join(root, 'out'));
    writeSuitabilityLabels(rows, csv);
    const back = readSuitabilityLabels(csv);
    assert.deepEqual(back.map((r) => [r.path, r.anatomy, r.view, r.modality, r.laterality, r.category, r.split]), rows.map((r) => [r.path, r.anatomy, r.view, r.modality, r.laterality, r.category, r.split]));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

void test('phantom folders join as simulated films in categories of their own: skull views, simulated knees and instrumented spines only, split by patient, limited by hash', () => {
  const root = folder({
    'skulls/labels.csv':
      'file,patient_id,sex,view,age_months,split,suture_mask,fontanelle_mask,simulated\n' +
      'films/a_AP.png,SKP1,M,AP,3,train,m/a.png,m/b.png,1\nfilms/a_LAT.png,SKP1,M,LATERAL,3,train,m/c.png,m/d.png,1\nfilms/b_AP.png,SKP2,F,AP,7,dev,m/e.png,m/f.png,1\n',
    'knees/manifest.csv':
      'patient_id,film,body_part,study_date,birth_date,sex,bone_age_months,laterality,physeal_trauma,genetic_disorder,skeletal_dysplasia,endocrinopathy,split,simulated,knee_skeletal_age_months\n' +
      'K1,../hands/images/1.png,hand,20200101,20100101,M,120,L,0,0,0,0,train,0,\nK1,knees/k1.dcm,knee,20200101,20100101,M,,L,0,0,0,0,train,1,118\n',
    'spines/labels.csv':
      'file,class,patient_key,view,stage,simulated,source\nfilms/p.png,ap_preop,P1,ap,preop,0,aasce\nfilms/f.png,ap_postop_fusion,P1,ap,postop,1,aasce\nfilms/g.png,ap_postop_growing_rod,P1,ap,postop,1,aasce\n',
    'other/labels.csv': 'file,anatomy\nx.png,knee\n',
  });
  try {
    const rows = collectSuitabilityRows({ phantoms: [join(root, 'skulls'), join(root, 'knees'), join(root, 'spines')] });
    const cat = (c: string) => rows.filter((r) => r.category === c).map((r) => r.id).sort();
    assert.deepEqual(cat('skull-infant-phantom-frontal'), ['films/a_AP.png', 'films/b_AP.png']);
    assert.deepEqual(cat('skull-infant-phantom-lateral'), ['films/a_LAT.png']);
    assert.deepEqual(cat('knee-pediatric-phantom'), ['knees/k1.dcm'], 'the real hand of the knee cohort is not a phantom');
    assert.deepEqual(cat('spine-instrumented-phantom'), ['films/f.png', 'films/g.png'], 'the pre-operative film is the real AASCE film');
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.simulated === true), 'every phantom row says it is simulated');
    const csv = join(root, 'gate.csv');
    writeSuitabilityLabels(rows, csv);
    assert.deepEqual(readSuitabilityLabels(csv).map((r) => [r.path, r.simulated]), rows.map((r) => [r.path, true]), 'and keeps saying so through the file');
    assert.throws(() => parseSuitabilityLabels('file,anatomy,modality,simulated\na.png,knee,radiograph,yes\n', join(root, 'x.csv')), /simulated 'yes' must be 1, 0 or empty/);
    const skull = rows.find((r) => r.id === 'films/a_LAT.png');
    assert.deepEqual([skull?.anatomy, skull?.view, skull?.modality], ['skull', 'lateral', 'radiograph']);
    // one infant's films share a split
    assert.equal(rows.find((r) => r.id === 'films/a_AP.png')?.split, skull?.split);
    assert.equal(collectSuitabilityRows({ phantoms: [join(root, 'skulls')], phantomsLimit: 2 }).length, 2);
    assert.throws(() => collectSuitabilityRows({ phantoms: [join(root, 'other')] }), /not a phantom cohort written by physis phantoms/);
    assert.throws(() => collectSuitabilityRows({ phantoms: [join(root, 'none')] }), /no labels\.csv or manifest\.csv of a phantom cohort/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

void test('the labels file refuses unknown classes, a radiograph called other, and a repeated file', () => {
  assert.throws(() => parseSuitabilityLabels('file,anatomy,modality\na.png,foot,radiograph\n', 'x.csv'), /x\.csv:2: anatomy 'foot' must be one of hand/);
  assert.throws(() => parseSuitabilityLabels('file,anatomy,modality\na.png,other,radiograph\n', 'x.csv'), /only images that are not radiographs are 'other'/);
  assert.throws(() => parseSuitabilityLabels('file,anatomy,modality\na.png,hand,radiograph\na.png,hand,radiograph\n', 'x.csv'), /listed again/);
});

void test('targets follow the transform: turns and inversion on radiographs only, the side flips with the mirror', () => {
  const hand = { anatomy: 'hand', view: 'frontal', modality: 'radiograph', laterality: 'left' } as const;
  assert.deepEqual([...targetsOf(hand, { quarterTurns: 3, mirror: true, invert: true })], [0, 0, 0, 3, 1, 1]);
  assert.deepEqual([...targetsOf(hand, { quarterTurns: 0, mirror: false, invert: false })], [0, 0, 0, 0, 0, 0]);
  const photo = { anatomy: 'other', view: null, modality: 'photo', laterality: null } as const;
  assert.deepEqual([...targetsOf(photo, { quarterTurns: 1, mirror: true, invert: true })], [5, -1, 3, -1, -1, -1]);
});

void test('the loss sums one cross-entropy per question and stays finite when no film of the batch has a question', () => {
  const logits = tensor(new Float32Array(2 * HEAD_WIDTH), [2, HEAD_WIDTH]);
  const none = SUITABILITY_TASK.loss(logits, tensor(Float32Array.from([5, -1, 3, -1, -1, -1, 5, -1, 3, -1, -1, -1]), [2, 6]));
  // zero logits: ln 6 (anatomy) + ln 4 (modality)
  assert.ok(Math.abs(none.item() - (Math.log(6) + Math.log(4))) < 1e-5, String(none.item()));
  const all = SUITABILITY_TASK.loss(logits, tensor(Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 1, 1]), [2, 6]));
  assert.ok(Math.abs(all.item() - (Math.log(6) + Math.log(2) + Math.log(4) + Math.log(4) + Math.log(2) + Math.log(2))) < 1e-5);
});
