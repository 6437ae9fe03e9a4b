/**
 * `physis serve` end to end over real HTTP: the shipped hand model and gate in a worker thread, a SQLite registry,
 * tokens with roles, uploads good and bad, the heat map on the film's grid, reviews, the OpenAPI document, the rate
 * limit, and an event loop that answers while a film is analysed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { encodePhantomDx, readRadiograph } from '../../src/radiograph/index.js';
import { startTestServer, type TestServer } from './helpers.js';
import { LEFT_HAND_PA_DX } from '../helpers/dicom-objects.js';

const HAND = new Uint8Array(readFileSync('samples/hand-0.png'));
let s: TestServer;
let reviewer = '';
let reader = '';

interface Json {
  readonly [k: string]: unknown;
}

async function call(method: string, path: string, o: { token?: string; body?: Uint8Array | string; type?: string } = {}): Promise<{ status: number; json: Json; bytes: Uint8Array; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`;
  if (o.type !== undefined) headers['content-type'] = o.type;
  const r = await fetch(`${s.url}${path}`, { method, headers, ...(o.body === undefined ? {} : { body: o.body }) });
  const bytes = new Uint8Array(await r.arrayBuffer());
  const isJson = (r.headers.get('content-type') ?? '').includes('json');
  return { status: r.status, json: isJson && bytes.length > 0 ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as Json) : {}, bytes, headers: r.headers };
}

before(async () => {
  s = await startTestServer();
  const a = await call('POST', '/api/tokens', { token: s.adminToken, type: 'application/json', body: JSON.stringify({ name: 'alice', role: 'review' }) });
  assert.equal(a.status, 201, JSON.stringify(a.json));
  reviewer = String(a.json['token']);
  const b = await call('POST', '/api/tokens', { token: s.adminToken, type: 'application/json', body: JSON.stringify({ name: 'bob', role: 'read' }) });
  reader = String(b.json['token']);
});
after(async () => {
  await s.stop();
});

void test('health and readiness need no token; readiness names the models and the gate', async () => {
  assert.equal((await call('GET', '/api/health')).json['status'], 'ok');
  const r = await call('GET', '/api/ready');
  assert.equal(r.status, 200);
  const tasks = r.json['tasks'] as { name: string; model: { id: string; weightsSha256: string } }[];
  assert.equal(tasks[0]?.name, 'hand-bone-age');
  assert.match(tasks[0]?.model.weightsSha256 ?? '', /^[0-9a-f]{64}$/);
  assert.match(String((r.json['gate'] as Json)['id']), /^suitability/);
});

void test('tokens: none, unknown and too-low roles are refused with one line; the tokens file keeps only hashes', async () => {
  const none = await call('GET', '/api/instances');
  assert.equal(none.status, 401);
  assert.equal(none.json['error'], 'UnauthorizedError');
  assert.equal((await call('GET', '/api/instances', { token: 'phy_not-a-token' })).status, 401);
  const low = await call('POST', '/api/analyses', { token: reader, type: 'image/png', body: HAND });
  assert.equal(low.status, 403);
  assert.match(String(low.json['message']), /role read/);
  assert.equal((await call('GET', '/api/tokens', { token: reviewer })).status, 403);
  const file = readFileSync(join(s.dataDir, 'tokens.json'), 'utf8');
  for (const t of [s.adminToken, reviewer, reader]) assert.ok(!file.includes(t), 'a token is stored only as its hash');
  const list = await call('GET', '/api/tokens', { token: s.adminToken });
  assert.deepEqual((list.json['tokens'] as { name: string }[]).map((t) => t.name), ['admin', 'alice', 'bob']);
});

void test('a hand film: answered with its interval, model id and weights hash, gate verdict, heat map on the film grid; stored once', async () => {
  const r = await call('POST', '/api/analyses?sex=F', { token: reviewer, type: 'image/png', body: HAND });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json['status'], 'stored');
  const [result] = r.json['results'] as Json[];
  assert.ok(result !== undefined);
  assert.equal(result['outcome'], 'answered');
  assert.match(String(result['summary']), /bone age \d+\.\d months .*sex F .*\[90% /);
  const model = result['model'] as Json;
  assert.equal(model['id'], 'hand-bone-age-resnet18-128');
  assert.match(String(model['weightsSha256']), /^[0-9a-f]{64}$/);
  assert.equal((result['gate'] as Json)['passed'], true);
  assert.equal((result['inputs'] as Json)['sex'] !== undefined, true);
  const image = r.json['image'] as { url: string; rows: number; columns: number; windowWidth: number };
  const px = await call('GET', image.url, { token: reader });
  assert.equal(px.status, 200);
  assert.equal(px.bytes.length, image.rows * image.columns * 2, 'uint16 per pixel');
  const heat = await call('GET', String(result['heatmapUrl']), { token: reader });
  assert.equal(heat.headers.get('content-type'), 'image/png');
  const png = PNG.sync.read(Buffer.from(heat.bytes));
  assert.deepEqual([png.width, png.height], [image.columns, image.rows], 'the heat map lies on the film grid');
  let opaque = 0;
  for (let i = 3; i < png.data.length; i += 4) if ((png.data[i] as number) > 128) opaque++;
  assert.ok(opaque > 0 && opaque < png.width * png.height, `the heat map is partly transparent (${opaque} strong pixels)`);
  const overlay = await call('GET', String(result['overlayUrl']), { token: reader });
  assert.equal(overlay.status, 200);
  // the same bytes again: the stored analysis, no second instance
  const again = await call('POST', '/api/analyses?sex=F', { token: reviewer, type: 'image/png', body: HAND });
  assert.equal(again.json['instanceId'], r.json['instanceId']);
  assert.equal(again.json['status'], 'skipped');
  const list = await call('GET', '/api/instances?task=hand-bone-age', { token: reader });
  const rows = list.json['rows'] as { instanceId: number; results: { label: string; reviewState: string }[] }[];
  assert.equal(rows.filter((x) => x.instanceId === r.json['instanceId']).length, 1);
});

void test('reviews: accept, then a correction with its label, recorded under the token holder; bad reviews are 400', async () => {
  const up = await call('POST', '/api/analyses?sex=M', { token: reviewer, type: 'image/png', body: HAND });
  const id = Number(up.json['instanceId']);
  const path = `/api/instances/${id}/reviews`;
  const body = (o: object): string => JSON.stringify(o);
  assert.equal((await call('POST', path, { token: reader, type: 'application/json', body: body({ task: 'hand-bone-age', verdict: 'accept' }) })).status, 403);
  assert.equal((await call('POST', path, { token: reviewer, type: 'application/json', body: body({ task: 'hand-bone-age', verdict: 'correct' }) })).status, 400);
  assert.equal((await call('POST', path, { token: reviewer, type: 'application/json', body: body({ task: 'hand-bone-age', verdict: 'maybe' }) })).status, 400);
  assert.equal((await call('POST', path, { token: reviewer, type: 'application/json', body: body({ task: 'hand-bone-age', verdict: 'accept' }) })).status, 201);
  const c = await call('POST', path, { token: reviewer, type: 'application/json', body: body({ task: 'hand-bone-age', verdict: 'correct', label: '18', note: 'read by a person' }) });
  assert.equal(c.status, 201);
  assert.equal(c.json['reviewer'], 'alice');
  const view = await call('GET', `/api/instances/${id}`, { token: reader });
  const [result] = view.json['results'] as Json[];
  assert.equal(result?.['reviewState'], 'corrected');
  assert.equal(result?.['label'], '18');
  assert.equal((await call('GET', '/api/instances/999999', { token: reader })).status, 404);
});

void test('a review of a task the film has no result for is 404 with the reason, not a 500', async () => {
  const up = await call('POST', '/api/analyses?sex=F', { token: reviewer, type: 'image/png', body: HAND });
  const path = `/api/instances/${Number(up.json['instanceId'])}/reviews`;
  // the registry's RegistryNotFoundError ("has no <task> prediction to review"); a number as the task is coerced to a string
  for (const task of ['spleen-size', 5]) {
    const r = await call('POST', path, { token: reviewer, type: 'application/json', body: JSON.stringify({ task, verdict: 'accept' }) });
    assert.equal(r.status, 404, JSON.stringify(r.json));
    assert.match(String(r.json['message']), /has no .* prediction to review/);
  }
});

void test('bad uploads are 4xx with the reason and the server goes on', async () => {
  const cases: [string, Uint8Array | string, string, number, RegExp][] = [
    ['text as a film', 'not a radiograph at all', 'application/octet-stream', 415, /not a DICOM, PNG or JPEG/],
    ['an empty body', new Uint8Array(0), 'image/png', 415, /body/],
    ['a truncated PNG', HAND.subarray(0, 2000), 'image/png', 422, /./],
    ['a JSON body', '{"film":1}', 'application/json', 415, /./],
  ];
  for (const [what, body, type, status, reason] of cases) {
    const r = await call('POST', '/api/analyses', { token: reviewer, type, body });
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.json)}`);
    assert.match(String(r.json['message']), reason, what);
    assert.ok(!String(r.json['message']).includes('\n'), `${what}: one line`);
  }
  assert.equal((await call('POST', '/api/analyses?sex=X', { token: reviewer, type: 'image/png', body: HAND })).status, 400);
  assert.equal((await call('POST', '/api/analyses?colour=blue', { token: reviewer, type: 'image/png', body: HAND })).status, 400);
  assert.equal((await call('POST', '/api/analyses?task=spleen-size', { token: reviewer, type: 'image/png', body: HAND })).status, 400);
  assert.equal((await call('GET', '/api/health')).status, 200);
});

void test('an upload beyond the size limit is 413 before it is analysed', async () => {
  const small = await startTestServer({ maxUploadBytes: 1024 });
  try {
    const r = await fetch(`${small.url}/api/analyses`, { method: 'POST', headers: { authorization: `Bearer ${small.adminToken}`, 'content-type': 'image/png' }, body: HAND });
    assert.equal(r.status, 413);
    assert.match(((await r.json()) as { message: string }).message, /larger than/);
  } finally {
    await small.stop();
  }
});

void test('the event loop answers while a film is analysed in its worker', async () => {
  const order: string[] = [];
  // a film not analysed before (one pixel changed), so that its worker really computes
  const png = PNG.sync.read(Buffer.from(HAND));
  png.data[0] = ((png.data[0] as number) + 1) % 256;
  const film = new Uint8Array(PNG.sync.write(png));
  const analysis = call('POST', '/api/analyses', { token: reviewer, type: 'image/png', body: film }).then((r) => {
    assert.equal(r.status, 200, JSON.stringify(r.json));
    order.push('analysis');
  });
  await new Promise((r) => setTimeout(r, 50));
  const health = call('GET', '/api/health').then(() => order.push('health'));
  await Promise.all([analysis, health]);
  assert.deepEqual(order[0], 'health');
});

void test('the OpenAPI document names every endpoint with its security', async () => {
  const r = await call('GET', '/openapi.json');
  const paths = r.json['paths'] as Record<string, Record<string, { security?: unknown[] }>>;
  for (const p of ['/api/analyses', '/api/instances', '/api/instances/{id}', '/api/instances/{id}/image', '/api/instances/{id}/heatmap/{task}', '/api/instances/{id}/reviews', '/api/tokens', '/api/tasks', '/api/ready']) {
    assert.ok(paths[p] !== undefined, `${p} documented`);
  }
  assert.ok(paths['/api/analyses']?.['post']?.security !== undefined);
});

void test('the request log names routes and statuses, never an id, a query or a token', () => {
  assert.ok(s.logLines.some((l) => l.startsWith('POST /api/analyses 200')));
  for (const l of s.logLines) {
    assert.ok(!/sex=|phy_|\/instances\/\d/.test(l), l);
  }
});

void test('the rate limit answers 429 with the reason past its count', async () => {
  const limited = await startTestServer({ rateLimitPerMinute: 3 });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${limited.url}/api/tasks`, { headers: { authorization: `Bearer ${limited.adminToken}` } })).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  } finally {
    await limited.stop();
  }
});

void test('a DICOM hand (application/dicom): sex and age from its header, the registry keeps modality and body part, and nothing of the header that identifies', async () => {
  const png = await readRadiograph('samples/hand-0.png');
  const pixels = new Uint16Array(png.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round((png.pixels[i] ?? 0) * 16);
  const stamp = Date.now() % 1_000_000;
  const uid = (n: number): string => `2.25.${1000 + n}${stamp}`;
  const film = await encodePhantomDx({
    ...LEFT_HAND_PA_DX,
    pixels,
    rows: png.rows,
    columns: png.columns,
    patientId: 'SERVER-TEST-PATIENT-7',
    sex: 'F',
    birthDate: '20150101',
    studyDate: '20170301',
    ageDays: 790,
    studyInstanceUid: uid(1),
    seriesInstanceUid: uid(2),
    sopInstanceUid: uid(3),
    derivation: 'physis server test film',
    modelName: 'physis-server-test',
    implementationClassUid: '2.25.1',
  });
  const r = await call('POST', '/api/analyses', { token: reviewer, type: 'application/dicom', body: film });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const [result] = r.json['results'] as Json[];
  assert.equal(result?.['outcome'], 'answered');
  assert.deepEqual((result?.['inputs'] as Json)['sex'], { value: 'F', source: 'dicom' });
  const instance = r.json['instance'] as Json;
  assert.equal(instance['modality'], 'DX');
  assert.equal(instance['bodyPart'], 'HAND');
  assert.equal(instance['sex'], 'F');
  assert.equal(typeof instance['ageMonths'], 'number');
  const text = JSON.stringify(r.json);
  for (const secret of ['SERVER-TEST-PATIENT-7', '20150101', '20170301', '2017-03-01', uid(1), uid(2), uid(3)]) assert.ok(!text.includes(secret), `the answer holds no ${secret}`);
});
