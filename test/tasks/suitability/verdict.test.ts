import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRadiographBytes } from '../../../src/radiograph/index.js';
import { HAND_BONE_AGE_TASK, suitability, type Acceptance } from '../../../src/tasks/index.js';
import { writeImage } from '../../radiograph/dicom-writer.js';

const { HEAD_GROUPS, HEAD_WIDTH, readVerdict, judgeVerdict, parseGateFile, checkMetadata } = suitability;

/** A gate file over 2-d features: a hand cluster at (0, 0) and a chest cluster at (10, 0), identity covariance. */
const GATE = parseGateFile(
  JSON.stringify({
    format: 'physis-gate',
    version: 1,
    groups: HEAD_GROUPS.map((g) => ({ name: g.name, classes: [...g.classes].map(String) })),
    openSet: {
      method: 'test',
      features: 'test',
      dim: 2,
      choleskyLower: [1, 0, 1],
      shrinkage: 0,
      percentile: 1,
      margin: 1,
      categories: [
        { category: 'hand', anatomy: 'hand', n: 10, mean: [0, 0], threshold: 3 },
        { category: 'chest-pediatric', anatomy: 'chest', n: 10, mean: [10, 0], threshold: 3 },
      ],
      data: 'made in code',
    },
    anatomyConfidence: 0.9,
    correctionConfidence: 0.95,
  }),
  'gate.json',
);

type Pick = Partial<Record<(typeof HEAD_GROUPS)[number]['name'], string>>;
const DEFAULTS: Required<Pick> = { anatomy: 'hand', view: 'frontal', modality: 'radiograph', orientation: '0', polarity: 'normal', laterality: 'left' };

/** Logits that pick one class per group with margin `margin` (10: p ≈ 1). */
function logits(pick: Pick = {}, margin: Partial<Record<keyof Pick, number>> = {}): Float32Array {
  const out = new Float32Array(HEAD_WIDTH);
  let at = 0;
  for (const g of HEAD_GROUPS) {
    const want = { ...DEFAULTS, ...pick }[g.name];
    const i = g.classes.map(String).indexOf(want);
    assert.ok(i >= 0, `${g.name} ${want}`);
    out[at + i] = margin[g.name] ?? 10;
    at += g.classes.length;
  }
  return out;
}

const HAND = HAND_BONE_AGE_TASK.accepts as Acceptance;
const judge = (pick: Pick, o: { margin?: Partial<Record<keyof Pick, number>>; pooled?: number[]; corrected?: boolean } = {}) =>
  judgeVerdict(readVerdict(logits(pick, o.margin), o.pooled ?? [0.5, 0], GATE), HAND, GATE, { corrected: o.corrected ?? false });
const reason = (j: suitability.Judgement): string => (j.accepted ? 'accepted' : j.reason);

void test('an upright left hand PA radiograph near the hand films is accepted as it is', () => {
  assert.deepEqual(judge({}), { accepted: true, correction: null, notes: [] });
});

void test('each rejection reason of the gate, in words', () => {
  assert.match(reason(judge({}, { pooled: [5, 5] })), /^unlike every kind of film the suitability gate was trained on \(nearest: hand, feature distance 7\.1 > 3\.0\)/);
  assert.match(reason(judge({ anatomy: 'other', modality: 'photo' })), /^not a plain radiograph: the image looks like a photograph \(p = 1\.00\)/);
  assert.match(reason(judge({ anatomy: 'other', modality: 'ultrasound' })), /an ultrasound image/);
  assert.match(reason(judge({ anatomy: 'chest' }, { pooled: [10, 0] })), /^chest radiograph \(p = 1\.00\), not a left-hand PA radiograph$/);
  assert.match(reason(judge({ anatomy: 'knee' }, { margin: { anatomy: 1 } })), /^probably knee radiograph/);
  // hand most likely, but not likely enough
  assert.match(reason(judge({}, { margin: { anatomy: 2 } })), /^the suitability gate is not sure this is a left-hand PA radiograph \(hand p = 0\.60, needs 0\.9\)/);
  assert.match(reason(judge({ view: 'lateral' })), /^lateral view \(p = 1\.00\), not frontal \(PA\/AP\) view$/);
  assert.match(reason(judge({ orientation: '90' }, { margin: { orientation: 2 } })), /^turned 90° clockwise \(p = 0\.71\); not corrected because the gate is not sure enough/);
  assert.match(reason(judge({ polarity: 'inverted' }, { corrected: true })), /^still inverted polarity .* after the gate's correction: not analysed$/);
});

void test('each correction: turned back, inverted back, a right hand mirrored to a left one, each said', () => {
  const turned = judge({ orientation: '90' });
  assert.ok(turned.accepted);
  assert.deepEqual(turned.correction, { quarterTurns: 3, mirror: false, invert: false });
  assert.match(turned.notes[0] ?? '', /turned 90° clockwise: turned back before analysis/);
  const inverted = judge({ polarity: 'inverted', orientation: '180' });
  assert.ok(inverted.accepted);
  assert.deepEqual(inverted.correction, { quarterTurns: 2, mirror: false, invert: true });
  const right = judge({ laterality: 'right' });
  assert.ok(right.accepted);
  assert.deepEqual(right.correction, { quarterTurns: 0, mirror: true, invert: false });
  assert.match(right.notes[0] ?? '', /a right hand as seen: mirrored to left before analysis \(Greulich–Pyle assumes the left hand\)/);
  // a turned film is far from the upright training films: its distance is judged after the correction, not before
  assert.ok(judge({ orientation: '270' }, { pooled: [5, 5] }).accepted);
});

void test('a task that takes either side and any view does not mirror', () => {
  const any: Acceptance = { anatomy: ['hand'], describe: 'a hand' };
  assert.deepEqual(judgeVerdict(readVerdict(logits({ laterality: 'right', view: 'lateral' }), [0, 0], GATE), any, GATE), { accepted: true, correction: null, notes: [] });
});

void test('the DICOM header: a modality that is not a plain radiograph refuses; disagreements are said', async () => {
  const film = (extra: { tag: number; vr: string; value: string }[]) => readRadiographBytes(writeImage({ rows: 2, columns: 2, values: [0, 1, 2, 3], extra }), 'x.dcm');
  const hand = readVerdict(logits(), [0, 0], GATE);
  const rf = checkMetadata(await film([{ tag: 0x00080060, vr: 'CS', value: 'RF' }]), hand);
  assert.equal(rf.refusal, 'not a plain radiograph: DICOM Modality RF (fluoroscopy)');
  const chest = checkMetadata(
    await film([
      { tag: 0x00080060, vr: 'CS', value: 'CR' },
      { tag: 0x00180015, vr: 'CS', value: 'CHEST' },
      { tag: 0x00185101, vr: 'CS', value: 'LL' },
      { tag: 0x00200062, vr: 'CS', value: 'R' },
    ]),
    hand,
  );
  assert.equal(chest.refusal, null);
  assert.deepEqual(chest.notes, [
    'DICOM BodyPartExamined CHEST disagrees with the image (hand, p = 1.00); the image decides',
    'DICOM ViewPosition LL disagrees with the image (frontal view); the image decides',
    'DICOM ImageLaterality R disagrees with the image (a left hand as seen); the image decides',
  ]);
  const ot = checkMetadata(await film([{ tag: 0x00080060, vr: 'CS', value: 'OT' }]), hand);
  assert.deepEqual(ot, { refusal: null, notes: ['DICOM Modality OT does not say plain radiograph: the image alone decides'] });
});

void test('a gate file with other head groups or a broken covariance is refused, never used', () => {
  assert.throws(() => parseGateFile('{"format":"physis-gate","version":1,"groups":[]}', 'g.json'), /head groups differ/);
  assert.throws(() => parseGateFile('not json', 'g.json'), /not valid JSON/);
});
