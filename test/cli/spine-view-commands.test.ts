import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { encodeGrayPng } from '../../src/radiograph/index.js';

const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

function run(argv: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...argv], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A tall 48×96 "spine film": a dark field, a mid-grey column as the spine, and for the post-operative classes bright
 * vertical bars beside it as rods (two long ones for a fusion, two short pairs at the ends for growing rods).
 */
function film(kind: 'preop' | 'fusion' | 'rods', seed: number): Uint8Array {
  const w = 48;
  const h = 96;
  const px = new Float32Array(w * h);
  let s = seed * 9301 + 49297;
  const noise = (): number => ((s = (s * 9301 + 49297) % 233280) / 233280 - 0.5) * 0.06;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const spine = Math.abs(x - 24 - Math.round(3 * Math.sin(y / 15 + seed))) < 5 ? 0.45 : 0.12;
      const rod = (x === 17 || x === 18 || x === 30 || x === 31) && y > 12 && y < 84;
      const bar = kind === 'fusion' ? rod : kind === 'rods' ? rod && (y < 30 || y > 66) : false;
      px[y * w + x] = Math.min(1, Math.max(0, (bar ? 0.97 : spine) + noise()));
    }
  }
  return encodeGrayPng(w, h, px);
}

// The whole path on a tiny cohort made here: train one epoch at 64 px (the split made from patient keys), evaluate
// the held-out test split with calibration and reject option, predict a film (a class or "human review", never a
// silent class), and the suitability gate refusing a hand radiograph. Tiny sizes: this checks the path, not accuracy.
void test('spine-view end to end: classes from the labels, a 70/15/15 grouped split, reject threshold in the bundle, predict names a class or human review', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spine-e2e-'));
  const data = join(dir, 'cohort');
  mkdirSync(join(data, 'films'), { recursive: true });
  const rows = ['file,class,patient_key,view,stage,simulated,source'];
  const kinds = [['ap_preop', 'preop'], ['ap_postop_fusion', 'fusion'], ['ap_postop_growing_rod', 'rods']] as const;
  for (let p = 0; p < 20; p++) {
    for (const [cls, kind] of kinds) {
      const file = `films/p${p}-${kind}.png`;
      writeFileSync(join(data, file), film(kind, p));
      rows.push(`${file},${cls},patient${p},AP,${kind === 'preop' ? 'preop' : 'postop'},${kind === 'preop' ? 0 : 1},made-in-test`);
    }
  }
  writeFileSync(join(data, 'labels.csv'), `${rows.join('\n')}\n`);
  const out = join(dir, 'run');
  const trained = run(['train', 'spine-view', '--data', data, '--size', '64', '--epochs', '1', '--batch', '8', '--threads', '1', '--workers', '1', '--out', out]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.match(trained.stderr, /row\(s\) of split 'test' excluded from training/);
  assert.match(trained.stdout, /best devNll/);
  const classes = JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8')) as { classes: string[]; headOutputs: number };
  assert.deepEqual(classes.classes, ['ap_postop_fusion', 'ap_postop_growing_rod', 'ap_preop']);
  assert.equal(classes.headOutputs, 10);
  const reject = JSON.parse(readFileSync(join(out, 'reject.json'), 'utf8')) as { threshold: number; targetAccuracy: number; devFilms: number };
  assert.equal(reject.targetAccuracy, 0.99);
  assert.ok(reject.threshold >= 0 && reject.threshold <= 1);
  assert.equal(reject.devFilms, 9, '3 of 20 patients × 3 films (15%)');
  const card = JSON.parse(readFileSync(join(out, 'card.json'), 'utf8')) as { metrics: { name: string }[]; files: { artifacts?: { role: string }[] } };
  const roles = (card.files.artifacts ?? []).map((a) => a.role);
  for (const role of ['classes', 'reject-threshold', 'ood', 'training-data']) assert.ok(roles.includes(role), `artifact ${role}`);
  for (const name of ['accuracy', 'macroF1', 'ece', 'rejectThreshold', 'coverageAtThreshold']) assert.ok(card.metrics.some((m) => m.name === name), `card metric ${name}`);
  // held-out patients only, without the gate (flat test images are not radiographs it knows)
  const evaluated = run(['evaluate', out, '--data', data, '--split', 'test', '--no-gate', '--out', join(dir, 'eval'), '--json']);
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const ev = JSON.parse(evaluated.stdout) as { images: number; metrics: Record<string, number> };
  assert.equal(ev.images, 9);
  assert.ok('devAccuracy' in ev.metrics && 'devEce' in ev.metrics);
  const html = readFileSync(join(dir, 'eval', 'report.html'), 'utf8');
  assert.match(html, /class="reliability"/);
  assert.match(html, /Reject option/);
  // published results given in a file go into bone-age reports; this report has no place for them, so they are refused
  const published = join(dir, 'published.json');
  writeFileSync(published, JSON.stringify([{ label: 'x', citation: 'y', data: 'z', mae: null, within: {} }]));
  const refused = run(['evaluate', out, '--data', data, '--split', 'test', '--no-gate', '--published', published, '--out', join(dir, 'eval-published')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^physis: InputError: the spine-view report has no table for published results given in a file/);
  // a film is either named with its probability or sent to human review with the probabilities
  const predicted = run(['predict', join(data, 'films', 'p0-fusion.png'), join(data, 'films', 'p1-preop.png'), '--bundle', out, '--no-gate', '--json']);
  const results = predicted.stdout.trim().split('\n').map((l) => JSON.parse(l) as { answer?: Record<string, unknown>; rejected?: { reason: string } });
  assert.equal(results.length, 2, predicted.stderr);
  for (const r of results) {
    if (r.rejected) {
      assert.match(r.rejected.reason, /not like the spine films this model was trained on/);
      continue;
    }
    const a = r.answer ?? {};
    assert.ok(a['decision'] === 'class' || a['decision'] === 'human review', JSON.stringify(a));
    assert.equal(a['decision'] === 'class', typeof a['class'] === 'string');
    assert.deepEqual(Object.keys(a['probabilities'] as object).sort(), classes.classes);
    assert.match(String(a['simulatedTraining']), /simulated/);
  }
  const line = run(['predict', join(data, 'films', 'p0-fusion.png'), '--bundle', out, '--no-gate']);
  assert.match(line.stdout, /p0-fusion\.png: (ap_\w+ \(p [\d.]+ ≥ threshold|to human review \(top ap_\w+ p|.*not like the spine films)/);
  // the suitability gate refuses what is not a spine (a hand radiograph)
  const gate = resolve('models/suitability');
  if (existsSync(join(gate, 'card.json'))) {
    const hand = run(['predict', resolve('samples/hand-0.png'), '--bundle', out, '--json']);
    const h = JSON.parse(hand.stdout.trim().split('\n')[0] ?? '{}') as { rejected?: { reason: string } };
    assert.match(h.rejected?.reason ?? 'answered', /hand/);
  } else {
    process.stderr.write('skip the gate check: no models/suitability\n');
  }
});
