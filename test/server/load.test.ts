/**
 * Load on `physis serve` run as its own process (so that its resident memory is its own, read from
 * /proc/<pid>/status): 2,500 requests at concurrency 8, a seeded mix cheap enough for the default suite — a handful
 * of real analyses (four hand films and one the gate refuses), then mostly re-uploads of those films (answered from
 * the registry without a model running) and reads of analyses, films, heat maps, overlays, the list, the review
 * queue and the tasks, with reviews, unknown ids and missing tokens among them. Every answer must have its expected
 * status (none a 5xx), and the server's RSS must stay flat between the end of the warm-up and the end of the run.
 *
 * The child runs the current sources under tsx (`physis serve` through src/cli/main.ts, as bin/physis.js runs the
 * built ones), with a raised rate limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodeGrayPng } from '../../src/radiograph/index.js';
import { TokenStore } from '../../src/server/index.js';
import { prng } from '../radiograph/fuzz-mutations.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';

const REQUESTS = 2500;
const CONCURRENCY = 8;
const WARM_UP = 1000;
const SEED = 0x10ad2026;
const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Most RSS growth allowed from the end of the warm-up to the end of the run. RSS sampled every 250 ms here shows it
 * climbing for the first ~700 requests after the films are analysed (the heap, the registry's page cache and the
 * allocator's arenas reach their working size; the allocator never gives memory back) and flat after that: with a
 * 200-request warm-up the growth was 40 MiB in a quiet run and 61 in a loaded one, with 1,000 it was 0–6 MiB in four
 * runs (two beside another test file). A leak of each re-uploaded body alone (about 525 uploads of 256 kB after the
 * warm-up) would add 130 MiB.
 */
const RSS_GROWTH_MAX_MIB = 48;

const dataDir = mkdtempSync(join(tmpdir(), 'physis-load-'));
let server: CliProcess;
let child: CliProcess['child'];
let url = '';
let token = '';
/** The server's own lines (one per request: route pattern, status, time). */
const serverLines = (): string[] => server.stdoutLines();

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m?.[1] !== undefined, 'VmRSS in /proc/<pid>/status');
  return Number(m[1]) / 1024;
}

before(async () => {
  token = new TokenStore(join(dataDir, 'tokens.json')).add('load', 'admin');
  server = startCli(['serve', '--port', '0', '--data-dir', dataDir, '--rate-limit', '1000000', '--workers', '1']);
  child = server.child;
  url = await new Promise<string>((done, fail) => {
    child.stdout?.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(serverLines().join('\n'));
      if (m?.[1] !== undefined) done(m[1]);
    });
    child.once('exit', (code) => fail(new Error(`physis serve exited (${code}) before listening: ${server.stderr()}`)));
  });
});

after(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function call(method: string, path: string, o: { body?: Uint8Array | string; type?: string; auth?: boolean } = {}): Promise<{ status: number; body: Uint8Array }> {
  const headers: Record<string, string> = {};
  if (o.auth !== false) headers['authorization'] = `Bearer ${token}`;
  if (o.type !== undefined) headers['content-type'] = o.type;
  const r = await fetch(`${url}${path}`, { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(o.body === undefined ? {} : { body: o.body }) });
  return { status: r.status, body: new Uint8Array(await r.arrayBuffer()) };
}

function json(b: Uint8Array): Record<string, unknown> {
  return JSON.parse(Buffer.from(b).toString('utf8')) as Record<string, unknown>;
}

/** The sample hand with one pixel changed per variant (0: unchanged), so that each is a new film. */
function handVariant(i: number): Uint8Array {
  const png = PNG.sync.read(readFileSync('samples/hand-0.png'));
  png.data[0] = ((png.data[0] as number) + i) % 256;
  return new Uint8Array(PNG.sync.write(png));
}

void test(`${REQUESTS} requests at concurrency ${CONCURRENCY}: every answer as expected, none a 5xx, resident memory flat`, async (t) => {
  const pid = child.pid;
  assert.ok(pid !== undefined);
  const rssStart = rssMiB(pid);
  const trace: Array<[number, number]> = [];
  const t0 = performance.now();
  const sampler = setInterval(() => trace.push([Math.round(performance.now() - t0), Math.round(rssMiB(pid))]), 250);
  const started = performance.now();

  // the handful of real analyses: four hand films (both sexes) and a drawn ramp the gate refuses
  const films = [0, 1, 2, 3].map(handVariant);
  const ids: number[] = [];
  for (const [i, film] of films.entries()) {
    const r = await call('POST', `/api/analyses?sex=${i % 2 === 0 ? 'F' : 'M'}`, { body: film, type: 'image/png' });
    assert.equal(r.status, 200, Buffer.from(r.body).toString('utf8'));
    const a = json(r.body);
    assert.equal(a['status'], 'stored');
    ids.push(Number(a['instanceId']));
  }
  const ramp = encodeGrayPng(48, 48, new Float32Array(48 * 48).map((_, j) => (j % 48) / 48));
  assert.equal((await call('POST', '/api/analyses', { body: ramp, type: 'image/png' })).status, 422);
  let sent = films.length + 1;

  type Kind = readonly [weight: number, name: string, run: (i: number) => Promise<void>];
  const expect = async (what: string, status: number, p: Promise<{ status: number; body: Uint8Array }>): Promise<Uint8Array> => {
    const r = await p;
    assert.equal(r.status, status, `${what}: ${Buffer.from(r.body.subarray(0, 300)).toString('utf8')}`);
    return r.body;
  };
  const kinds: readonly Kind[] = [
    [35, 're-upload of an analysed film', async (i) => {
      const a = json(await expect('re-upload', 200, call('POST', `/api/analyses?sex=${i % 2 === 0 ? 'F' : 'M'}`, { body: films[i] as Uint8Array, type: 'image/png' })));
      assert.equal(a['instanceId'], ids[i]);
      assert.equal(a['status'], 'skipped');
    }],
    [5, 're-upload of the refused film', async () => void (await expect('refused re-upload', 422, call('POST', '/api/analyses', { body: ramp, type: 'image/png' })))],
    [10, 'an analysis', async (i) => void (await expect('analysis', 200, call('GET', `/api/instances/${ids[i] ?? 0}`)))],
    [10, 'a film', async (i) => void (await expect('image', 200, call('GET', `/api/instances/${ids[i] ?? 0}/image`)))],
    [8, 'a heat map', async (i) => void (await expect('heat map', 200, call('GET', `/api/instances/${ids[i] ?? 0}/heatmap/hand-bone-age`)))],
    [5, 'an overlay', async (i) => void (await expect('overlay', 200, call('GET', `/api/instances/${ids[i] ?? 0}/overlay/hand-bone-age`)))],
    [8, 'the list', async () => void (await expect('list', 200, call('GET', '/api/instances?task=hand-bone-age&limit=20')))],
    [4, 'the review queue', async () => void (await expect('queue', 200, call('GET', '/api/review-queue')))],
    [3, 'the tasks', async () => void (await expect('tasks', 200, call('GET', '/api/tasks')))],
    [3, 'health', async () => void (await expect('health', 200, call('GET', '/api/health', { auth: false })))],
    [3, 'an unknown id', async () => void (await expect('unknown id', 404, call('GET', '/api/instances/999999')))],
    [3, 'no token', async () => void (await expect('no token', 401, call('GET', '/api/instances', { auth: false })))],
    [3, 'a review', async (i) => void (await expect('review', 201, call('POST', `/api/instances/${ids[i] ?? 0}/reviews`, { type: 'application/json', body: JSON.stringify({ task: 'hand-bone-age', verdict: 'accept' }) })))],
  ];
  const total = kinds.reduce((n, [w]) => n + w, 0);
  const rand = prng(SEED);
  const plan = Array.from({ length: REQUESTS - sent }, () => {
    let r = rand() * total;
    const kind = kinds.find(([w]) => (r -= w) < 0) ?? (kinds[0] as Kind);
    return { kind, film: Math.floor(rand() * films.length) };
  });
  const counts = new Map<string, number>();
  const runPlan = async (from: number, to: number): Promise<void> => {
    let next = from;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let k = next++; k < to; k = next++) {
          const { kind, film } = plan[k] as (typeof plan)[number];
          await kind[2](film);
          counts.set(kind[1], (counts.get(kind[1]) ?? 0) + 1);
          sent++;
        }
      }),
    );
  };
  await runPlan(0, WARM_UP);
  const rssWarm = rssMiB(pid);
  await runPlan(WARM_UP, plan.length);
  const rssEnd = rssMiB(pid);
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  assert.equal(sent, REQUESTS);
  t.diagnostic(`${REQUESTS} requests in ${seconds.toFixed(1)} s (${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}); RSS ${rssStart.toFixed(0)} MiB at the start, ${rssWarm.toFixed(0)} after ${WARM_UP + films.length + 1} requests, ${rssEnd.toFixed(0)} at the end`);
  assert.ok(rssEnd - rssWarm <= RSS_GROWTH_MAX_MIB, `RSS grew ${(rssEnd - rssWarm).toFixed(0)} MiB after the warm-up (allowed ${RSS_GROWTH_MAX_MIB}); RSS (ms, MiB) every 250 ms: ${JSON.stringify(trace)}`);
  assert.equal(child.exitCode, null, 'the server still runs');
  const requestLines = (): string[] => serverLines().filter((l) => / (GET|POST) \S+ \d{3} \d+ ms$/.test(l));
  // the last answers' lines may still be in the pipe
  for (let waited = 0; requestLines().length < REQUESTS && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  const logged = requestLines();
  assert.ok(logged.length >= REQUESTS, `the server logged every request (${logged.length})`);
  assert.deepEqual(serverLines().filter((l) => / 5\d\d \d+ ms$/.test(l) || l.includes(' failed: ')), [], 'no 5xx in the server log');
  const byRoute = new Map<string, number[]>();
  for (const l of logged) {
    const m = / ((?:GET|POST) \S+) \d{3} (\d+) ms$/.exec(l);
    if (m?.[1] !== undefined) byRoute.set(m[1], [...(byRoute.get(m[1]) ?? []), Number(m[2])]);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  t.diagnostic(`server time by route, median: ${[...byRoute].map(([k, xs]) => `${k} ${median(xs)} ms`).join(', ')}`);
});
