/**
 * The hand evaluation's saliency measure: where the bone-age heat maps fall against the input's Otsu foreground, at the
 * feature map predict shows (two stages before the last) and at the last, as metrics, a report table and overlays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../../src/models/index.js';
import { HAND_BONE_AGE_RECIPE, HAND_BONE_AGE_TASK, measureHandSaliency } from '../../../src/tasks/hand-bone-age/index.js';
import { manualSeed } from '../../../src/torch/index.js';
import { writeBlobPng } from '../../infer/fixtures/tiny-bone-age.js';

void test('measureHandSaliency scores the shown map (HiResCAM) and two Grad-CAM maps against the bright foreground, with a table and overlays on the film', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-hand-saliency-'));
  try {
    manualSeed(3);
    const model = createModel('resnet18', HAND_BONE_AGE_TASK.modelOptions({ ...HAND_BONE_AGE_RECIPE, inputSize: 64 }));
    // the head starts at the mean training age, so its ReLU output is positive and passes a gradient
    HAND_BONE_AGE_TASK.initModel?.(model, [{ id: 'bias', path: 'bias', boneAgeMonths: 120, sex: 'M' }]);
    model.eval();
    const films = [0, 1, 2, 3].map((k) => ({ id: `blob-${k}`, path: writeBlobPng(join(dir, `blob-${k}.png`), k, 0.05), sex: k % 2 === 0 ? ('F' as const) : ('M' as const) }));
    const r = await measureHandSaliency(model, films, { size: 64, fit: 'stretch', crop: false });
    // the blob (an ellipse of radii 14 × 22 on a 48 × 64 film) covers π·14·22 / (48·64) ≈ 31% of the squashed input
    const area = r.metrics['handShareOfInput'] as number;
    assert.ok(Math.abs(area - (Math.PI * 14 * 22) / (48 * 64)) < 0.04, `foreground share ${area}`);
    for (const prefix of ['heatmap', 'heatmapGradCam', 'heatmapLastStageGradCam']) for (const key of ['TopTenthOnHand', 'PeakOnHand', 'EnergyOnHand'].map((k) => `${prefix}${k}`)) {
      const v = r.metrics[key];
      assert.ok(v !== undefined && v >= 0 && v <= 1, `${key} = ${v}`);
    }
    const table = r.tables[0];
    assert.ok(table);
    assert.deepEqual(
      table.rows.map((row) => row[0]),
      ['HiResCAM (positive), 2 before the last (shown by predict), 8×8', 'Grad-CAM, 2 before the last, 8×8', 'Grad-CAM, the last, 2×2'],
      'a ResNet at 64 px: layer2 is 8 × 8, the last map 2 × 2',
    );
    assert.deepEqual(table.rows.slice(1).map((row) => row[1]), ['4', '4'], 'every film has a signed Grad-CAM map');
    assert.equal(r.images.length, 3);
    const first = r.images[0];
    assert.ok(first && first.caption.startsWith('blob-0 (F): HiResCAM of the bone age on the 8×8 feature map, on the film'));
    assert.equal(Buffer.from(first.bytes.subarray(1, 4)).toString(), 'PNG');
    assert.equal(Buffer.from(first.bytes).readUInt32BE(16), 48, 'the overlay is the film at its own width');
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
