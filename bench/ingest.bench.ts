/**
 * What registry ingestion costs beside predicting alone: over the same folder, in the same process, one after the
 * other, (a) a bare predict loop — the default tasks' models opened once, `analyseFilm` for every film and task, no
 * registry — and (b) `ingestFolder` into a fresh SQLite registry (hashing, resume and duplicate checks, the gate once
 * per film, de-identification, one transaction per film). Models are opened before either is timed; each is run
 * twice, alternating, and the faster run of each is kept (a shared machine's load shifts between runs).
 *
 * The folder: up to 24 RSNA hands and 8 files of the DICOM corpus from ../shared/data, plus 8 tiny drawn films the gate
 * refuses; without ../shared/data, 24 copies of the sample hand, each with one pixel changed (so none is a duplicate).
 *
 * Ratio = ingest ÷ bare. Target: ≤ 1.10. The machine should be otherwise idle.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodeGrayPng, listFiles } from '../src/radiograph/index.js';
import { openRegistry } from '../src/registry/index.js';
import { analyseFilm, closeIngestModels, closeTaskModels, ingestFolder, listTasks, openIngestModels, openTaskModels, suitability, type TaskModels } from '../src/tasks/index.js';

const DATA = '../shared/data';
const GATE = 'models/suitability';
const ROUNDS = 2;

const dir = mkdtempSync(join(tmpdir(), 'physis-ingest-bench-'));
const root = join(dir, 'films');
mkdirSync(root);
let what: string;
if (existsSync(join(DATA, 'rsna-hand/images')) && existsSync(join(DATA, 'dicom'))) {
  const hands = readdirSync(join(DATA, 'rsna-hand/images')).filter((f) => f.endsWith('.png')).sort().slice(0, 24);
  const dicoms = readdirSync(join(DATA, 'dicom')).filter((f) => f.endsWith('.dcm')).sort().slice(0, 8);
  for (const f of hands) copyFileSync(join(DATA, 'rsna-hand/images', f), join(root, f));
  for (const f of dicoms) copyFileSync(join(DATA, 'dicom', f), join(root, f));
  what = `${hands.length} RSNA hands, ${dicoms.length} DICOM corpus files`;
} else {
  const sample = PNG.sync.read(readFileSync('samples/hand-0.png'));
  for (let i = 0; i < 24; i++) {
    sample.data[i * 4] = (sample.data[i * 4] ?? 0) ^ 1;
    writeFileSync(join(root, `hand-0-variant-${i}.png`), PNG.sync.write(sample));
  }
  what = '24 variants of samples/hand-0.png (../shared/data absent)';
}
for (let i = 0; i < 8; i++) {
  const data = new Float32Array(48 * 48).map((_, j) => ((j * (i + 3)) % 97) / 97);
  writeFileSync(join(root, `ramp_48x48_${i}.png`), encodeGrayPng(48, 48, data));
}
const films = listFiles(root);

const tasks = listTasks().filter((t) => t.accepts !== undefined && t.defaultModel !== undefined);
const bare: TaskModels[] = [];
for (const t of tasks) bare.push(openTaskModels(t, t.defaultModel as string, { gate: await suitability.openGate(GATE) }));
const ingestModels = await openIngestModels({ gateDir: GATE, tasks: tasks.map((t) => ({ task: t, dir: t.defaultModel as string })) });

async function bareLoop(): Promise<number> {
  const t = performance.now();
  for (const f of films) for (const m of bare) await analyseFilm(m, f, { given: {} });
  return (performance.now() - t) / 1000;
}

let round = 0;
async function ingestRun(): Promise<{ seconds: number; stored: number; quarantined: number }> {
  const t = performance.now();
  const store = await openRegistry(`sqlite:${join(dir, `registry-${round++}.db`)}`);
  try {
    const s = await ingestFolder({ root, store, models: ingestModels, key: 'benchmark-key-0123456789abcdef' });
    return { seconds: (performance.now() - t) / 1000, stored: s.stored, quarantined: s.quarantined };
  } finally {
    await store.close();
  }
}

try {
  // warm-up: the first forward of each runtime pays for its set-up
  for (const m of bare) await analyseFilm(m, films[0] as string, { given: {} });
  const bareS: number[] = [];
  const ingestS: number[] = [];
  let last = { stored: 0, quarantined: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    bareS.push(await bareLoop());
    const i = await ingestRun();
    ingestS.push(i.seconds);
    last = i;
  }
  const b = Math.min(...bareS);
  const g = Math.min(...ingestS);
  console.log(`${films.length} films (${what}, 8 drawn films); tasks ${tasks.map((t) => t.name).join(', ')}`);
  console.log(`bare predict loop ${b.toFixed(2)} s (${(films.length / b).toFixed(2)} films/s); runs ${bareS.map((x) => x.toFixed(2)).join(', ')}`);
  console.log(`ingest into SQLite ${g.toFixed(2)} s (${(films.length / g).toFixed(2)} films/s; ${last.stored} stored, ${last.quarantined} quarantined); runs ${ingestS.map((x) => x.toFixed(2)).join(', ')}`);
  console.log(`BENCH ingest ratio=${(g / b).toFixed(3)} target=1.10`);
} finally {
  for (const m of bare) await closeTaskModels(m);
  await closeIngestModels(ingestModels);
  rmSync(dir, { recursive: true, force: true });
}
