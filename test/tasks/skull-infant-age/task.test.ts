import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRadiographBytes } from '../../../src/radiograph/index.js';
import { createModel } from '../../../src/models/index.js';
import { tensor, tidy } from '../../../src/torch/index.js';
import { maskInInput } from '../../../src/explain/index.js';
import { LabelsError, resolveInputs, skullInfantAge, variantsOf, type FilmContext, type FilmResult } from '../../../src/tasks/index.js';
import { writeImage } from '../../radiograph/dicom-writer.js';

const { SKULL_INFANT_AGE_TASK: TASK, parseSkullLabels, ageClassOf, viewAnswer } = skullInfantAge;

/** A 2×2 DX film with the given header elements. */
function dicom(extra: { tag: number; vr: string; value: string }[]): Uint8Array {
  return writeImage({ rows: 2, columns: 2, values: [0, 100, 200, 300], extra });
}
const BIRTH = 0x00100030;
const STUDY = 0x00080020;
const VIEW = 0x00185101;

void test('ageClassOf: month k holds [k, k + 1); ages just under 12 months are class 11', () => {
  assert.deepEqual([0, 0.99, 1, 5.5, 11.999].map(ageClassOf), [0, 0, 1, 5, 11]);
});

void test('labels: view spellings, patient groups, masks relative to the CSV; an unknown view, an age outside [0, 12) and a missing age are refused with the line', () => {
  const rows = parseSkullLabels('file,view,age_months,patient_id,suture_mask,simulated\na.png,ap,0.5,p1,m/a.png,1\nb.png,LL,11.9,p1,,0\nc.png,Lateral,3,,,\n', '/data/labels.csv');
  assert.deepEqual(rows.map((r) => r.simulated), [true, false, false]);
  assert.deepEqual(
    rows.map((r) => [r.view, r.ageMonths, r.patientId, r.sutureMask ?? null]),
    [
      ['AP', 0.5, 'p1', '/data/m/a.png'],
      ['LATERAL', 11.9, 'p1', null],
      ['LATERAL', 3, 'file:c.png', null],
    ],
  );
  assert.throws(() => parseSkullLabels('file,view,age_months\na.png,TOWNE,2\n', 'l.csv'), (e: unknown) => e instanceof LabelsError && /l\.csv:2: view 'TOWNE' must be AP or LATERAL/.test(e.message));
  assert.throws(() => parseSkullLabels('file,view,age_months\na.png,AP,12\n', 'l.csv'), /age 12\.00 months \(from age_months\) is outside this task's range \[0, 12\) months/);
  assert.throws(() => parseSkullLabels('file,view,age_months\na.png,AP,\n', 'l.csv'), /no age_months, and the file's header has no PatientBirthDate/);
});

void test('labels: the age and view come from the DICOM header when the columns are empty; a column that disagrees with the dates is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skull-labels-'));
  writeFileSync(join(dir, 'a.dcm'), dicom([{ tag: BIRTH, vr: 'DA', value: '20240101' }, { tag: STUDY, vr: 'DA', value: '20240402' }, { tag: VIEW, vr: 'CS', value: 'LL' }]));
  const [row] = parseSkullLabels('file,view,age_months\na.dcm,,\n', join(dir, 'labels.csv'));
  assert.equal(row?.view, 'LATERAL');
  assert.equal(row?.ageSource, 'dicom');
  assert.ok(Math.abs((row?.ageMonths ?? 0) - 92 / (365.2425 / 12)) < 1e-9, `${row?.ageMonths}`);
  assert.throws(() => parseSkullLabels('file,view,age_months\na.dcm,LATERAL,6\n', join(dir, 'labels.csv')), /age_months 6 disagrees with the DICOM header \(3\.02 months from its dates\)/);
});

void test('view input: command line, manifest, DICOM ViewPosition, then the gate only when it sees a skull surely; a disagreement is reported', async () => {
  const r = await readRadiographBytes(dicom([{ tag: VIEW, vr: 'CS', value: 'AP' }]), 'ap.dcm');
  const bare = await readRadiographBytes(dicom([]), 'bare.dcm');
  const sureLateral = { anatomy: { value: 'skull', p: 0.99 }, view: { value: 'lateral', p: 0.97 } };
  assert.deepEqual(resolveInputs(TASK.inputs, bare, {}, 'm', sureLateral)['view'], { value: 'LATERAL', source: 'gate' });
  assert.deepEqual(resolveInputs(TASK.inputs, bare, {}, 'm', { ...sureLateral, view: { value: 'lateral', p: 0.6 } })['view'], { value: null, source: 'unknown' });
  assert.deepEqual(resolveInputs(TASK.inputs, bare, {}, 'm', { ...sureLateral, anatomy: { value: 'chest', p: 0.99 } })['view'], { value: null, source: 'unknown' });
  assert.deepEqual(resolveInputs(TASK.inputs, r, {}, 'm', sureLateral)['view'], { value: 'AP', source: 'dicom', conflict: 'dicom says AP but gate says LATERAL; using dicom' });
  // unknown: answered for both views, coded AP 0, LATERAL 1
  assert.deepEqual(variantsOf(TASK.inputs, resolveInputs(TASK.inputs, bare, {})).map((v) => [v.values['view'], v.extra[0]]), [['AP', 0], ['LATERAL', 1]]);
});

void test('network: one head per view with the age and twelve class logits; the age unit of each view starts at the training mean', () => {
  const model = createModel('resnet18_w32', TASK.modelOptions(TASK.recipe));
  try {
    TASK.initModel?.(model, [{ ageMonths: 2 }, { ageMonths: 6 }] as never);
    const bias = model.namedParameters().find(([n]) => n === `${model.headLinearName}.bias`)?.[1]?.toFloat32Array() ?? new Float32Array();
    assert.equal(bias.length, 26);
    assert.deepEqual([bias[0], bias[13], bias[1], bias[14]], [4, 4, 0, 0]);
    const out = tidy(() => model.call(tensor(new Float32Array(2 * 32 * 32), [2, 1, 32, 32]), tensor([0, 1], [2, 1])).toFloat32Array());
    assert.equal(out.length, 2 * 13);
    // the loss: L1 on the age plus cross-entropy on the class; zero logits give ln 12 for the class part
    const loss = tidy(() => TASK.loss(tensor([4, ...new Array(12).fill(0)], [1, 13]), tensor([5, 3], [1, 2])).item());
    assert.ok(Math.abs(loss - (1 + Math.log(12))) < 1e-5, `${loss}`);
  } finally {
    model.dispose();
  }
});

void test('answer: the age clamped to [0, 12), the class head argmax with its softmax; the saliency target is the predicted class logit', () => {
  const heads = Float32Array.from([13.5, ...Array.from({ length: 12 }, (_, k) => (k === 7 ? 3 : 0))]);
  const a = viewAnswer(heads);
  assert.ok(a.ageMonths < 12 && a.ageMonths > 11.99);
  assert.equal(a.ageClass, 7);
  assert.ok(Math.abs(a.ageClassProbability - Math.exp(3) / (Math.exp(3) + 11)) < 1e-4);
  assert.deepEqual(TASK.saliencyTarget?.(heads), { outputIndex: 8, mode: 'positive', describe: 'the predicted class 7 months', stagesBeforeLast: 1 });
  assert.equal(viewAnswer(Float32Array.from([-2, ...new Array(12).fill(0)])).ageMonths, 0);
});

void test('suitability: a header age of 12 months or more is refused with the age in words, before any feature check', () => {
  const refuse = (months: number): string | null => TASK.suitability({ ood: null, trainingData: null }, new Float32Array(4), { chronologicalAgeMonths: Float32Array.from([months]) });
  assert.equal(refuse(11.5), null);
  assert.equal(refuse(Number.NaN), null);
  assert.match(refuse(96) ?? '', /outside this model's age range: the header makes the patient 8\.0 years old; it estimates ages 0–12 months/);
  assert.match(refuse(13) ?? '', /13\.0 months old/);
});

void test('format: one view known, and both views when the view is unknown', () => {
  const one: FilmResult = { file: 'a.dcm', task: TASK.name, answer: { ...viewAnswer(Float32Array.from([4.2, ...new Array(12).fill(0)])), view: 'AP', viewSource: 'dicom', chronologicalAgeMonths: 4 } };
  assert.match(TASK.format(one), /^a\.dcm: age 4\.2 months \(class 0 months, p 0\.08\), AP view from dicom; chronological age 4\.0 months$/);
  const both: FilmResult = {
    file: 'b.png',
    task: TASK.name,
    answer: { byView: { AP: viewAnswer(Float32Array.from([1, ...new Array(12).fill(0)])), LATERAL: viewAnswer(Float32Array.from([2, ...new Array(12).fill(0)])) }, view: null, viewSource: 'unknown' },
  };
  assert.match(TASK.format(both), /age 1\.0 months .* if AP, age 2\.0 months .* if LATERAL \(view unknown\)/);
});

void test('maskInInput: a film-space mask follows the crop and letterbox into the model input', () => {
  // a 40 × 20 film cropped to its right half (20 × 20 at x = 20) and letterboxed into 10 × 10: scale 0.5, no padding
  const film = { width: 40, height: 20, data: new Float32Array(800) };
  film.data[5 * 40 + 30] = 1; // (30, 5) in the film → (5, 2) in the input
  const pre = {
    image: { width: 10, height: 10, data: new Float32Array(100) },
    crop: { x: 20, y: 0, width: 20, height: 20 },
    flipped: false,
    letterbox: { scale: 0.5, offsetX: 0, offsetY: 0, contentWidth: 10, contentHeight: 10 },
    tensor: { data: new Float32Array(100), shape: [1, 10, 10] as const },
  };
  const m = maskInInput([film], pre as never);
  assert.deepEqual([...m.keys()].filter((i) => m[i] === 1), [2 * 10 + 5]);
  const mirrored = maskInInput([film], { ...pre, flipped: true } as never);
  assert.deepEqual([...mirrored.keys()].filter((i) => mirrored[i] === 1), [2 * 10 + 4]);
});

// a FilmContext with one known view answered by one member
void test('predict: the known view gets one answer with the header age and the difference', () => {
  const heads = Float32Array.from([5, ...Array.from({ length: 12 }, (_, k) => (k === 5 ? 2 : 0))]);
  const ctx = {
    radiograph: { metadata: { age: { ageMonths: 4.5, source: 'dates' } } },
    inputs: { view: { value: 'LATERAL', source: 'cli' } },
    variants: [{ values: { view: 'LATERAL' }, extra: [1] }],
    routes: [{ variants: [0], state: { ood: null, trainingData: null }, firstPass: { heads: [heads], outputs: [5], pooled: new Float32Array(1) } }],
  } as unknown as FilmContext<skullInfantAge.SkullState>;
  const a = TASK.predict(ctx) as Record<string, unknown>;
  assert.equal(a['simulatedTraining'], undefined);
  assert.equal(a['ageMonths'], 5);
  assert.equal(a['ageClass'], 5);
  assert.equal(a['view'], 'LATERAL');
  assert.equal(a['differenceMonths'], 0.5);
  // a model trained on phantoms says so in the answer and its line
  const notice = 'trained on 10 simulated films of 10: not clinical';
  const sim = TASK.predict({ ...ctx, routes: [{ ...(ctx.routes[0] as object), state: { ood: null, trainingData: { notice } } }] } as unknown as FilmContext<skullInfantAge.SkullState>) as Record<string, unknown>;
  assert.equal(sim['simulatedTraining'], notice);
  assert.match(TASK.format({ file: 'x.dcm', task: TASK.name, answer: sim }), /\[model trained on simulated films: not a clinical answer\]/);
});

void test('saliency: per view, three mask sets (sutures+fontanelles, calvarium, union) at the last stage and the one before it; old labels without calvarium_mask still read', async () => {
  const { writeSkullPhantomCohort } = await import('../../../src/tasks/skull-infant-age/phantom/index.js');
  const { recipePreprocessing } = await import('../../../src/train/index.js');
  const { manualSeed } = await import('../../../src/torch/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'skull-saliency-'));
  const cohort = await writeSkullPhantomCohort({ outDir: dir, infants: 2, seed: 3, size: 64, format: 'png' });
  const items = TASK.readLabels(cohort.labelsCsv).slice(0, 4);
  assert.ok(items.every((i) => i.masks.length === 2 && i.calvariumMask?.endsWith('_calvarium.png')));
  // a labels file written before the calvarium column: read as before, no calvarium mask
  const old = join(dir, 'old.csv');
  writeFileSync(old, 'file,patient_id,sex,view,age_months,split,suture_mask,fontanelle_mask,simulated\nfilms/SKP0001_V1_AP.png,SKP0001,M,AP,3.4,train,masks/SKP0001_V1_AP_sutures.png,masks/SKP0001_V1_AP_fontanelles.png,1\n');
  const [oldItem] = TASK.readLabels(old);
  assert.equal(oldItem?.calvariumMask, undefined);
  assert.equal(oldItem?.masks.length, 2);

  const preprocessing = recipePreprocessing({ ...TASK.recipe, inputSize: 64 });
  // an architecture that cannot be cut at a stage is measured at its last map only (a random EfficientNet's
  // positive-mode maps may be empty on some films, so only the stages are checked)
  manualSeed(2);
  const flat = await skullInfantAge.measureSaliency(createModel('efficientnet_b0', TASK.modelOptions(TASK.recipe)), items, preprocessing);
  assert.ok(flat.summaries.length > 0 && flat.summaries.every((s) => s.stage === 'last'));
  const cases = [{ arch: 'resnet18_w32', stages: { last: [2, 2], 'last-1': [4, 4] } }] as const;
  for (const c of cases) {
    manualSeed(2);
    const model = createModel(c.arch, TASK.modelOptions(TASK.recipe));
    const { summaries, images } = await skullInfantAge.measureSaliency(model, items, preprocessing, { examplesPerView: 1 });
    const stages = Object.entries(c.stages);
    assert.equal(summaries.length, 2 * 3 * stages.length, `${c.arch}: ${summaries.map((s) => `${s.view}/${s.masks}/${s.stage}`).join(' ')}`);
    for (const [stage, size] of stages) {
      for (const view of ['AP', 'LATERAL'] as const) {
        const of = (masks: string): skullInfantAge.SaliencySummary => summaries.find((s) => s.view === view && s.stage === stage && s.masks === masks) as skullInfantAge.SaliencySummary;
        const [a, b, u] = [of('sutures+fontanelles'), of('calvarium'), of('union')];
        assert.deepEqual(a.featureSize, size, `${c.arch} ${stage}`);
        // the union covers each set and no more than both: its area share lies between the larger and the sum
        assert.ok(u.meanAreaShare >= Math.max(a.meanAreaShare, b.meanAreaShare) - 1e-12 && u.meanAreaShare <= a.meanAreaShare + b.meanAreaShare + 1e-12);
        assert.ok(u.meanEnergyShare >= Math.max(a.meanEnergyShare, b.meanEnergyShare) - 1e-9);
      }
    }
    assert.deepEqual(images.map((i) => i.file), ['saliency-AP-1.png', 'saliency-LATERAL-1.png']);
    assert.match(images[0]?.caption ?? '', /stage \(\d+×\d+ feature map.*calvarium's rim/);
  }
  // evaluate's names: the older ones for sutures+fontanelles at the last stage, suffixed ones for the rest
  const report = await TASK.reportSaliency?.(createModel('resnet18_w32', TASK.modelOptions(TASK.recipe)), items, preprocessing);
  const names = Object.keys(report?.metrics ?? {});
  for (const n of ['saliencyEnrichmentAp', 'saliencyPointingHitLateral', 'saliencyEnrichmentApCalvarium', 'saliencyEnrichmentLateralUnionPrevStage', 'saliencyEnergyInMasksApPrevStage']) assert.ok(names.includes(n), n);
  assert.equal(names.length, 2 * 3 * 2 * 4);
  rmSync(dir, { recursive: true, force: true });
});
