import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadBundle } from '../../src/infer/index.js';
import { HAND_BONE_AGE_DEFAULT_CONFIG, labelsInSplit, readBoneAgeLabels, type BoneAgeLabel } from '../../src/tasks/index.js';
import { evaluateBoneAgeBundle, loadBundleOodModel, readJsonl, trainBoneAge, type EpochRecord } from '../../src/train/index.js';

const LABELS = resolve('../shared/data/rsna-hand/labels.csv');
const skip = existsSync(LABELS) ? false : `no ${LABELS} (../shared absent): tiny bone-age training not run`;

const item = (r: BoneAgeLabel): { path: string; boneAgeMonths: number; sex: 'M' | 'F'; id: string } => ({
  path: r.path,
  boneAgeMonths: r.boneAgeMonths,
  sex: r.sex,
  id: r.file,
});

// tiny_rsna_40x64: 40 RSNA training images, 16 dev images, 64 px, batch 8, 2 epochs, no augmentation
const CONFIG = { ...HAND_BONE_AGE_DEFAULT_CONFIG, inputSize: 64, epochs: 2, batchSize: 8, augmentation: { ...HAND_BONE_AGE_DEFAULT_CONFIG.augmentation, rotationDeg: 0 } };

void test('tiny bone-age training on real radiographs: loss falls, bundle + log + report written, resume reproduces an uninterrupted run', { skip }, async () => {
  const rows = readBoneAgeLabels(LABELS);
  const train = labelsInSplit(rows, 'train').slice(0, 40).map(item);
  const dev = labelsInSplit(rows, 'dev').slice(0, 16).map(item);
  const out = mkdtempSync(join(tmpdir(), 'physis-train-'));
  try {
    // first run: interrupted after epoch 0 (onEpoch throws), as a killed process would be
    await assert.rejects(
      trainBoneAge({
        train,
        dev,
        outDir: out,
        config: CONFIG,
        onEpoch: (e) => {
          if (e.epoch === 0) throw new Error('simulated interruption');
        },
      }),
      /simulated interruption/,
    );
    assert.ok(existsSync(join(out, 'checkpoint', 'checkpoint.json')));
    const seen: EpochRecord[] = [];
    const result = await trainBoneAge({ train, dev, outDir: out, config: CONFIG, resume: true, onEpoch: (e) => seen.push(e) });
    assert.deepEqual(seen.map((e) => e.epoch), [1], 'the resumed run trains only the missing epoch');
    const log = readJsonl(join(out, 'train.jsonl')) as unknown as EpochRecord[];
    assert.deepEqual(log.map((e) => e.epoch), [0, 1]);
    const [e0, e1] = log;
    assert.ok(e0 && e1);
    assert.ok(e1.trainLossMonths < e0.trainLossMonths, `training loss falls: ${e0.trainLossMonths} -> ${e1.trainLossMonths}`);
    assert.ok(Number.isFinite(result.bestDevMaeMonths) && result.bestDevMaeMonths > 0);
    const bundle = loadBundle(out);
    assert.equal(bundle.card.task, 'hand-bone-age');
    assert.deepEqual(bundle.card.input.shape, [1, 64, 64]);
    assert.equal(bundle.card.metrics.find((m) => m.name === 'mae')?.value, result.bestDevMaeMonths);
    const coverage = bundle.card.metrics.find((m) => m.name === 'interval90Coverage')?.value;
    assert.ok(coverage !== undefined && coverage >= 0.9, `dev coverage of the 90% interval: ${coverage}`);
    assert.ok((bundle.card.metrics.find((m) => m.name === 'interval90Scale')?.value ?? 0) > 0);
    const ood = loadBundleOodModel(bundle);
    assert.equal(ood?.n, 40, 'OOD feature distribution measured on the 40 training images');
    const report = JSON.parse(readFileSync(result.reportJson, 'utf8')) as { metrics: { overall: { mae: number; n: number } } };
    assert.equal(report.metrics.overall.n, 16);
    assert.match(readFileSync(result.reportHtml, 'utf8'), /Bland-Altman/);
    // the same seed without the interruption gives bit-identical weights
    const straight = join(out, 'straight');
    await trainBoneAge({ train, dev, outDir: straight, config: CONFIG, ttaViews: 0 });
    assert.equal(loadBundle(straight).card.files.weights.sha256, bundle.card.files.weights.sha256, 'deterministic and resumable');
    // evaluating the bundle reproduces the dev MAE recorded in its card
    const evaluated = await evaluateBoneAgeBundle(out, dev, { outDir: join(out, 'eval'), dataSummary: 'tiny dev' });
    assert.ok(Math.abs(evaluated.maeMonths - result.bestDevMaeMonths) < 1e-3, `${evaluated.maeMonths} vs ${result.bestDevMaeMonths}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
