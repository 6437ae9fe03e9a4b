/**
 * Fuzz `POST /api/analyses` over real HTTP: 1,000 corrupted uploads (PHYSIS_SLOW=1: 5,000), seeded, each answered
 * with a 4xx and a one-line JSON reason — never a 5xx, never a hang (each request has its own timeout; four in flight
 * at once) — and the server still answers a good hand film correctly at the end. About a minute here.
 *
 * The cases: the decoder fuzz test's mutations (bit flips, truncations, DICOM length fields; test/radiograph/
 * fuzz-mutations.ts) of its corpus (code-made DICOMs in every transfer syntax, the DICOM corpus of ../shared/data
 * when present, the sample hand PNG) and of a small JPEG made here; random bytes, bare and behind a PNG, JPEG or
 * DICOM signature; headers only; and films that declare huge sizes (a PNG IHDR with a valid CRC, DICOM Rows and
 * Columns of 65535), which must be refused before their pixels are allocated. A mutation can leave a film that still
 * reads (a bit flip in DICOM pixel data): the gate then refuses it (422), or, were it a readable hand, answers it
 * (200, counted and reported).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { crc32 } from 'node:zlib';
import jpeg from 'jpeg-js';
import { corpus, mutate, prng } from '../radiograph/fuzz-mutations.js';
import { writeImage } from '../radiograph/dicom-writer.js';
import { startTestServer, type TestServer } from './helpers.js';

const CASES = process.env['PHYSIS_SLOW'] === '1' ? 5000 : 1000;
const SEED = 0x5eed4711;
/** Uploads in flight at once: the server reads, hashes and answers some while its worker decodes another. */
const CLIENTS = 4;
/** Far beyond any case seen here (the slowest took well under a second); a case past it is a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
const HAND = new Uint8Array(readFileSync('samples/hand-0.png'));

let s: TestServer;
before(async () => {
  s = await startTestServer({ rateLimitPerMinute: 1_000_000, webDir: null });
});
after(async () => {
  await s.stop();
});

/** ramp_64x64 as a baseline JPEG. */
function rampJpeg(): Uint8Array {
  const data = Buffer.alloc(64 * 64 * 4);
  for (let i = 0; i < 64 * 64; i++) data.fill((i % 64) * 4, i * 4, i * 4 + 3).writeUInt8(255, i * 4 + 3);
  return new Uint8Array(jpeg.encode({ data, width: 64, height: 64 }, 90).data);
}

/** The sample hand PNG declaring `width` × `height` in its IHDR, with the chunk's CRC made valid again. */
function pngDeclaring(width: number, height: number): Uint8Array {
  const b = HAND.slice();
  const dv = new DataView(b.buffer);
  // the signature (8 bytes), IHDR's length and type (8), then width and height; the CRC covers type and data (17 bytes)
  dv.setUint32(16, width >>> 0);
  dv.setUint32(20, height >>> 0);
  dv.setUint32(29, crc32(b.subarray(12, 29)) >>> 0);
  return b;
}

/** An 8×8 DICOM whose Rows and Columns are then overwritten with 65535 (4.3 G pixels declared, 64 sent). */
function dicomDeclaringHuge(explicit: boolean): Uint8Array {
  const b = writeImage({ rows: 8, columns: 8, bitsStored: 12, values: Array.from({ length: 64 }, (_, i) => i * 64), ...(explicit ? {} : { transferSyntax: '1.2.840.10008.1.2' }) });
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let found = 0;
  for (let i = 132; i + 10 <= b.length; i += 2) {
    // (0028,0010) Rows and (0028,0011) Columns, US: value 2 bytes after an 8-byte (explicit) or 8-byte (implicit) header
    if (dv.getUint16(i, true) === 0x0028 && (dv.getUint16(i + 2, true) === 0x0010 || dv.getUint16(i + 2, true) === 0x0011)) {
      dv.setUint16(i + 8, 0xffff, true);
      found++;
    }
  }
  assert.equal(found, 2, 'Rows and Columns found');
  return b;
}

function randomBytes(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

/** The signatures a film is sniffed by (PNG, JPEG SOI, a DICOM preamble with DICM). */
const SIGNATURES: readonly Uint8Array[] = [
  Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
  Uint8Array.of(0xff, 0xd8, 0xff),
  Uint8Array.from([...new Array<number>(128).fill(0), 0x44, 0x49, 0x43, 0x4d]),
];

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

interface Answer {
  readonly status: number;
  readonly error: string;
  readonly message: string;
  readonly ms: number;
}

async function post(bytes: Uint8Array, query = ''): Promise<Answer> {
  const t = performance.now();
  const r = await fetch(`${s.url}/api/analyses${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/octet-stream' },
    body: bytes,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await r.text();
  let json: { error?: unknown; message?: unknown; results?: unknown } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // checked below: every answer is JSON
  }
  return { status: r.status, error: String(json.error ?? ''), message: typeof json.message === 'string' ? json.message : r.status === 200 ? '' : `(not JSON: ${text.slice(0, 80)})`, ms: performance.now() - t };
}

void test(`${CASES} corrupted uploads: each a 4xx with a one-line reason, none a 5xx or a hang; the server answers a good film after`, async (t) => {
  const files = [...corpus(), { name: 'ramp_64x64.jpg', bytes: rampJpeg() }];
  const rand = prng(SEED);
  const byStatus = new Map<number, number>();
  const slow: string[] = [];
  let slowestMs = 0;
  const started = performance.now();
  let nextId = 0;
  /** The next case, made in order from the one seeded stream (so a case's bytes depend only on its index). */
  const nextCase = (): { id: number; bytes: Uint8Array; how: string } | null => {
    if (nextId >= CASES) return null;
    const id = nextId++;
    const pick = rand();
    let bytes: Uint8Array;
    let how: string;
    if (pick < 0.6) {
      const source = files[Math.floor(rand() * files.length)];
      assert.ok(source);
      const m = mutate(source.bytes, rand);
      bytes = m.bytes;
      how = `${source.name} ${m.how}`;
    } else if (pick < 0.7) {
      bytes = randomBytes(rand, 1 + Math.floor(rand() * 4096));
      how = `${bytes.length} random bytes`;
    } else if (pick < 0.85) {
      const sig = SIGNATURES[Math.floor(rand() * SIGNATURES.length)] as Uint8Array;
      bytes = concat(sig, randomBytes(rand, Math.floor(rand() * 4096)));
      how = `a ${sig.length}-byte signature and ${bytes.length - sig.length} random bytes`;
    } else if (pick < 0.9) {
      const source = files[Math.floor(rand() * files.length)];
      assert.ok(source);
      bytes = source.bytes.slice(0, 1 + Math.floor(rand() * 160));
      how = `${source.name}'s first ${bytes.length} bytes`;
    } else {
      const k = Math.floor(rand() * 4);
      if (k < 2) {
        const w = 2 ** 15 + Math.floor(rand() * (2 ** 31 - 2 ** 15));
        const h = 2 ** 15 + Math.floor(rand() * (2 ** 31 - 2 ** 15));
        bytes = pngDeclaring(w, h);
        how = `hand-0.png declaring ${w}×${h}`;
      } else {
        bytes = dicomDeclaringHuge(k === 2);
        how = `DICOM (${k === 2 ? 'explicit' : 'implicit'} VR) declaring 65535×65535`;
      }
    }
    return { id, bytes, how };
  };
  const client = async (): Promise<void> => {
    for (let c = nextCase(); c !== null; c = nextCase()) {
      const { id, bytes, how } = c;
      const label = `#${id} ${how}`;
      let a: Answer;
      try {
        a = await post(bytes);
      } catch (e) {
        assert.fail(`${label}: ${e instanceof Error && e.name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS} ms (hang)` : String(e)}`);
      }
      byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      if (a.ms > slowestMs) slowestMs = a.ms;
      if (a.ms > 2000) slow.push(`${label}: ${Math.round(a.ms)} ms`);
      assert.ok(a.status < 500, `${label}: ${a.status} ${a.error}: ${a.message}`);
      if (a.status === 200) continue; // still a readable film that the gate passed: analysed (counted below)
      assert.ok(a.status >= 400, `${label}: ${a.status}`);
      assert.ok(a.error !== '' && a.message.trim() !== '', `${label}: ${a.status} without a reason: ${a.message}`);
      assert.ok(!/[\r\n]/.test(a.message), `${label}: the reason is one line: ${a.message}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${files.length} corpus files, ${CASES} cases in ${seconds.toFixed(1)} s: ${[...byStatus].sort(([x], [y]) => x - y).map(([k, v]) => `${v}× ${k}`).join(', ')}; slowest ${Math.round(slowestMs)} ms${slow.length > 0 ? `; over 2 s: ${slow.join('; ')}` : ''}`);
  assert.ok((byStatus.get(415) ?? 0) > 0 && (byStatus.get(422) ?? 0) > 0, 'both refusals occur, or the cases exercise nothing');

  assert.equal((await fetch(`${s.url}/api/health`)).status, 200);
  const good = await fetch(`${s.url}/api/analyses?sex=F`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'image/png' }, body: HAND, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await good.json()) as { results?: { task: string; outcome: string; summary: string }[] };
  assert.equal(good.status, 200, JSON.stringify(body));
  const [hand] = body.results ?? [];
  assert.equal(hand?.task, 'hand-bone-age');
  assert.equal(hand.outcome, 'answered');
  assert.match(hand.summary, /bone age \d+\.\d months/);
});

void test('a Content-Length far beyond the limit is 413 at once, before the body arrives; the server goes on', async () => {
  const { hostname, port } = new URL(s.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`POST /api/analyses HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: application/dicom\r\nContent-Length: 99999999999\r\n\r\nDICM`);
    });
    let got = '';
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (hang)`));
    });
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n') && got.includes('}')) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('end', () => resolve(got));
  });
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /larger than/);
  assert.equal((await fetch(`${s.url}/api/health`)).status, 200);
});
