import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../../src/models/index.js';
import { tensor, tidy } from '../../../src/torch/index.js';
import { getTask, LabelsError, OodModelError, spineView, type FilmContext, type FilmResult } from '../../../src/tasks/index.js';

const {
  SPINE_VIEW_TASK: TASK,
  SPINE_VIEW_DEFAULT_CLASSES,
  SPINE_VIEW_SPLIT_SHARES,
  parseSpineViewLabels,
  classListOf,
  classWeights,
  groupedStratifiedSplit,
  decide,
  predictSpineView,
  formatSpineView,
  parseSpineClasses,
  parseSpineReject,
} = spineView;
type State = spineView.SpineViewState;
type Item = spineView.SpineViewItem;

void test('registered as spine-view; accepts what the gate calls a spine, frontal or lateral; offers the paper recipe', () => {
  assert.equal(getTask('spine-view'), TASK);
  assert.deepEqual(TASK.accepts?.anatomy, ['spine']);
  assert.deepEqual(TASK.accepts?.views, ['frontal', 'lateral']);
  const paper = TASK.namedRecipes?.['paper-efficientnet-b6']?.recipe;
  assert.equal(paper?.arch, 'efficientnet_b6');
  assert.equal(paper?.inputSize, 528);
  assert.equal(TASK.recipe.preprocessing?.fit, 'letterbox');
});

void test('default scheme: 10 classes, AP and lateral × pre-operative 1–2 and post-operative 1–3', () => {
  assert.equal(SPINE_VIEW_DEFAULT_CLASSES.length, 10);
  assert.deepEqual(SPINE_VIEW_DEFAULT_CLASSES.slice(0, 5), ['ap_preop_1', 'ap_preop_2', 'ap_postop_1', 'ap_postop_2', 'ap_postop_3']);
  assert.ok(SPINE_VIEW_DEFAULT_CLASSES.every((c) => /^(ap|lateral)_(preop|postop)_\d$/.test(c)));
});

// the class list comes from the data: the default scheme's names in its order, then any other name alphabetically
const CLASS_LIST_CASES = [
  { name: 'cohort_scheme', given: ['ap_preop', 'ap_postop_fusion', 'ap_preop', 'ap_postop_growing_rod'], want: ['ap_postop_fusion', 'ap_postop_growing_rod', 'ap_preop'] },
  { name: 'default_scheme_subset', given: ['lateral_postop_1', 'ap_preop_2', 'ap_preop_1'], want: ['ap_preop_1', 'ap_preop_2', 'lateral_postop_1'] },
  { name: 'mixed', given: ['zeta', 'ap_postop_3', 'alpha'], want: ['ap_postop_3', 'alpha', 'zeta'] },
];
for (const c of CLASS_LIST_CASES) {
  void test(`classListOf ${c.name}`, () => assert.deepEqual(classListOf(c.given), c.want));
}

void test('labels: classes, indices and weights from the data; paths relative to the CSV; a given split is kept', () => {
  const rows = parseSpineViewLabels(
    'file,class,patient_key,split,view,simulated\na.png,b_class,p1,train,AP,1\nb.png,a_class,p2,train,AP,0\nc.png,a_class,p3,train,LATERAL,\nd.png,a_class,p4,dev,AP,0\ne.png,b_class,p5,test,AP,1\n',
    '/data/labels.csv',
  );
  assert.deepEqual(rows[0]?.classes, ['a_class', 'b_class']);
  assert.deepEqual(rows.map((r) => r.classIndex), [1, 0, 0, 0, 1]);
  assert.deepEqual(rows.map((r) => r.split), ['train', 'train', 'train', 'dev', 'test']);
  assert.equal(rows[0]?.path, '/data/a.png');
  assert.equal(rows[0]?.splitMade, false);
  assert.deepEqual(rows.map((r) => r.simulated), [true, false, false, false, true]);
  // inverse frequency over the 3 training rows: a_class 3/(2·2) = 0.75, b_class 3/(2·1) = 1.5
  assert.deepEqual(rows.map((r) => r.weight), [1.5, 0.75, 0.75, 0.75, 1.5]);
});

void test('labels refused: no class column, an empty class, one class only, a bad simulated value, a repeated file', () => {
  const cases: [string, RegExp][] = [
    ['file,view\na.png,AP\n', /class/],
    ['file,class\na.png,\nb.png,x\n', /:2: empty 'class'/],
    ['file,class\na.png,x\nb.png,x\n', /at least two classes/],
    ['file,class,simulated\na.png,x,yes\nb.png,y,0\n', /simulated 'yes'/],
    ['file,class\na.png,x\na.png,y\n', /listed again/],
  ];
  for (const [csv, message] of cases) assert.throws(() => parseSpineViewLabels(csv, '/d/labels.csv'), (e: unknown) => e instanceof LabelsError && message.test(e.message));
});

void test('classWeights: N / (K · n_c) over the classes present; an absent class weighs 0', () => {
  assert.deepEqual(classWeights([0, 0, 0, 1], 2), [4 / 6, 2]);
  assert.deepEqual(classWeights([0, 2, 2, 2], 3), [2, 0, 4 / 6]);
});

void test('split made when the file has none: 70/15/15 by class, one patient never on two sides, the same for every read', () => {
  // 60 patients with a pre-op film and its two simulated post-op films (as the cohort), 40 with a pre-op film only
  const lines = ['file,class,patient_key'];
  for (let p = 0; p < 100; p++) {
    lines.push(`f${p}a.png,pre,k${p}`);
    if (p < 60) lines.push(`f${p}b.png,post_a,k${p}`, `f${p}c.png,post_b,k${p}`);
  }
  const csv = `${lines.join('\n')}\n`;
  const rows = parseSpineViewLabels(csv, '/d/labels.csv');
  assert.ok(rows.every((r) => r.splitMade));
  const sides = new Map<string, Set<string | undefined>>();
  for (const r of rows) sides.set(r.patientKey, (sides.get(r.patientKey) ?? new Set()).add(r.split));
  assert.ok([...sides.values()].every((s) => s.size === 1), 'a patient on two sides');
  for (const cls of ['pre', 'post_a']) {
    const of = rows.filter((r) => r.className === cls);
    for (const [split, share] of Object.entries(SPINE_VIEW_SPLIT_SHARES)) {
      const got = of.filter((r) => r.split === split).length / of.length;
      assert.ok(Math.abs(got - share) < 0.03, `${cls} ${split}: ${got} vs ${share}`);
    }
  }
  assert.deepEqual(parseSpineViewLabels(csv, '/d/labels.csv').map((r) => r.split), rows.map((r) => r.split));
  assert.deepEqual(groupedStratifiedSplit([{ group: 'g', className: 'x' }], 1), ['train']);
});

void test('network: the head has 10 logits; unused logits start far below; the loss is the class-weighted cross-entropy over the used ones', () => {
  const model = createModel('resnet18_w32', TASK.modelOptions(TASK.recipe));
  try {
    const three = ['a', 'b', 'c'];
    TASK.initModel?.(model, [{ classes: three }] as unknown as Item[]);
    const bias = model.namedParameters().find(([n]) => n === `${model.headLinearName}.bias`)?.[1]?.toFloat32Array() ?? new Float32Array();
    assert.equal(bias.length, 10);
    assert.ok(bias.slice(3).every((b) => b === -30));
    assert.throws(() => TASK.initModel?.(model, [{ classes: Array.from({ length: 11 }, (_, i) => `c${i}`) }] as unknown as Item[]), /headClasses=11/);
    // logits [2, 0, 0 | junk] class 0 weight 1 and [0, 1, 0 | junk] class 1 weight 3; junk must not matter
    const junk = new Array<number>(7).fill(50);
    const loss = tidy(() => TASK.loss(tensor([2, 0, 0, ...junk, 0, 1, 0, ...junk], [2, 10]), tensor([0, 1, 3, 1, 3, 3], [2, 3])).item());
    const ce0 = -Math.log(Math.exp(2) / (Math.exp(2) + 2));
    const ce1 = -Math.log(Math.exp(1) / (Math.exp(1) + 2));
    assert.ok(Math.abs(loss - (1 * ce0 + 3 * ce1) / 4) < 1e-5, `${loss}`);
  } finally {
    model.dispose();
  }
});

const CLASSES = ['ap_postop_fusion', 'ap_postop_growing_rod', 'ap_preop'];

void test('decide: a class at or above the threshold, human review below it or without one, with the probabilities', () => {
  const sure = decide([0.01, 0.01, 0.98], CLASSES, 0.9);
  assert.equal(sure.decision, 'class');
  assert.equal(sure.class, 'ap_preop');
  const unsure = decide([0.3, 0.1, 0.6], CLASSES, 0.9);
  assert.equal(unsure.decision, 'human review');
  assert.equal(unsure.class, null);
  assert.equal(unsure.mostLikely, 'ap_preop');
  assert.deepEqual(unsure.probabilities, { ap_postop_fusion: 0.3, ap_postop_growing_rod: 0.1, ap_preop: 0.6 });
  assert.match(unsure.reviewReason ?? '', /0\.600 < threshold 0\.900/);
  assert.equal(decide([0.01, 0.01, 0.98], CLASSES, null).decision, 'human review');
  assert.equal(decide([0.1, 0.0, 0.9], CLASSES, 0.9).decision, 'class');
});

function state(threshold: number | null, notice: string | null = null): State {
  return {
    classes: { format: 'physis-spine-view-classes', version: 1, classes: CLASSES, headOutputs: 10 },
    reject: threshold === null ? null : { format: 'physis-spine-view-reject', version: 1, threshold, targetAccuracy: 0.99, achieved: true, devCoverage: 0.9, devAcceptedAccuracy: 0.99, devFilms: 100 },
    ood: null,
    trainingData: notice === null ? null : { format: 'physis-spine-view-training-data', version: 1, films: 10, simulatedFilms: 5, notice },
  };
}

function context(heads: number[][], states: State[]): FilmContext<State> {
  return {
    file: 'a.png',
    routes: heads.map((h, i) => ({ state: states[i], variants: [0], firstPass: { pooled: new Float32Array(), outputs: [h[0]], heads: [Float32Array.from(h)] } })),
  } as unknown as FilmContext<State>;
}

void test('predict: softmax over the bundle\'s classes only; an ensemble averages probabilities and answers above its strictest threshold', () => {
  const junk = new Array<number>(7).fill(-30);
  const one = predictSpineView(context([[0, 0, 6, ...junk]], [state(0.9, 'trained on simulated films')]));
  assert.equal(one['decision'], 'class');
  assert.equal(one['class'], 'ap_preop');
  assert.match(String(one['simulatedTraining']), /simulated/);
  const two = predictSpineView(context([[0, 0, 6, ...junk], [6, 0, 0, ...junk]], [state(0.5), state(0.6)]));
  assert.equal(two['decision'], 'human review');
  assert.equal(two['rejectThreshold'], 0.6);
  const line = formatSpineView({ file: 'a.png', task: 'spine-view', answer: two } as FilmResult);
  assert.match(line, /^a\.png: to human review \(top ap_\w+ p 0\.49\d, threshold 0\.600; /);
  assert.match(formatSpineView({ file: 'a.png', task: 'spine-view', answer: one } as FilmResult), /^a\.png: ap_preop \(p 0\.99\d ≥ threshold 0\.900\) \[model trained on simulated films/);
});

void test('artifacts: classes.json and reject.json parse; a wrong format, one class or repeated classes are refused', () => {
  const classes = parseSpineClasses(JSON.stringify({ format: 'physis-spine-view-classes', version: 1, classes: CLASSES, headOutputs: 10 }), 'c.json');
  assert.deepEqual(classes.classes, CLASSES);
  for (const bad of [{ classes: ['a'] }, { classes: ['a', 'a'] }, { classes: CLASSES, headOutputs: 2 }, { format: 'other' }]) {
    assert.throws(() => parseSpineClasses(JSON.stringify({ format: 'physis-spine-view-classes', version: 1, classes: CLASSES, headOutputs: 10, ...bad }), 'c.json'), OodModelError);
  }
  const reject = { format: 'physis-spine-view-reject', version: 1, threshold: 0.93, targetAccuracy: 0.99, achieved: true, devCoverage: 0.8, devAcceptedAccuracy: null, devFilms: 12 };
  assert.equal(parseSpineReject(JSON.stringify(reject), 'r.json').threshold, 0.93);
  assert.throws(() => parseSpineReject(JSON.stringify({ ...reject, threshold: 1.5 }), 'r.json'), OodModelError);
});

void test('evaluate and report on made-up outputs: accuracy, macro-F1, ECE, the reject threshold; the report writes', () => {
  const items = [0, 1, 2, 2].map((k, i) => ({ id: `f${i}`, path: `/x/${i}.png`, className: CLASSES[k], classIndex: k, classes: CLASSES, patientKey: `p${i}`, view: 'AP', simulated: k < 2, weight: 1 })) as Item[];
  // softmax([4,0,0]) ≈ 0.96 right; [0,4,0] right; [3,0,0] ≈ 0.91 wrong (reference 2); [0,0,4] right
  const outputs = [[4, 0, 0], [0, 4, 0], [3, 0, 0], [0, 0, 4]].map((l) => Float32Array.from([...l, ...new Array<number>(7).fill(-30)]));
  const m = TASK.evaluate(outputs, items).metrics;
  assert.equal(m['devAccuracy'], 0.75);
  assert.ok(Math.abs((m['devMacroF1'] ?? 0) - (2 / 3 + 1 + 2 / 3) / 3) < 1e-9);
  const p96 = Math.exp(4) / (Math.exp(4) + 2);
  const p91 = Math.exp(3) / (Math.exp(3) + 2);
  // bins: 0.9647 (3 films, all right) and 0.9094 (1 film, wrong)
  assert.ok(Math.abs((m['devEce'] ?? 0) - ((3 / 4) * (1 - p96) + (1 / 4) * p91)) < 1e-6, `${m['devEce']}`);
  const r = TASK.report(outputs, items, { title: 'tiny', facts: {}, data: 'made-up films' });
  const names = r.metrics.map((x) => x.name);
  for (const n of ['accuracy', 'macroF1', 'ece', 'accuracy[view=AP]', 'precision[class=ap_preop]', 'recall[class=ap_postop_fusion]']) assert.ok(names.includes(n), n);
  const dir = mkdtempSync(join(tmpdir(), 'spine-report-'));
  const { htmlPath, jsonPath } = r.write(dir);
  assert.ok(existsSync(htmlPath));
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { reject: { atThreshold: { threshold: number; coverage: number } }; notes: string[] };
  // the wrong film has the lowest confidence: the threshold answers the other three
  assert.ok(Math.abs(json.reject.atThreshold.threshold - p96) < 1e-6);
  assert.equal(json.reject.atThreshold.coverage, 0.75);
  assert.match(json.notes.join(' '), /simulated/);
  assert.match(readFileSync(htmlPath, 'utf8'), /Spine Deformity 2024/);
});
