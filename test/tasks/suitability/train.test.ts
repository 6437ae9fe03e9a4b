/**
 * The gate trained end to end on a few films drawn in code (1 epoch, 32 px): the bundle holds its open-set file, and
 * the card measures every category of the dev films for every task and counts the simulated training films by kind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suitability, SUITABILITY_TASK, trainTask } from '../../../src/tasks/index.js';
import { encodeGrayPng } from '../../../src/radiograph/index.js';

/** A 48-px film whose pattern depends on its kind and index (stripes, rings or blobs), so the heads have something to fit. */
function film(kind: number, i: number): Uint8Array {
  const n = 48;
  const data = new Float32Array(n * n).map((_, j) => {
    const x = (j % n) / n - 0.5 + i * 0.01;
    const y = Math.floor(j / n) / n - 0.5;
    const v = kind === 0 ? Math.sin(20 * x) : kind === 1 ? Math.cos(30 * Math.hypot(x, y)) : Math.sin(9 * x * y * (i + 1));
    return 0.5 + 0.4 * v * (y + 0.6);
  });
  return encodeGrayPng(n, n, data);
}

void test('a gate trained on a few drawn films: gate file in the bundle, per-category card metrics, and the simulated training films counted by kind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-gate-train-'));
  try {
    mkdirSync(join(dir, 'films'));
    const kinds = [
      { anatomy: 'hand', view: 'frontal', laterality: 'left', category: 'hand', simulated: '' },
      { anatomy: 'knee', view: 'frontal', laterality: '', category: 'knee', simulated: '' },
      { anatomy: 'skull', view: 'lateral', laterality: '', category: 'skull-infant-phantom-lateral', simulated: '1' },
    ];
    const lines = ['file,anatomy,view,modality,laterality,category,split,simulated'];
    kinds.forEach((k, kind) => {
      for (let i = 0; i < 8; i++) {
        const file = `films/${k.category}-${i}.png`;
        writeFileSync(join(dir, file), film(kind, i));
        lines.push([file, k.anatomy, k.view, 'radiograph', k.laterality, k.category, i < 6 ? 'train' : 'dev', k.simulated].join(','));
      }
    });
    writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
    assert.equal(suitability.readSuitabilityLabels(join(dir, 'labels.csv')).filter((r) => r.simulated === true).length, 8);
    const out = join(dir, 'gate');
    await trainTask(SUITABILITY_TASK, { data: dir, outDir: out, recipe: { ...suitability.SUITABILITY_RECIPE, inputSize: 32, epochs: 1, batchSize: 6 }, workers: 0, threads: 1 });
    const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as { metrics: { name: string; value: number; data: string }[]; files: { artifacts: { path: string; role: string }[] } };
    const metric = (name: string) => card.metrics.find((m) => m.name === name);
    assert.ok(card.files.artifacts.some((f) => f.path === suitability.GATE_FILE && f.role === suitability.GATE_ROLE), 'the open-set statistics are in the bundle');
    const simulated = metric('simulatedTrainingFilms');
    assert.equal(simulated?.value, 6, 'the six training films of the phantom category');
    assert.match(simulated?.data ?? '', /^of the 18 training films, in skull-infant-phantom-lateral: simulated \(Physis phantoms\)/);
    for (const c of ['hand', 'knee', 'skull-infant-phantom-lateral']) assert.ok(metric(`unfamiliar.${c}`) !== undefined, `unfamiliar.${c}`);
    assert.ok(metric('accepted.hand-bone-age.hand') !== undefined && metric('refused.hand-bone-age.knee') !== undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
