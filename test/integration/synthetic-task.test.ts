/**
 * Acceptance test of the one generic pipeline: a task defined outside src/ (test/train/fixtures/shapes-task.ts:
 * square or disk on a 32 × 32 synthetic film, its own sample module, threshold and suitability artifact) is
 * registered by name, trained from a labels file with trainTask, evaluated with evaluateModels, and answers and
 * explains single films through openTaskModels + analyseFilm, with nothing in src/ naming it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { loadBundle } from '../../src/infer/index.js';
import {
  analyseFilm,
  closeTaskModels,
  evaluateModels,
  getTask,
  openTaskModels,
  registerTask,
  trainTask,
  unregisterTask,
  type FilmResult,
} from '../../src/tasks/index.js';
import { TRAINING_ROWS_ROLE } from '../../src/train/index.js';
import {
  SHAPES_RECIPE,
  SHAPES_ROLE,
  SHAPES_TASK,
  SHAPES_TASK_NAME,
  writeShapeFilms,
  writeShapeLabels,
  type ShapeItem,
  type ShapeState,
} from '../train/fixtures/shapes-task.js';

let root = '';
let films = '';
const split = (items: ShapeItem[], s: string): ShapeItem[] => items.map((i) => ({ ...i, split: s }));

before(() => {
  root = mkdtempSync(join(tmpdir(), 'physis-synthetic-task-'));
  films = join(root, 'data');
  mkdirSync(films);
  // shapes_24x32 train, shapes_8x32 dev, shapes_8x32 test (never trained on), all different films
  const rows = [
    ...split(writeShapeFilms(films, 24, 0), 'train'),
    ...split(writeShapeFilms(films, 8, 24), 'dev'),
    ...split(writeShapeFilms(films, 8, 32), 'test'),
  ];
  writeShapeLabels(join(films, 'labels.csv'), rows);
  registerTask(SHAPES_TASK);
});

after(() => {
  unregisterTask(SHAPES_TASK_NAME);
  rmSync(root, { recursive: true, force: true });
});

interface ShapeAnswer {
  readonly shape: 'square' | 'disk';
  readonly logit: number;
  readonly threshold: number;
  readonly probabilitySquare: number;
}

function answerOf(r: FilmResult): ShapeAnswer {
  assert.ok(r.answer, `no answer for ${r.file}: ${JSON.stringify(r.rejected ?? r.error)}`);
  return r.answer as unknown as ShapeAnswer;
}

void test('a task defined in code trains, evaluates, predicts and explains through the generic pipeline', async (t) => {
  const started = performance.now();
  const task = getTask(SHAPES_TASK_NAME);
  const outDir = join(root, 'model');

  // train: the labels file's train/dev split; the test rows are left out and said so
  const notes: string[] = [];
  const trained = await trainTask(task, {
    data: films,
    outDir,
    recipe: SHAPES_RECIPE,
    workers: 0,
    threads: 2,
    onNote: (n) => notes.push(n),
  });
  assert.equal(trained.kind, 'single');
  if (trained.kind !== 'single') return;
  const { result } = trained;
  assert.ok(
    notes.some((n) => /8 row\(s\) of split 'test' excluded from training/.test(n)),
    notes.join('\n'),
  );
  assert.equal(result.history.length, SHAPES_RECIPE.epochs);
  const losses = result.history.map((e) => e.trainLoss);
  assert.ok(
    losses.every(Number.isFinite) && (losses.at(-1) as number) < (losses[0] as number),
    `training loss falls: ${losses.join(', ')}`,
  );

  // the bundle verifies (every file against its hash) and says what it is
  const bundle = loadBundle(outDir);
  const card = bundle.card;
  assert.equal(card.id, `${SHAPES_TASK_NAME}-resnet18-32`);
  assert.equal(card.task, SHAPES_TASK_NAME);
  assert.deepEqual(card.input.shape, [1, 32, 32]);
  assert.deepEqual(
    card.outputs.map((o) => o.name),
    ['squareLogit'],
  );
  assert.deepEqual([...bundle.artifacts.keys()].sort(), [SHAPES_ROLE, TRAINING_ROWS_ROLE].sort());
  for (const name of ['accuracy', 'bce', 'threshold', 'accuracyAtThreshold']) {
    const m = card.metrics.find((x) => x.name === name);
    assert.ok(m && Number.isFinite(m.value), `card metric ${name}`);
  }
  assert.match(card.trainingData.summary, /24 train \/ 8 dev images/);
  assert.ok(existsSync(result.reportHtml) && existsSync(result.reportJson));

  const models = openTaskModels(SHAPES_TASK, outDir);
  try {
    // evaluate: the held-out test rows (no overlap), then every row (overlap found by image content)
    const rows = SHAPES_TASK.readLabels(join(films, 'labels.csv'));
    const test = rows.filter((r) => SHAPES_TASK.splitOf(r) === 'test');
    const evaluated = await evaluateModels(models, test, {
      outDir: join(root, 'eval'),
      workers: 0,
      dataSummary: 'shapes test split',
    });
    assert.equal(evaluated.accepted + evaluated.refused.length, 8);
    assert.deepEqual([evaluated.overlap, evaluated.unchecked], [[], []]);
    const accuracy = evaluated.metrics['devAccuracy'];
    assert.ok(accuracy !== undefined && accuracy >= 0 && accuracy <= 1, `accuracy ${accuracy}`);
    assert.ok(Number.isFinite(evaluated.metrics['devBce']));
    const everything = await evaluateModels(models, rows, {
      outDir: join(root, 'eval-all'),
      workers: 0,
      dataSummary: 'all rows',
    });
    assert.deepEqual(everything.overlap, [{ member: card.id, train: 24, dev: 8 }]);

    // predict and explain one film: the answer, the model's id and weights hash, the heat map
    const film = test[0] as ShapeItem;
    const heatmapPath = join(root, 'heat.png');
    const r = await analyseFilm(models, film.path, { given: {}, heatmapPath });
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.rejected, undefined, JSON.stringify(r.rejected));
    assert.equal(r.task, SHAPES_TASK_NAME);
    assert.deepEqual(r.model, {
      id: card.id,
      version: card.version,
      weightsSha256: card.files.weights.sha256,
      dir: outDir,
      backend: 'torch', // the bundle ships no ONNX graph
    });
    const answer = answerOf(r);
    assert.ok(answer.shape === 'square' || answer.shape === 'disk');
    assert.equal(
      answer.threshold,
      card.metrics.find((m) => m.name === 'threshold')?.value,
      'the threshold of the bundle artifact',
    );
    // the pipeline prepares the film as the training loader did: the same logit as the evaluation's (to float noise)
    assert.ok(evaluated.reportJson !== null, 'films were accepted, so there is a report');
    const reported = JSON.parse(readFileSync(evaluated.reportJson, 'utf8')) as {
      rows: { id: string; logit: number }[];
    };
    const logit = reported.rows.find((x) => x.id === film.id)?.logit ?? Number.NaN;
    assert.ok(Math.abs(answer.logit - logit) < 1e-4, `${answer.logit} vs ${logit}`);
    assert.equal(r.heatmap, heatmapPath);
    const png = PNG.sync.read(readFileSync(heatmapPath));
    assert.deepEqual([png.width, png.height], [32, 32]);
    assert.match(r.heatmapMethod ?? '', /^Grad-CAM on the 1×1 feature map/, 'the last feature map of a ResNet at 32 px');
    // a task that asks for the map one stage before the last gets the finer one, and its method says so
    const finer = openTaskModels({ ...SHAPES_TASK, saliencyTarget: () => ({ outputIndex: 0, describe: 'the logit', stagesBeforeLast: 1 }) }, outDir);
    try {
      const f = await analyseFilm(finer, film.path, { given: {}, heatmapPath: join(root, 'heat-finer.png') });
      assert.match(f.heatmapMethod ?? '', /^Grad-CAM of the logit on the 2×2 feature map/);
    } finally {
      await closeTaskModels(finer);
    }
    assert.match(task.format(r), /: (square|disk) \(P\(square\) \d\.\d\d\); heat map /);

    // sane answers: the held-out films, each through the pipeline with the shipped threshold
    const answers = await Promise.all(
      test.map(async (f) => answerOf(await analyseFilm(models, f.path, { given: {} })).shape),
    );
    const correct = answers.filter((a, i) => (a === 'square' ? 1 : 0) === test[i]?.square).length;
    t.diagnostic(`held-out films answered correctly: ${correct} / ${test.length}`);
    assert.ok(correct >= 6, `${correct} of ${test.length} held-out films right`);

    // the task's own check refuses a film (here: every film, with the limit at 0), and no heat map is made for it
    const member = models.set.members[0];
    const state = member && models.states.get(member);
    assert.ok(member && state);
    const strict = {
      ...models,
      states: new Map<typeof member, ShapeState | null>([[member, { ...state, maxDistance: 0 }]]),
    };
    const refused: FilmResult = await analyseFilm(strict, film.path, {
      given: {},
      heatmapPath: join(root, 'refused.png'),
    });
    assert.match(refused.rejected?.reason ?? '', /not like the training shapes/);
    assert.equal(refused.answer, undefined);
    assert.equal(existsSync(join(root, 'refused.png')), false);

    // a film that cannot be read is an error result, not a throw
    const missing = await analyseFilm(models, join(root, 'missing.png'), { given: {} });
    assert.ok(missing.error && missing.answer === undefined);
  } finally {
    await closeTaskModels(models);
  }
  t.diagnostic(`end to end: ${((performance.now() - started) / 1000).toFixed(1)} s`);
});

void test('the registry refuses a second task of the same name and forgets an unregistered one', () => {
  assert.equal(getTask(SHAPES_TASK_NAME), SHAPES_TASK);
  assert.throws(() => registerTask(SHAPES_TASK), /task 'synthetic-shapes' is registered twice/);
  unregisterTask(SHAPES_TASK_NAME);
  assert.throws(() => getTask(SHAPES_TASK_NAME), /unknown task 'synthetic-shapes'; tasks: hand-bone-age/);
  registerTask(SHAPES_TASK); // for the after hook
});
