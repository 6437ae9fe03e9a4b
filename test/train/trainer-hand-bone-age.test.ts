/**
 * The generic trainer on the hand-bone-age task and real RSNA radiographs (../shared): the loss falls, the bundle
 * carries the dev MAE, the calibrated interval and the OOD statistics, resume reproduces an uninterrupted run, and
 * evaluating the bundle reproduces the dev MAE its card records. Also the task's start at the mean training age.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBundle } from '../../src/infer/index.js';
import { createModel } from '../../src/models/index.js';
import {
  closeTaskModels,
  evaluateModels,
  HAND_BONE_AGE_RECIPE,
  HAND_BONE_AGE_TASK,
  handBoneAge,
  openTaskModels,
} from '../../src/tasks/index.js';
import { readJsonl, trainModel, type EpochRecord, type TrainOptions } from '../../src/train/index.js';

const LABELS = resolve('../shared/data/rsna-hand/labels.csv');
const skip = existsSync(LABELS) ? false : `no ${LABELS} (../shared absent): tiny bone-age training not run`;

type HandItem = handBoneAge.HandItem;

void test('the hand task starts its output at the mean training age (both units of a per-sex head alike)', () => {
  const model = createModel('resnet18', HAND_BONE_AGE_TASK.modelOptions(HAND_BONE_AGE_RECIPE));
  try {
    const items: HandItem[] = [
      { id: 'a', path: 'a.png', boneAgeMonths: 100, sex: 'M' },
      { id: 'b', path: 'b.png', boneAgeMonths: 154, sex: 'F' },
    ];
    HAND_BONE_AGE_TASK.initModel?.(model, items);
    const bias = model.namedParameters().find(([n]) => n === 'fc.bias')?.[1];
    assert.deepEqual([...(bias?.toFloat32Array() ?? [])], [127, 127]);
  } finally {
    model.dispose();
  }
  const single = createModel('resnet18', HAND_BONE_AGE_TASK.modelOptions({ ...HAND_BONE_AGE_RECIPE, sexSpecificHeads: false } as typeof HAND_BONE_AGE_RECIPE));
  try {
    HAND_BONE_AGE_TASK.initModel?.(single, [
      { id: 'a', path: 'a.png', boneAgeMonths: 100, sex: 'M' },
      { id: 'b', path: 'b.png', boneAgeMonths: 154, sex: 'F' },
    ]);
    assert.deepEqual([...(single.namedParameters().find(([n]) => n === 'fc.bias')?.[1].toFloat32Array() ?? [])], [127]);
  } finally {
    single.dispose();
  }
});

// tiny_rsna_40x64: 40 RSNA training images, 16 dev images, 64 px, batch 8, 2 epochs, no rotation
const RECIPE = {
  ...HAND_BONE_AGE_RECIPE,
  inputSize: 64,
  epochs: 2,
  batchSize: 8,
  augmentation: { ...HAND_BONE_AGE_RECIPE.augmentation, rotationDeg: 0 },
};

void test(
  'tiny bone-age training on real radiographs: loss falls, bundle + log + report written, resume reproduces an uninterrupted run',
  { skip },
  async (t) => {
    const rows = HAND_BONE_AGE_TASK.readLabels(LABELS);
    const train = rows.filter((r) => r.split === 'train').slice(0, 40);
    const dev = rows.filter((r) => r.split === 'dev').slice(0, 16);
    const out = mkdtempSync(join(tmpdir(), 'physis-train-hand-'));
    const options = (outDir: string, o: Partial<TrainOptions<HandItem>> = {}): TrainOptions<HandItem> => ({
      train,
      dev,
      outDir,
      recipe: RECIPE,
      threads: 1,
      modelId: 'tiny-hand',
      dataSummary: 'tiny_rsna_40x64',
      ...o,
    });
    try {
      // first run: interrupted after epoch 0 (onEpoch throws), as a killed process would be
      await assert.rejects(
        trainModel(
          HAND_BONE_AGE_TASK,
          options(out, {
            onEpoch: (e) => {
              if (e.epoch === 0) throw new Error('simulated interruption');
            },
          }),
        ),
        /simulated interruption/,
      );
      assert.ok(existsSync(join(out, 'checkpoint', 'checkpoint.json')));
      const seen: EpochRecord[] = [];
      const result = await trainModel(
        HAND_BONE_AGE_TASK,
        options(out, { resume: true, onEpoch: (e) => seen.push(e) }),
      );
      assert.deepEqual(
        seen.map((e) => e.epoch),
        [1],
        'the resumed run trains only the missing epoch',
      );
      const log = readJsonl(join(out, 'train.jsonl')) as unknown as EpochRecord[];
      assert.deepEqual(
        log.map((e) => e.epoch),
        [0, 1],
      );
      const [e0, e1] = log;
      assert.ok(e0 && e1);
      assert.ok(e1.trainLoss < e0.trainLoss, `training loss falls: ${e0.trainLoss} -> ${e1.trainLoss}`);
      const mae = result.evaluation.metrics['devMaeMonths'] ?? Number.NaN;
      assert.ok(Number.isFinite(mae) && mae > 0, `dev MAE ${mae}`);
      const bundle = loadBundle(out);
      assert.equal(bundle.card.task, 'hand-bone-age');
      assert.deepEqual(bundle.card.input.shape, [1, 64, 64]);
      assert.equal(bundle.card.metrics.find((m) => m.name === 'mae')?.value, mae);
      const coverage = bundle.card.metrics.find((m) => m.name === 'interval90Coverage')?.value;
      assert.ok(coverage !== undefined && coverage >= 0.9, `dev coverage of the 90% interval: ${coverage}`);
      assert.ok((bundle.card.metrics.find((m) => m.name === 'interval90Scale')?.value ?? 0) > 0);
      const ood = bundle.artifacts.get(handBoneAge.OOD_ROLE);
      assert.ok(ood, 'the bundle carries its OOD statistics');
      assert.equal(
        handBoneAge.parseOodModel(new TextDecoder().decode(ood.bytes), ood.path).n,
        40,
        'OOD feature distribution measured on the 40 training images',
      );
      const report = JSON.parse(readFileSync(result.reportJson, 'utf8')) as {
        metrics: { overall: { mae: number; n: number } };
      };
      assert.equal(report.metrics.overall.n, 16);
      assert.match(readFileSync(result.reportHtml, 'utf8'), /Bland-Altman/);
      // the same seed without the interruption gives bit-identical weights
      const straight = join(out, 'straight');
      await trainModel(HAND_BONE_AGE_TASK, options(straight));
      assert.equal(
        loadBundle(straight).card.files.weights.sha256,
        bundle.card.files.weights.sha256,
        'deterministic and resumable',
      );
      // evaluating the bundle reproduces the dev MAE recorded in its card, and knows the films were its dev set; with
      // 40 training films the OOD statistics are too tight for other films, so this pass goes without them (as a
      // bundle without ood.json would), and the check itself is run on the training films, which it must accept
      const models = openTaskModels(HAND_BONE_AGE_TASK, out);
      try {
        const member = models.set.members[0];
        const state = member && models.states.get(member);
        assert.ok(member && state?.ood);
        const unchecked = { ...models, states: new Map([[member, { ...state, ood: null }]]) };
        const evaluated = await evaluateModels(unchecked, dev, {
          outDir: join(out, 'eval'),
          dataSummary: 'tiny dev',
        });
        assert.deepEqual(evaluated.overlap, [{ member: 'tiny-hand', train: 0, dev: 16 }]);
        assert.equal(evaluated.accepted, 16);
        const got = evaluated.metrics['devMaeMonths'] ?? Number.NaN;
        assert.ok(Math.abs(got - mae) < 1e-3, `${got} vs ${mae}`);
        const checked = await evaluateModels(models, train, {
          outDir: join(out, 'eval-train'),
          dataSummary: 'tiny train',
        });
        assert.deepEqual([checked.accepted, checked.refused], [40, []]);
        assert.deepEqual(checked.overlap, [{ member: 'tiny-hand', train: 40, dev: 0 }]);
        await t.test(
          'evaluating films the check refuses, every one: accepted 0 and the reasons, no metrics, no report',
          async () => {
            const refused = await evaluateModels(models, dev, {
              outDir: join(out, 'eval-refused'),
              dataSummary: 'tiny dev',
            });
            assert.equal(refused.accepted, 0);
            assert.equal(refused.refused.length, 16);
            assert.ok(
              refused.refused.every((r) =>
                /not (like|shaped like) the training hand radiographs/.test(r.reason),
              ),
            );
            assert.deepEqual(refused.metrics, {});
            assert.equal(refused.reportHtml, null);
          },
        );
      } finally {
        await closeTaskModels(models);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
