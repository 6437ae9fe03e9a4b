/**
 * The generic trainer on the synthetic shapes task (fixtures/shapes-task.ts): resume reproduces an uninterrupted run
 * bit for bit, a diverging loss stops the run at its step, the output folder is guarded (finished bundle, live lock,
 * nothing to resume, too little data), the bundle hashes its artifacts, and weight transfer and freezing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleIntegrityError, loadBundle } from '../../src/infer/index.js';
import { createModel, type ZooModel } from '../../src/models/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK } from '../../src/tasks/index.js';
import { manualSeed, saveSafetensors, type Tensor } from '../../src/torch/index.js';
import { tinyBoneAgeBundle } from '../infer/fixtures/tiny-bone-age.js';
import {
  acquireRunLock,
  CHECKPOINT_FILE,
  DatasetTooSmallError,
  initFromWeights,
  NothingToResumeError,
  OutputExistsError,
  readJsonl,
  RUN_LOCK_FILE,
  RunLockedError,
  setBackboneFrozen,
  TRAINING_ROWS_FILE,
  TRAINING_ROWS_ROLE,
  TrainDivergedError,
  trainModel,
  type EpochRecord,
  type TrainOptions,
  type TrainRecipe,
} from '../../src/train/index.js';
import {
  SHAPES_RECIPE,
  SHAPES_ROLE,
  SHAPES_TASK,
  writeShapeFilms,
  type ShapeItem,
} from './fixtures/shapes-task.js';

// shapes_6x32 / shapes_4x32: 6 training and 4 dev films, batch 3 (two steps an epoch), 2 epochs, augmentation on
const RECIPE: TrainRecipe = { ...SHAPES_RECIPE, epochs: 2, batchSize: 3 };

let root = '';
let train: ShapeItem[] = [];
let dev: ShapeItem[] = [];
let runs = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'physis-trainer-'));
  train = writeShapeFilms(root, 6, 0);
  dev = writeShapeFilms(root, 4, 6);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** A fresh output folder. */
const outDir = (): string => join(root, `run-${++runs}`);

const options = (out: string, o: Partial<TrainOptions<ShapeItem>> = {}): TrainOptions<ShapeItem> => ({
  train,
  dev,
  outDir: out,
  recipe: RECIPE,
  workers: 0,
  threads: 2,
  modelId: 'shapes-test',
  dataSummary: 'shapes_6x32 / shapes_4x32',
  ...o,
});

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

void test('an interrupted run resumed from its checkpoint gives bit-identical weights to an uninterrupted one', async () => {
  const out = outDir();
  const recipe = RECIPE;
  await assert.rejects(
    trainModel(
      SHAPES_TASK,
      options(out, {
        recipe,
        onEpoch: (e) => {
          if (e.epoch === 0) throw new Error('simulated interruption');
        },
      }),
    ),
    /simulated interruption/,
  );
  assert.ok(existsSync(join(out, 'checkpoint', CHECKPOINT_FILE)), 'the checkpoint of epoch 1 is on disk');
  assert.equal(existsSync(join(out, 'card.json')), false, 'no bundle from an interrupted run');
  assert.equal(existsSync(join(out, RUN_LOCK_FILE)), false, 'the lock is released when the run fails');
  const seen: number[] = [];
  const resumed = await trainModel(
    SHAPES_TASK,
    options(out, { recipe, resume: true, onEpoch: (e) => seen.push(e.epoch) }),
  );
  assert.deepEqual(seen, [1], 'the resumed run trains only the missing epoch');
  assert.deepEqual(
    (readJsonl(join(out, 'train.jsonl')) as unknown as EpochRecord[]).map((e) => e.epoch),
    [0, 1],
  );
  const straight = await trainModel(SHAPES_TASK, options(outDir(), { recipe }));
  assert.equal(
    resumed.bundle.card.files.weights.sha256,
    straight.bundle.card.files.weights.sha256,
    'deterministic and resumable',
  );
  assert.deepEqual(resumed.devOutputs, straight.devOutputs);
  // the comparison can fail: another seed gives other weights
  const other = await trainModel(
    SHAPES_TASK,
    options(outDir(), { recipe: { ...recipe, seed: recipe.seed + 1 } }),
  );
  assert.notEqual(other.bundle.card.files.weights.sha256, straight.bundle.card.files.weights.sha256);
});

/** The shapes task whose loss is NaN from the given (1-based) loss call on. */
function nanFrom(call: number): typeof SHAPES_TASK {
  let calls = 0;
  return {
    ...SHAPES_TASK,
    loss: (output: Tensor, target: Tensor) => {
      const l = SHAPES_TASK.loss(output, target);
      return ++calls >= call ? l.mul(Number.NaN) : l;
    },
  };
}

const DIVERGING: readonly {
  name: string;
  task: typeof SHAPES_TASK;
  recipe: TrainRecipe;
  message: RegExp;
  epochsDone: number;
}[] = [
  // two steps an epoch: the third loss is epoch 2, step 1
  {
    name: 'a loss that turns NaN in epoch 2',
    task: nanFrom(3),
    recipe: RECIPE,
    message: /loss NaN at epoch 2, step 1 \(lr /,
    epochsDone: 1,
  },
  {
    name: 'a NaN loss at the first step',
    task: nanFrom(1),
    recipe: RECIPE,
    message: /loss NaN at epoch 1, step 1 /,
    epochsDone: 0,
  },
  // the first step throws the weights to ±1e30-scale values; the next forward's loss is no longer finite
  {
    name: 'learning rate 1e30',
    task: SHAPES_TASK,
    recipe: { ...RECIPE, optimizer: { lr: 1e30, weightDecay: 0 } },
    message: /epoch 1\b/,
    epochsDone: 0,
  },
];

for (const c of DIVERGING) {
  void test(`TrainDivergedError at the diverging epoch: ${c.name}`, async () => {
    const out = outDir();
    const seen: number[] = [];
    await assert.rejects(
      trainModel(c.task, options(out, { recipe: c.recipe, onEpoch: (e) => seen.push(e.epoch) })),
      (e: unknown) => {
        assert.ok(e instanceof TrainDivergedError, String(e));
        assert.match(e.message, c.message);
        return true;
      },
    );
    assert.equal(seen.length, c.epochsDone, 'the epochs before the divergence finished');
    const ckpt = join(out, 'checkpoint', CHECKPOINT_FILE);
    if (c.epochsDone === 0) {
      assert.equal(existsSync(ckpt), false);
    } else {
      assert.equal(
        (JSON.parse(readFileSync(ckpt, 'utf8')) as { epoch: number }).epoch,
        c.epochsDone,
        'the last good epoch is kept',
      );
    }
    assert.equal(existsSync(join(out, 'card.json')), false, 'no bundle');
    assert.equal(existsSync(join(out, RUN_LOCK_FILE)), false, 'lock released');
  });
}

// refused before anything is written: the output folder is not even created
const REFUSED: readonly {
  name: string;
  o: Partial<TrainOptions<ShapeItem>>;
  error: new (...args: never[]) => Error;
  message: RegExp;
}[] = [
  {
    name: 'resume without a checkpoint',
    o: { resume: true },
    error: NothingToResumeError,
    message: /resume given but .* has no checkpoint/,
  },
  {
    name: 'no training film',
    o: { train: [] },
    error: DatasetTooSmallError,
    message: /^0 training rows: training needs at least 2/,
  },
  { name: 'no dev film', o: { dev: [] }, error: DatasetTooSmallError, message: /0 dev rows/ },
];

for (const c of REFUSED) {
  void test(`trainModel refuses ${c.name} (${c.error.name}) before writing anything`, async () => {
    const out = outDir();
    await assert.rejects(trainModel(SHAPES_TASK, options(out, c.o)), (e: unknown) => {
      assert.ok(e instanceof c.error, String(e));
      assert.match((e as Error).message, c.message);
      return true;
    });
    assert.equal(existsSync(out), false);
  });
}

void test('a finished bundle is not overwritten (OutputExistsError) unless force; its card hashes every artifact', async () => {
  const out = outDir();
  const recipe = { ...RECIPE, epochs: 1 };
  const first = await trainModel(SHAPES_TASK, options(out, { recipe }));
  assert.equal(existsSync(join(out, RUN_LOCK_FILE)), false, 'the lock is released after the run');
  const cardBefore = readFileSync(join(out, 'card.json'), 'utf8');
  await assert.rejects(trainModel(SHAPES_TASK, options(out, { recipe })), (e: unknown) => {
    assert.ok(e instanceof OutputExistsError, String(e));
    assert.match(e.message, /already holds a finished bundle \(card\.json\)/);
    return true;
  });
  assert.equal(readFileSync(join(out, 'card.json'), 'utf8'), cardBefore, 'the refused run changed nothing');

  // the card lists the task's artifact and the training rows, each with the sha256 of its file
  const card = loadBundle(out).card;
  const listed = new Map((card.files.artifacts ?? []).map((a) => [a.role, a]));
  assert.deepEqual([...listed.keys()].sort(), [SHAPES_ROLE, TRAINING_ROWS_ROLE].sort());
  for (const a of listed.values()) assert.equal(a.sha256, sha256(join(out, a.path)), a.path);
  assert.equal(listed.get(TRAINING_ROWS_ROLE)?.path, TRAINING_ROWS_FILE);
  const rows = JSON.parse(readFileSync(join(out, TRAINING_ROWS_FILE), 'utf8')) as {
    train: { id: string; sha256: string }[];
    dev: { id: string; sha256: string }[];
  };
  assert.deepEqual(
    rows.train,
    train.map((i) => ({ id: i.id, sha256: sha256(i.path) })),
  );
  assert.deepEqual(
    rows.dev,
    dev.map((i) => ({ id: i.id, sha256: sha256(i.path) })),
  );
  assert.equal(card.task, SHAPES_TASK.name);
  assert.deepEqual(card.input.shape, [1, 32, 32]);
  assert.deepEqual(card.architecture, { name: 'resnet18', options: { ...SHAPES_TASK.modelOptions(recipe) } });
  assert.ok(
    card.metrics.some((m) => m.name === 'accuracy') && card.metrics.some((m) => m.name === 'threshold'),
  );
  assert.equal(card.metrics.find((m) => m.name === 'bce')?.value, first.evaluation.metrics['devBce']);

  // an edited artifact fails verification
  writeFileSync(
    join(out, TRAINING_ROWS_FILE),
    readFileSync(join(out, TRAINING_ROWS_FILE), 'utf8').replace('"train"', '"train" '),
  );
  assert.throws(() => loadBundle(out), BundleIntegrityError);

  const forced = await trainModel(SHAPES_TASK, options(out, { recipe, force: true }));
  assert.equal(
    forced.bundle.card.files.weights.sha256,
    first.bundle.card.files.weights.sha256,
    'force retrains the same run',
  );
  assert.doesNotThrow(() => loadBundle(out), 'force rewrote every file');
});

const LOCKS: readonly { name: string; hold: (out: string) => () => void; message: RegExp }[] = [
  {
    name: 'another run of this process',
    hold: (out) => {
      const lock = acquireRunLock(out, { command: 'physis train first' });
      return () => lock.release();
    },
    message: new RegExp(`pid ${process.pid} .*\\(physis train first\\)`),
  },
  {
    name: 'a live other process (the parent of this one)',
    hold: (out) => {
      acquireRunLock(out).release(); // creates the folder
      const info = {
        pid: process.ppid,
        hostname: hostname(),
        startedAt: new Date().toISOString(),
        command: 'physis train other',
        runId: 'other-run',
      };
      writeFileSync(join(out, RUN_LOCK_FILE), JSON.stringify(info));
      return () => rmSync(join(out, RUN_LOCK_FILE));
    },
    message: new RegExp(`pid ${process.ppid} .*\\(physis train other\\)`),
  },
];

for (const c of LOCKS) {
  void test(`a folder locked by ${c.name} is refused with RunLockedError and its lock left alone`, async () => {
    const out = outDir();
    const release = c.hold(out);
    const lockText = readFileSync(join(out, RUN_LOCK_FILE), 'utf8');
    try {
      await assert.rejects(
        trainModel(SHAPES_TASK, options(out, { recipe: { ...RECIPE, epochs: 1 } })),
        (e: unknown) => {
          assert.ok(e instanceof RunLockedError, String(e));
          assert.match(e.message, c.message);
          return true;
        },
      );
      assert.equal(
        readFileSync(join(out, RUN_LOCK_FILE), 'utf8'),
        lockText,
        'the other run still holds its lock',
      );
      assert.equal(existsSync(join(out, 'checkpoint')), false, 'nothing written');
    } finally {
      release();
    }
  });
}

const param = (m: ZooModel, name: string): Tensor => {
  const p = m.namedParameters().find(([n]) => n === name)?.[1];
  assert.ok(p, name);
  return p;
};

const HAND_OPTIONS = HAND_BONE_AGE_TASK.modelOptions(HAND_BONE_AGE_RECIPE);

void test('initFromWeights copies matching names and shapes, extends a head by new input columns, and leaves a different head fresh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-init-'));
  manualSeed(1);
  const hand = createModel('resnet18', HAND_OPTIONS);
  manualSeed(2);
  // knee: sex and chronological age as two extra inputs -> fc.weight is [2, 514] (one unit per sex)
  const knee = createModel('resnet18', { ...HAND_OPTIONS, extraInputs: 2 });
  try {
    saveSafetensors(join(dir, 'hand.safetensors'), hand.stateDict());
    const freshFc = param(knee, 'fc.weight').toFloat32Array();
    const freshBias = param(knee, 'fc.bias').toFloat32Array();
    const freshConv = param(knee, 'conv1.weight').toFloat32Array();
    const report = initFromWeights(knee, join(dir, 'hand.safetensors'));
    // the knee's head has one more input column (age after sex): the hand's 513 columns and bias transfer, the new
    // column starts at zero
    assert.deepEqual(report.skipped, []);
    assert.equal(report.weightsSha256, sha256(join(dir, 'hand.safetensors')), 'the file it read, by hash');
    assert.ok(report.loaded.includes('conv1.weight') && report.loaded.includes('layer4.1.bn2.running_var') && report.loaded.includes('fc.bias'));
    assert.ok(report.loaded.includes('fc.weight (its 513 input columns; the 1 new ones start at zero)'));
    const w = param(knee, 'fc.weight').toFloat32Array();
    const hw = param(hand, 'fc.weight').toFloat32Array();
    for (let o = 0; o < 2; o++) {
      assert.deepEqual(w.slice(o * 514, o * 514 + 513), hw.slice(o * 513, (o + 1) * 513));
      assert.equal(w[o * 514 + 513], 0);
    }
    assert.deepEqual(param(knee, 'fc.bias').toFloat32Array(), param(hand, 'fc.bias').toFloat32Array());
    assert.notDeepEqual(freshBias, param(hand, 'fc.bias').toFloat32Array());
    // a head of other outputs keeps its own weight and bias
    manualSeed(3);
    const other = createModel('resnet18', { ...HAND_OPTIONS, head: { kind: 'regression', outputs: 3, relu: false } });
    const otherBias = param(other, 'fc.bias').toFloat32Array();
    const r2 = initFromWeights(other, join(dir, 'hand.safetensors'));
    assert.ok(r2.skipped.some((x) => x.startsWith('fc.weight (')) && r2.skipped.some((x) => x.startsWith("fc.bias (the head's weight does not fit")));
    assert.deepEqual(param(other, 'fc.bias').toFloat32Array(), otherBias);
    other.dispose();
    assert.deepEqual(
      param(knee, 'conv1.weight').toFloat32Array(),
      param(hand, 'conv1.weight').toFloat32Array(),
    );
    assert.notDeepEqual(
      freshConv,
      param(hand, 'conv1.weight').toFloat32Array(),
      'the seeds gave different starts',
    );
    void freshFc;
  } finally {
    hand.dispose();
    knee.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('setBackboneFrozen stops gradients everywhere but the final layer, and undoes it', () => {
  const m = createModel('resnet18', HAND_OPTIONS);
  try {
    setBackboneFrozen(m, true);
    for (const [name, p] of m.namedParameters()) assert.equal(p.requiresGrad, name.startsWith('fc.'), name);
    setBackboneFrozen(m, false);
    assert.ok(m.parameters().every((p) => p.requiresGrad));
  } finally {
    m.dispose();
  }
});

void test('initFromWeights takes a bundle folder (its verified weights) as well as a safetensors file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-init-bundle-'));
  try {
    const bundle = tinyBoneAgeBundle(join(dir, 'b'), { id: 'tiny', seed: 3, biasMonths: 100 });
    const model = createModel('resnet18', HAND_OPTIONS);
    try {
      const report = initFromWeights(model, bundle.dir);
      assert.deepEqual(report.skipped, []);
      assert.equal(report.weightsSha256, bundle.card.files.weights.sha256, 'a bundle\'s weights by the hash its card records');
      assert.ok(Math.abs((param(model, 'fc.bias').toFloat32Array()[0] as number) - 100) < 0.1, 'the bundle\'s head bias came across');
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
