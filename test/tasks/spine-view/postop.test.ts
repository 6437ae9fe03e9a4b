import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeGrayPng, parseCsvTable, readRadiograph } from '../../../src/radiograph/index.js';
import {
  SPINE_LEVELS,
  SPINE_VIEW_LABELS_HEADER,
  SpineCohortExistsError,
  SpinePostopOptionsError,
  aasceLandmarks,
  levelIndex,
  repairMissingL5,
  simulatePostop,
  vertebraGeometry,
  writeSpineViewCohort,
  type SpineFilm,
  type VertebraLandmarks,
} from '../../../src/tasks/spine-view/postop/index.js';

/**
 * A spine-like film: 17 bright vertebral bodies (widening T1→L5) along an S-curve of `curvePx` lateral amplitude on
 * a soft-tissue background with seeded noise, bone bright; and its corner landmarks.
 */
function spineFilm(width: number, height: number, curvePx: number): { film: SpineFilm; landmarks: VertebraLandmarks[] } {
  const landmarks: VertebraLandmarks[] = [];
  const pixels = new Float32Array(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) pixels[y * width + x] = 0.25 + 0.15 * (y / height) + 0.05 * Math.sin(x * 0.05);
  const top = 0.05 * height;
  const step = (0.9 * height) / 17;
  for (let v = 0; v < 17; v++) {
    const cy = top + (v + 0.5) * step;
    const phase = ((v + 0.5) / 17) * 2 * Math.PI;
    const cx = width / 2 + curvePx * Math.sin(phase);
    const tilt = Math.atan(((curvePx * 2 * Math.PI) / (17 * step)) * Math.cos(phase)) * 0.8;
    const w = width * (0.14 + 0.08 * (v / 16));
    const h = step * 0.72;
    const c = Math.cos(tilt);
    const s = Math.sin(tilt);
    const corner = (dx: number, dy: number): { x: number; y: number } => ({ x: cx + dx * c - dy * s, y: cy + dx * s + dy * c });
    landmarks.push({ topLeft: corner(-w / 2, -h / 2), topRight: corner(w / 2, -h / 2), bottomLeft: corner(-w / 2, h / 2), bottomRight: corner(w / 2, h / 2) });
    for (let y = Math.floor(cy - step); y < cy + step; y++)
      for (let x = Math.floor(cx - w); x < cx + w; x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const u = (x - cx) * c + (y - cy) * s;
        const t = -(x - cx) * s + (y - cy) * c;
        if (Math.abs(u) <= w / 2 && Math.abs(t) <= h / 2) pixels[y * width + x] = 0.6 + 0.05 * Math.cos(u);
      }
  }
  // seeded noise (a linear congruential stream), SD ≈ 0.01
  let state = 12345;
  for (let k = 0; k < pixels.length; k++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    pixels[k] = (pixels[k] ?? 0) + ((state / 2 ** 32) - 0.5) * 0.035;
  }
  return { film: { width, height, pixels }, landmarks };
}

const S_CURVE = spineFilm(160, 420, 14);

void test('simulatePostop is deterministic by seed, and another seed gives another construct', () => {
  const { film, landmarks } = S_CURVE;
  for (const kind of ['fusion', 'growing-rod'] as const) {
    const a = simulatePostop(film, landmarks, { kind, seed: 3 });
    const b = simulatePostop(film, landmarks, { kind, seed: 3 });
    assert.deepEqual(a.image.pixels, b.image.pixels, `${kind}: same seed, same pixels`);
    assert.deepEqual(a.instrumentation, b.instrumentation);
    assert.deepEqual(a.metalMask, b.metalMask);
    const c = simulatePostop(film, landmarks, { kind, seed: 4 });
    assert.notDeepEqual(a.image.pixels, c.image.pixels, `${kind}: another seed, other pixels`);
  }
});

void test('fusion: levels within T1–L5, bilateral screws inside the film at the instrumented levels, along the pedicles', () => {
  const { film, landmarks } = S_CURVE;
  const geo = vertebraGeometry(landmarks, film.width, film.height);
  for (let seed = 1; seed <= 8; seed++) {
    const { instrumentation: ins } = simulatePostop(film, landmarks, { kind: 'fusion', seed });
    const upper = levelIndex(ins.levels.upper);
    const lower = levelIndex(ins.levels.lower);
    assert.ok(upper >= levelIndex('T2') && lower <= levelIndex('L4') && lower - upper >= 5, `seed ${seed}: ${ins.levels.upper}–${ins.levels.lower}`);
    assert.equal(ins.rods.length, 2);
    const perLevel = ins.screws.length / (lower - upper + 1);
    assert.ok(perLevel >= 1.1 && perLevel <= 2, `seed ${seed}: ${perLevel.toFixed(2)} screws per level`);
    for (const side of ['left', 'right'] as const) assert.ok(ins.screws.filter((s) => s.side === side).length >= 4);
    // the end levels carry screws on both sides
    for (const level of [upper, lower]) assert.equal(ins.screws.filter((s) => levelIndex(s.level) === level).length, 2);
    for (const s of ins.screws) {
      const i = levelIndex(s.level);
      assert.ok(i >= upper && i <= lower, `${s.level} outside ${ins.levels.upper}–${ins.levels.lower}`);
      const v = geo[i];
      assert.ok(v);
      for (const p of [s.head, s.tip]) assert.ok(p.x >= 0 && p.x < film.width && p.y >= 0 && p.y < film.height);
      // head over its side's pedicle, within the vertebra's height band; the tip converges toward the midline
      const across = (s.head.x - v.centre.x) * v.lateral.x + (s.head.y - v.centre.y) * v.lateral.y;
      assert.ok((s.side === 'left' ? -across : across) > 0.1 * v.widthPx && Math.abs(across) < 0.6 * v.widthPx, `${s.level} ${s.side} head ${across.toFixed(1)} px from the midline`);
      assert.ok(Math.abs(s.head.y - v.centre.y) < v.heightPx);
      const tipAcross = (s.tip.x - v.centre.x) * v.lateral.x + (s.tip.y - v.centre.y) * v.lateral.y;
      const sign = s.side === 'left' ? -1 : 1;
      assert.ok(sign * tipAcross < sign * across && sign * tipAcross > -0.3 * v.widthPx, `${s.level} ${s.side}: the tip converges toward the midline (${across.toFixed(1)} -> ${tipAcross.toFixed(1)} px)`);
      assert.ok(s.diameterMm >= 4 && s.diameterMm <= 7.5 && s.lengthMm >= 25 && s.lengthMm <= 55);
    }
  }
});

void test('metal is brighter than bone, and the metal mask is where the film changed', () => {
  const { film, landmarks } = S_CURVE;
  for (const kind of ['fusion', 'growing-rod'] as const) {
    const sim = simulatePostop(film, landmarks, { kind, seed: 9 });
    let inMask = 0;
    let metalSum = 0;
    let changedInMask = 0;
    let bigChangeOutside = 0;
    let maxOutside = 0;
    for (let k = 0; k < film.pixels.length; k++) {
      const d = (sim.image.pixels[k] ?? 0) - (film.pixels[k] ?? 0);
      if (sim.metalMask[k]) {
        inMask++;
        metalSum += sim.image.pixels[k] ?? 0;
        if (d > 0.01) changedInMask++;
      } else {
        maxOutside = Math.max(maxOutside, Math.abs(d));
        if (Math.abs(d) > 0.03) bigChangeOutside++;
      }
    }
    assert.ok(inMask > 200, `${kind}: ${inMask} metal pixels`);
    // bone is ≈ 0.65 here; the metal's mean (edges included) is well above it, its core near white
    assert.ok(metalSum / inMask > 0.8, `${kind}: metal mean ${(metalSum / inMask).toFixed(3)}`);
    const core = [...sim.image.pixels].filter((_, k) => sim.metalMask[k]).sort((a, b) => b - a);
    assert.ok((core[Math.floor(core.length / 4)] ?? 0) > 0.9, `${kind}: upper quartile of metal near white`);
    assert.ok(changedInMask / inMask > 0.95, `${kind}: ${changedInMask}/${inMask} mask pixels changed`);
    // outside the mask only the faint glare halo (and nothing of the metal itself)
    assert.ok(maxOutside < 0.06, `${kind}: largest change outside the mask ${maxOutside.toFixed(3)}`);
    assert.ok(bigChangeOutside < 0.1 * inMask, `${kind}: ${bigChangeOutside} pixels changed > 0.03 outside the mask`);
  }
});

void test('growing rods: anchors only in a proximal and a distal foundation, tandem connectors, nothing in between', () => {
  const { film, landmarks } = S_CURVE;
  for (let seed = 1; seed <= 8; seed++) {
    const { instrumentation: ins, metalMask } = simulatePostop(film, landmarks, { kind: 'growing-rod', seed });
    const upper = levelIndex(ins.levels.upper);
    const lower = levelIndex(ins.levels.lower);
    assert.ok(upper >= levelIndex('T2') && upper <= levelIndex('T4') && lower >= levelIndex('L2') && lower <= levelIndex('L4'));
    const proximal = ins.screws.filter((s) => levelIndex(s.level) <= upper + 1);
    const distal = ins.screws.filter((s) => levelIndex(s.level) >= lower - 1);
    assert.equal(proximal.length + distal.length, ins.screws.length, `seed ${seed}: an anchor between the foundations`);
    for (const f of [proximal, distal]) {
      assert.ok(f.length >= 2 && f.length <= 4, `seed ${seed}: ${f.length} anchors in a foundation`);
      assert.deepEqual(new Set(f.map((s) => s.side)), new Set(['left', 'right']));
    }
    assert.equal(ins.rods.length, 2);
    assert.equal(ins.crossLinks.length, 0);
    for (const rod of ins.rods) assert.equal(rod.connectors.length, 1, 'a tandem connector on each rod');
    // the rods are metal all the way between the foundations
    const mid = vertebraGeometry(landmarks, film.width, film.height)[levelIndex('T9')];
    assert.ok(mid);
    const row = Math.round(mid.centre.y);
    let runs = 0;
    for (let x = 1; x < film.width; x++) if (metalMask[row * film.width + x] && !metalMask[row * film.width + x - 1]) runs++;
    assert.equal(runs, 2, 'two rods cross the T9 row');
  }
});

void test('refusals: landmarks that are not T1–L5, an unknown kind; a missing L5 is extrapolated', () => {
  const { film, landmarks } = S_CURVE;
  assert.throws(() => simulatePostop(film, landmarks.slice(0, 12), { kind: 'fusion', seed: 1 }), SpinePostopOptionsError);
  assert.throws(() => simulatePostop(film, [...landmarks].reverse(), { kind: 'fusion', seed: 1 }), SpinePostopOptionsError);
  // @ts-expect-error an unknown kind is refused at run time too
  assert.throws(() => simulatePostop(film, landmarks, { kind: 'vbt', seed: 1 }), SpinePostopOptionsError);
  assert.throws(() => aasceLandmarks([0.5, 0.5], 10, 10), SpinePostopOptionsError);
  // AASCE rows with L5 at the top of the film (unlabelled): replaced from L3–L4
  const broken = [...landmarks.slice(0, 16), { topLeft: { x: 1, y: 1 }, topRight: { x: 5, y: 1 }, bottomLeft: { x: 1, y: 5 }, bottomRight: { x: 5, y: 5 } }];
  const { landmarks: fixed, repaired } = repairMissingL5(broken);
  assert.ok(repaired);
  assert.ok((fixed[16]?.topLeft.y ?? 0) > (landmarks[15]?.bottomLeft.y ?? Infinity));
  assert.equal(repairMissingL5(landmarks).repaired, false);
  assert.ok(simulatePostop(film, fixed, { kind: 'fusion', seed: 1 }).instrumentation.screws.length > 0);
});

/** An AASCE-like folder: `keys` lists each film's patient key; films are the S-curve phantom at 8 bits. */
function fakeAasce(root: string, keys: readonly string[]): string {
  const dir = join(root, 'aasce');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const { film, landmarks } = spineFilm(120, 320, 10);
  const norm = [
    ...landmarks.flatMap((v) => [v.topLeft, v.topRight, v.bottomLeft, v.bottomRight].map((p) => (p.x / film.width).toFixed(5))),
    ...landmarks.flatMap((v) => [v.topLeft, v.topRight, v.bottomLeft, v.bottomRight].map((p) => (p.y / film.height).toFixed(5))),
  ];
  const lines = ['file,patient_key,cobb_pt,cobb_mt,cobb_tl,max_cobb,landmarks_norm'];
  keys.forEach((key, i) => {
    const file = `images/${key}_${String.fromCharCode(65 + i)}_AP.png`;
    writeFileSync(join(dir, file), encodeGrayPng(film.width, film.height, film.pixels));
    lines.push(`${file},${key},5,20,10,20,"${norm.join(',')}"`);
  });
  writeFileSync(join(dir, 'labels.csv'), `${lines.join('\n')}\n`);
  return dir;
}

function fakeAnatomy(root: string): string {
  const dir = join(root, 'anatomy');
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows = [
    ['images/spine-AP-00000001.png', 'spine', 'AP', 'radiograph', '"o/r:data/Scol/N7, Rt TAIS, F, 13 Yrs.jpg"'],
    ['images/spine-AP-00000002.png', 'spine', 'AP', 'radiograph', '"o/r:data/Scol/N7,S,13,F_1_1.jpg"'],
    ['images/spine-AP-a716bfc9.png', 'spine', 'AP', 'radiograph', 'o/r:data/Scol/N36.jpg'],
    ['images/knee-AP-00000003.png', 'knee', 'AP', 'radiograph', 'o/r:knee.jpg'],
  ];
  for (const [file] of rows) writeFileSync(join(dir, file ?? ''), encodeGrayPng(32, 64, new Float32Array(32 * 64).fill(0.4)));
  writeFileSync(join(dir, 'labels.csv'), `file,anatomy,view,modality,source\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  return dir;
}

void test('writeSpineViewCohort: labels columns, pre-op and both post-op films per real film, keys grouped, refuses to clobber', async () => {
  const root = mkdtempSync(join(tmpdir(), 'spine-cohort-'));
  const aasceDir = fakeAasce(root, ['pA', 'pB', 'pA', 'pC', 'pB']);
  const anatomyDir = fakeAnatomy(root);
  const outDir = join(root, 'out');
  const progress: number[] = [];
  const r = await writeSpineViewCohort({ aasceDir, anatomyDir, outDir, seed: 5 }, (done) => progress.push(done));
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(r.byClass, { ap_preop: 7, ap_postop_fusion: 5, ap_postop_growing_rod: 5 });
  assert.equal(r.anatomyExcluded, 1);
  assert.equal(r.patients, 4, 'pA, pB, pC and the anatomy case Scol/N7');
  const text = readFileSync(r.labelsCsv, 'utf8');
  assert.equal(text.split('\n')[0], SPINE_VIEW_LABELS_HEADER);
  const table = parseCsvTable(text, 'labels.csv', SPINE_VIEW_LABELS_HEADER.split(','));
  const col = (name: string): number => table.columns.get(name) ?? -1;
  const rows = table.records.map((rec) => Object.fromEntries([...table.columns.keys()].map((k) => [k, rec.fields[col(k)] ?? ''])));
  assert.equal(rows.length, 17);
  // each key's films are contiguous
  const order = rows.map((x) => x['patient_key']);
  const seen = new Set<string>();
  order.forEach((k, i) => {
    if (k !== order[i - 1]) {
      assert.ok(!seen.has(k ?? ''), `${k} appears in two runs`);
      seen.add(k ?? '');
    }
  });
  for (const x of rows) {
    assert.equal(x['view'], 'AP');
    const post = x['class'] !== 'ap_preop';
    assert.equal(x['stage'], post ? 'postop' : 'preop');
    assert.equal(x['simulated'], post ? '1' : '0');
    assert.ok(!/preop|postop|fusion|growing/.test(x['file'] ?? ''), 'file names do not carry the class');
    const film = await readRadiograph(join(outDir, x['file'] ?? ''));
    assert.equal(film.voi.kind === 'range' ? film.voi.max : 0, 255, '8-bit PNG');
  }
  // every AASCE source gives one film of each class, under the source's key
  for (const src of new Set(rows.filter((x) => x['source']?.startsWith('aasce-spine/')).map((x) => x['source']))) {
    const mine = rows.filter((x) => x['source'] === src);
    assert.deepEqual(mine.map((x) => x['class']).sort(), ['ap_postop_fusion', 'ap_postop_growing_rod', 'ap_preop']);
    assert.equal(new Set(mine.map((x) => x['patient_key'])).size, 1);
  }
  assert.deepEqual(rows.filter((x) => x['source']?.startsWith('anatomy/')).map((x) => x['patient_key']), ['anatomy-Scol-N7', 'anatomy-Scol-N7']);
  const md = readFileSync(join(outDir, 'COHORT.md'), 'utf8');
  assert.match(md, /No lateral films/);
  assert.match(md, /Simulated/);
  assert.equal(readFileSync(join(outDir, 'instrumentation.jsonl'), 'utf8').trim().split('\n').length, 10);
  await assert.rejects(writeSpineViewCohort({ aasceDir, outDir, seed: 5 }), SpineCohortExistsError);
  const again = await writeSpineViewCohort({ aasceDir, outDir, seed: 5, force: true, postop: 'one', maxFilms: 2 });
  assert.equal(again.simulated, 2);
  assert.equal(again.films, 4);
});

const AASCE = '/work/shared/data/aasce-spine';
void test('the first 5 real AASCE films take both constructs inside the film, metal brighter than their bone', { skip: existsSync(join(AASCE, 'labels.csv')) ? false : `${AASCE} not present: real-film check skipped` }, async () => {
  const table = parseCsvTable(readFileSync(join(AASCE, 'labels.csv'), 'utf8'), 'labels.csv', ['file', 'landmarks_norm']);
  mkdirSync('/tmp/spine-postop', { recursive: true });
  for (const rec of table.records.slice(0, 5)) {
    const file = rec.fields[table.columns.get('file') ?? 0] ?? '';
    const r = await readRadiograph(join(AASCE, file));
    const film: SpineFilm = { width: r.columns, height: r.rows, pixels: Float32Array.from(r.pixels, (v) => v / 255) };
    const norm = (rec.fields[table.columns.get('landmarks_norm') ?? 0] ?? '').split(',').map(Number);
    const { landmarks } = repairMissingL5(aasceLandmarks(norm, film.width, film.height));
    const geo = vertebraGeometry(landmarks, film.width, film.height);
    const bone = geo.map((v) => film.pixels[Math.round(v.centre.y) * film.width + Math.round(v.centre.x)] ?? 0).sort((a, b) => a - b);
    for (const kind of ['fusion', 'growing-rod'] as const) {
      const sim = simulatePostop(film, landmarks, { kind, seed: 1 });
      const inside = sim.instrumentation.screws.filter((s) => s.head.x >= 0 && s.head.x < film.width && s.head.y >= 0 && s.head.y < film.height);
      assert.ok(inside.length >= sim.instrumentation.screws.length - 1, `${file} ${kind}: anchors off the film`);
      const metal = [...sim.image.pixels].filter((_, k) => sim.metalMask[k]).sort((a, b) => a - b);
      const q = (a: readonly number[], f: number): number => a[Math.floor(f * (a.length - 1))] ?? 0;
      // the mask includes the metal's blurred edge: its median beats the bone's, its upper quartile the brightest vertebra
      assert.ok(metal.length > 100 && q(metal, 0.5) > q(bone, 0.5) && q(metal, 0.75) > q(bone, 1), `${file} ${kind}: metal ${q(metal, 0.5).toFixed(2)}/${q(metal, 0.75).toFixed(2)}, bone ${q(bone, 0.5).toFixed(2)}/${q(bone, 1).toFixed(2)}`);
      for (const level of sim.instrumentation.levels.anchored) assert.ok(SPINE_LEVELS.includes(level));
      writeFileSync(`/tmp/spine-postop/real-${file.replace(/^images\//, '').replace(/\.png$/, '')}-${kind}.png`, encodeGrayPng(film.width, film.height, sim.image.pixels));
    }
  }
});
