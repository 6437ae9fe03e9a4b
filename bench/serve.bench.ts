/**
 * What serving costs beside the batch pipeline: the same hand films, in the same process, one after the other,
 * (a) in-process batch analysis — `ingestBytes` over the shipped hand model and gate into a fresh SQLite registry,
 * one film after another in the main thread, as `physis ingest` runs — and (b) `physis serve` (`startServer`, one
 * analysis worker) with 4 concurrent HTTP clients, each film a distinct `POST /api/analyses?sex=…` upload.
 *
 * Why this reference: the server's worker does more than `physis ingest` — it also makes each answer's Grad-CAM heat
 * map (what `predict --heatmap` makes) and keeps the film's preview, heat map and overlay picture in its data folder.
 * The reference does exactly that work too (the worker's `onRead`/`onSaliency` below, copied from
 * src/server/analysis-worker.ts, writing through the same FilmStore), and gets each film's sex as the upload's query
 * gives it, so that the ratio measures only what serving adds: HTTP, the raw body, the worker thread hand-off and
 * queue, the registry read of the answer and its JSON. A bare `ingest` loop without heat maps is timed once beside
 * them on 20 films for scale (what the heat maps cost), not used in the ratio.
 *
 * Threads: one analysis stream on both sides — the batch loop in the main thread, the server with one worker — each
 * with PHYSIS_BENCH_THREADS libtorch threads (default: the available cores). Models are opened and warmed up before
 * anything is timed. Each film goes through each side once; the sides take turns every 10 films, so that a shared
 * machine's shifting load falls on both alike.
 *
 * Films: the first 40 RSNA hands of ../shared/data/rsna-hand (labels.csv order; its sex column is the query) and 20
 * more for the latency of one film uploaded alone; without ../shared/data, copies of samples/hand-0.png, each with
 * one pixel changed (so none is a duplicate). Env: PHYSIS_BENCH_FILMS (default 40), PHYSIS_BENCH_ALONE (default 20), PHYSIS_BENCH_THREADS.
 *
 * Ratio = server seconds ÷ batch seconds for the same films (the served path's cost against its reference, as the
 * other benchmarks state theirs). Target: ≤ 1.11, i.e. a server overhead (1 − server ÷ batch throughput) of at most
 * 10%. The machine should be otherwise idle.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { encodeRgbaPng, overlayHeatmap, saliencyOnFilm } from '../src/explain/index.js';
import { parseCsvTable } from '../src/radiograph/index.js';
import { openRegistry, type RegistryStore } from '../src/registry/index.js';
// the FilmStore itself (not exported by the server's index): the reference keeps what the server keeps, the same way
import { FilmStore, filmPreview, heatmapRgbaPng, type FilmPreview } from '../src/server/film-store.js';
import { closeIngestModels, getTask, ingestBytes, openIngestModels, type IngestModels } from '../src/tasks/index.js';
import { getNumThreads, setNumThreads } from '../src/torch/index.js';
import { startTestServer, type TestServer } from '../test/server/helpers.js';

const DATA = '../shared/data/rsna-hand';
const FILMS = Number(process.env['PHYSIS_BENCH_FILMS'] ?? 40);
const ALONE = Number(process.env['PHYSIS_BENCH_ALONE'] ?? 20);
const CLIENTS = 4;
/** The two sides take turns every CHUNK films. */
const CHUNK = 10;
const THREADS = Number(process.env['PHYSIS_BENCH_THREADS'] ?? availableParallelism());
const KEY = 'benchmark-key-0123456789abcdef';
const MAX_PIXELS = 2 ** 26;
const PREVIEW_MAX_SIDE = 1024;

interface Film {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly sex: 'F' | 'M';
}

function loadFilms(): { films: Film[]; alone: Film[]; what: string } {
  const all: Film[] = [];
  let what: string;
  try {
    const { columns, records } = parseCsvTable(readFileSync(join(DATA, 'labels.csv'), 'utf8'), 'labels.csv', ['file', 'sex']);
    for (const r of records.slice(0, FILMS + ALONE)) {
      const file = r.fields[columns.get('file') ?? 0] ?? '';
      all.push({ name: file, bytes: new Uint8Array(readFileSync(join(DATA, file))), sex: r.fields[columns.get('sex') ?? 0] === 'M' ? 'M' : 'F' });
    }
    what = `RSNA hands from ${DATA} (the first ${FILMS} of labels.csv, then ${ALONE} more alone)`;
  } catch {
    all.length = 0;
    const sample = PNG.sync.read(readFileSync('samples/hand-0.png'));
    for (let i = 0; i < FILMS + ALONE; i++) {
      sample.data[i * 4] = (sample.data[i * 4] ?? 0) ^ 1;
      all.push({ name: `hand-0-variant-${i}`, bytes: new Uint8Array(PNG.sync.write(sample)), sex: i % 2 === 0 ? 'F' : 'M' });
      sample.data[i * 4] = (sample.data[i * 4] ?? 0) ^ 1;
    }
    what = `${FILMS + ALONE} variants of samples/hand-0.png with one pixel changed (${DATA} absent)`;
  }
  return { films: all.slice(0, FILMS), alone: all.slice(FILMS), what };
}

/** The preview as display values in [0, 1] under its default window (as src/server/analysis-worker.ts). */
function windowed(p: FilmPreview): { width: number; height: number; data: Float32Array } {
  const lo = p.windowCenter - p.windowWidth / 2;
  const data = new Float32Array(p.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(1, Math.max(0, ((p.data[i] as number) - lo) / p.windowWidth));
  return { width: p.columns, height: p.rows, data };
}

const hand = getTask('hand-bone-age');
const sexSpec = hand.inputs.find((s) => s.name === 'sex');
if (sexSpec === undefined) throw new Error('hand-bone-age has no sex input');

/** A timed pass over some films. */
interface Run {
  readonly seconds: number;
  /** CPU seconds of the whole process in that time. */
  readonly cpuSeconds: number;
  readonly answered: number;
  readonly latenciesMs: readonly number[];
}

function add(a: Run, b: Run): Run {
  return { seconds: a.seconds + b.seconds, cpuSeconds: a.cpuSeconds + b.cpuSeconds, answered: a.answered + b.answered, latenciesMs: [...a.latenciesMs, ...b.latenciesMs] };
}

/** CPU seconds of the whole process (every thread: the server's worker and its clients included) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** The batch reference: one film after another through `ingestBytes`, optionally keeping what the server keeps. */
async function batch(models: IngestModels, store: RegistryStore, kept: FilmStore | null, films: readonly Film[]): Promise<Run> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let answered = 0;
  for (const f of films) {
      const sha256 = createHash('sha256').update(f.bytes).digest('hex');
      const given = { sex: sexSpec?.parse(f.sex, 'query parameter sex') ?? null };
      const { outcome } = await ingestBytes(
        { store, models, key: KEY },
        {
          bytes: f.bytes,
          sourcePath: `upload:${sha256}`,
          maxPixels: MAX_PIXELS,
          sidecar: false,
          given,
          columns: { sex: f.sex },
          ...(kept !== null
            ? {
                onRead: (radiograph) => kept.putFilm(sha256, null, filmPreview(radiograph, PREVIEW_MAX_SIDE)),
                onSaliency: (task, s) => {
                  const p = filmPreview(s.radiograph, PREVIEW_MAX_SIDE);
                  const map = saliencyOnFilm(s.map, s.prepared, { width: s.radiograph.columns, height: s.radiograph.rows }, { width: p.columns, height: p.rows });
                  kept.putFilm(sha256, task, p, s.method);
                  kept.putHeatmap(sha256, task, heatmapRgbaPng(map, p.columns, p.rows));
                  kept.putOverlay(sha256, task, encodeRgbaPng(overlayHeatmap(windowed(p), { width: p.columns, height: p.rows, data: map }), p.columns, p.rows));
                },
              }
            : {}),
        },
      );
      if (outcome.tasks?.some((t) => t.outcome === 'answered') === true) answered++;
  }
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu), answered, latenciesMs: [] };
}

/** One upload; its latency in ms and whether the hand model answered (a film the gate refuses is a 422). */
async function upload(s: TestServer, f: Film): Promise<{ ms: number; answered: boolean }> {
  const t = performance.now();
  const r = await fetch(`${s.url}/api/analyses?sex=${f.sex}`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'image/png' }, body: f.bytes });
  const body = (await r.json()) as { status?: string; results?: { outcome: string }[]; message?: string };
  const ms = performance.now() - t;
  if (!((r.status === 200 && body.status === 'stored') || r.status === 422)) throw new Error(`${f.name}: ${r.status} ${body.status ?? ''} ${body.message ?? ''}`);
  return { ms, answered: body.results?.some((x) => x.outcome === 'answered') === true };
}

/** The server with CLIENTS clients taking the next film from one list until it is empty. */
async function served(s: TestServer, films: readonly Film[]): Promise<Run> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  let next = 0;
  let answered = 0;
  const latenciesMs: number[] = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < films.length; i = next++) {
        const r = await upload(s, films[i] as Film);
        latenciesMs.push(r.ms);
        if (r.answered) answered++;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpu), answered, latenciesMs };
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

const { films, alone, what } = loadFilms();
const warmFilm = new Uint8Array(readFileSync('samples/hand-0.png'));
const root = mkdtempSync(join(tmpdir(), 'physis-serve-bench-'));
setNumThreads(THREADS);
const models = await openIngestModels({ gateDir: resolve('models/suitability'), tasks: [{ task: hand, dir: resolve('models/hand-bone-age') }] });
const batchDir = mkdtempSync(join(root, 'batch-'));
const store = await openRegistry(`sqlite:${join(batchDir, 'registry.db')}`, { actor: 'benchmark' });
const kept = new FilmStore(batchDir);
// the server's start (workers opening the models) is not timed, as the batch side's models are opened before
const server = await startTestServer({ workers: 1, threadsPerWorker: THREADS, rateLimitPerMinute: 1_000_000, webDir: null, log: () => undefined });
try {
  // warm-up: the first forward and backward of each side pay for their set-up
  await batch(models, store, kept, [{ name: 'warm-up', bytes: warmFilm, sex: 'F' }]);
  await upload(server, { name: 'warm-up', bytes: warmFilm, sex: 'F' });
  const zero: Run = { seconds: 0, cpuSeconds: 0, answered: 0, latenciesMs: [] };
  let b = zero;
  let v = zero;
  for (let at = 0, chunk = 0; at < films.length; at += CHUNK, chunk++) {
    const some = films.slice(at, at + CHUNK);
    // alternate which side goes first, so that neither always meets the machine in the same state
    if (chunk % 2 === 0) b = add(b, await batch(models, store, kept, some));
    v = add(v, await served(server, some));
    if (chunk % 2 === 1) b = add(b, await batch(models, store, kept, some));
    process.stderr.write(`${Math.min(films.length, at + CHUNK)}/${films.length} films: batch ${b.seconds.toFixed(1)} s, server ${v.seconds.toFixed(1)} s\n`);
  }
  const aloneMs: number[] = [];
  for (const f of alone) aloneMs.push((await upload(server, f)).ms);
  const scale = films.slice(0, Math.min(films.length, 20));
  const bareStore = await openRegistry(`sqlite:${join(root, 'bare.db')}`, { actor: 'benchmark' });
  const bare = await batch(models, bareStore, null, scale).finally(() => bareStore.close());
  const overhead = 1 - films.length / v.seconds / (films.length / b.seconds);
  console.log(`${films.length} films: ${what}; libtorch threads ${THREADS} on both sides (main thread ${getNumThreads()}), server workers 1, ${CLIENTS} clients; sides alternate every ${CHUNK} films`);
  console.log(`batch ingestBytes + heat maps ${b.seconds.toFixed(2)} s (${(films.length / b.seconds).toFixed(2)} films/s, ${b.answered} answered; ${(b.cpuSeconds / films.length).toFixed(2)} CPU s a film)`);
  console.log(`server, ${CLIENTS} HTTP clients ${v.seconds.toFixed(2)} s (${(films.length / v.seconds).toFixed(2)} films/s, ${v.answered} answered; ${(v.cpuSeconds / films.length).toFixed(2)} CPU s a film, clients included)`);
  console.log(`server overhead ${(overhead * 100).toFixed(1)}% (1 − server ÷ batch throughput)`);
  console.log(`latency of one hand film: alone (${alone.length} films, one at a time) p50 ${percentile(aloneMs, 50).toFixed(0)} ms, p95 ${percentile(aloneMs, 95).toFixed(0)} ms; under ${CLIENTS} clients (queueing included) p50 ${percentile(v.latenciesMs, 50).toFixed(0)} ms, p95 ${percentile(v.latenciesMs, 95).toFixed(0)} ms`);
  console.log(`for scale: batch ingestBytes without heat maps or kept pictures ${(bare.seconds / scale.length).toFixed(2)} s a film (${scale.length} films), with them ${(b.seconds / films.length).toFixed(2)} s`);
  if (b.answered !== v.answered) console.log(`warning: the batch answered ${b.answered} films, the server ${v.answered}`);
  console.log(`BENCH serve ratio=${(v.seconds / b.seconds).toFixed(3)} target=1.11`);
} finally {
  await server.stop();
  await store.close();
  await closeIngestModels(models);
  rmSync(root, { recursive: true, force: true });
}
