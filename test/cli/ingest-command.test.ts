/**
 * `physis ingest`: exactly once through a kill. A folder of synthetic films (tiny drawn hands and knees that the gate
 * refuses, so they are quarantined with its reason), copies of some of them, and a few real hands and DICOM files from
 * ../shared/data when present, is ingested by a child process that is killed with SIGKILL once the registry has rows;
 * the same command is run again and every file must be in the registry exactly once, no prediction twice. The same
 * on PostgreSQL where a server answers. A mixed folder (DICOM corpus, hands, a text file, a truncated PNG, an empty
 * file) must have every file accounted for, and nothing the registry keeps may repeat a name, id, UID or date of a
 * DICOM header.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { encodeGrayPng, listFiles, parseDicomDataSet, PhantomRandom } from '../../src/radiograph/index.js';
import { openRegistry, RegistryUnreachableError, type RegistryStore } from '../../src/registry/index.js';
import { capture } from './capture.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';

const DATA = resolve('../shared/data');
const HANDS = join(DATA, 'rsna-hand', 'images');
const DICOM = join(DATA, 'dicom');
const KEY = 'ingest-test-key-0123456789abcdef';
const SERVER = process.env['PHYSIS_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const dir = mkdtempSync(join(tmpdir(), 'physis-ingest-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A tiny drawn film, `hand_48x48_<seed>` (a palm and five fingers) or `knee_48x48_<seed>` (femur and tibia with the
 * joint space between), bright bone on dark background with seeded noise so that every film has its own bytes.
 */
function syntheticFilm(kind: 'hand' | 'knee', seed: number, size = 48): Uint8Array {
  const random = new PhantomRandom(seed);
  const data = new Float32Array(size * size);
  const inBone = (x: number, y: number): boolean => {
    if (kind === 'hand') {
      if (x > 12 && x < 36 && y > 26 && y < 44) return true; // palm
      return [14, 19, 24, 29].some((fx) => x >= fx && x < fx + 3 && y > 8 && y <= 26) || (x > 34 && x < 40 && y > 20 && y < 32); // fingers, thumb
    }
    return (x > 16 && x < 32 && y < 21) || (x > 17 && x < 31 && y > 25); // femur, tibia
  };
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = (inBone(x, y) ? 0.8 : 0.1) + 0.1 * random.float();
  return encodeGrayPng(size, size, data);
}

/** The files of the kill test: synthetic films, copies, and up to 3 real hands and 4 DICOM files when present. */
function killFolder(name: string, films: number): { root: string; files: string[]; real: string } {
  const root = join(dir, name);
  mkdirSync(join(root, 'synthetic'), { recursive: true });
  for (let i = 0; i < films; i++) {
    const kind = i % 2 === 0 ? 'hand' : 'knee';
    writeFileSync(join(root, 'synthetic', `${kind}_48x48_${String(i).padStart(3, '0')}.png`), syntheticFilm(kind, i));
  }
  mkdirSync(join(root, 'copies'));
  for (const i of [0, 1, 2]) copyFileSync(join(root, 'synthetic', `${i % 2 === 0 ? 'hand' : 'knee'}_48x48_00${i}.png`), join(root, 'copies', `copy-${i}.png`));
  let real = 'no real films: ../shared/data absent';
  if (existsSync(HANDS) && existsSync(DICOM)) {
    mkdirSync(join(root, 'real'));
    const hands = readdirSync(HANDS).filter((f) => f.endsWith('.png')).sort().slice(0, 3);
    const dicoms = ['ColorTestMalaterre.dcm', '2024-05-30-GuillemVela.dcm', 'TransferSyntaxes_1.2.840.10008.1.2.2.dcm', '2017-06-27-XSSInjection.dcm'].filter((f) => existsSync(join(DICOM, f)));
    for (const f of hands) copyFileSync(join(HANDS, f), join(root, 'real', f));
    for (const f of dicoms) copyFileSync(join(DICOM, f), join(root, 'real', f));
    copyFileSync(join(HANDS, hands[0] as string), join(root, 'copies', 'hand-copy.png'));
    real = `${hands.length} real hands and ${dicoms.length} DICOM files`;
  }
  return { root, files: listFiles(root), real };
}

/** `physis <argv>` in a child process with the de-identification key in its environment. */
const start = (argv: string[]): CliProcess => startCli(argv, { PHYSIS_DEID_KEY: KEY });

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Every file in the registry exactly once, and no prediction twice. */
async function checkExactlyOnce(store: RegistryStore, files: readonly string[]): Promise<{ stored: number; quarantined: number; duplicate: number; predictions: number }> {
  const rows = await store.listInstances();
  const paths = rows.map((r) => r.file.sourcePath).sort();
  assert.deepEqual(paths, [...files].sort(), 'every file recorded exactly once');
  const counts = await store.countByStatus();
  assert.equal(counts.total, files.length);
  let predictions = 0;
  const instances = [...new Set(rows.filter((r) => r.file.status === 'stored').map((r) => r.file.instanceId as number))];
  for (const id of instances) {
    const ps = await store.listPredictions(id);
    const keys = ps.map((p) => `${p.task} ${p.weightsSha256}`);
    assert.equal(new Set(keys).size, keys.length, `instance #${id}: no prediction twice`);
    predictions += ps.length;
  }
  for (const r of rows) if (r.file.status === 'quarantined') assert.match(r.file.quarantineReason ?? '', /^\S.*\S$/, 'one-line reason');
  return { stored: counts.stored, quarantined: counts.quarantined, duplicate: counts.duplicate, predictions };
}

/** Ingest `n` drawn films (and the real ones), kill -9 once the registry has `killAt` rows, ingest again; then every file exactly once. */
async function killAndResume(url: string, name: string, n: number, killAt: number): Promise<void> {
  const { root, files, real } = killFolder(name, n);
  process.stderr.write(`# kill test (${name}): ${files.length} files, ${real}\n`);
  const argv = ['ingest', root, '--registry', url, '--json'];
  const first = start(argv);
  const store = await openRegistry(url);
  try {
    let rowsAtKill = 0;
    const exited = first.done.then(() => true);
    for (let waited = 0; waited < 120_000; waited += 50) {
      rowsAtKill = (await store.countByStatus()).total;
      if (rowsAtKill >= killAt || (await Promise.race([exited, sleep(50).then(() => false)]))) break;
    }
    assert.ok(rowsAtKill >= killAt, `the first run recorded rows before the kill (${rowsAtKill})`);
    assert.ok(first.child.kill('SIGKILL'), 'killed while running');
    const killed = await first.done;
    assert.equal(killed.signal, 'SIGKILL', `the first run was killed, not finished: ${killed.stderr.slice(-500)}`);
    const afterKill = (await store.countByStatus()).total;
    assert.ok(afterKill < files.length, `killed mid-run (${afterKill} of ${files.length} recorded)`);

    const second = await start(argv).done;
    assert.equal(second.code, 0, second.stderr.slice(-2000));
    const lines = second.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status?: string; summary?: { skipped: number; films: number } });
    const summary = lines.at(-1)?.summary;
    assert.ok(summary !== undefined, 'a summary ends the run');
    assert.equal(summary.films, files.length);
    assert.equal(summary.skipped, afterKill, 'the rerun skipped exactly what the killed run had recorded');
    assert.match(second.stderr, /ingest: \d+\/\d+ films, [\d.]+ films\/s/);

    const c = await checkExactlyOnce(store, files);
    // a copy of a stored film is a duplicate (the real hand); copies of quarantined bytes are quarantined as well
    assert.equal(c.duplicate, files.some((f) => f.endsWith('hand-copy.png')) ? 1 : 0, 'the copy of a stored film is a duplicate');
    const handsStored = files.filter((f) => f.includes('/real/') && f.endsWith('.png')).length;
    assert.ok(c.stored >= handsStored, 'real hands are stored');
    assert.ok(c.predictions >= handsStored, 'with their predictions');
    process.stderr.write(`# kill test (${name}): killed at ${afterKill}/${files.length} rows; after the rerun ${c.stored} stored, ${c.quarantined} quarantined, ${c.duplicate} duplicate, ${c.predictions} predictions\n`);

    // a third run changes nothing
    const third = await start(argv).done;
    assert.equal(third.code, 0, third.stderr.slice(-1000));
    assert.deepEqual(await checkExactlyOnce(store, files), c);
  } finally {
    await store.close();
  }
}

void test('physis ingest (SQLite): 500 films killed with SIGKILL mid-run and rerun, every file is in the registry exactly once, no prediction twice', { timeout: 600_000 }, async () => {
  // 500 films, killed well inside the run
  await killAndResume(`sqlite:${join(dir, 'kill.db')}`, 'kill-sqlite', 500, 150);
});

/** A fresh schema on the PostgreSQL test server (as test/registry/postgres.test.ts makes them), or why there is none. */
async function postgresSchema(): Promise<{ url: string; schema: string } | { why: string }> {
  const schema = `physis_ingest_${process.pid}_${randomBytes(4).toString('hex')}`;
  const url = new URL(SERVER);
  url.searchParams.set('schema', schema);
  try {
    await (await openRegistry(url.toString(), { connectTimeoutMs: 2000 })).close();
    return { url: url.toString(), schema };
  } catch (e) {
    if (e instanceof RegistryUnreachableError) return { why: e.message };
    throw e;
  }
}

const pgTarget = await postgresSchema();
void test(
  'physis ingest (PostgreSQL): killed with SIGKILL mid-run and rerun, every file exactly once',
  { timeout: 600_000, ...('why' in pgTarget ? { skip: `${pgTarget.why}; set PHYSIS_TEST_POSTGRES_URL to run it` } : {}) },
  async () => {
    if ('why' in pgTarget) return;
    try {
      await killAndResume(pgTarget.url, 'kill-postgres', 120, 5);
    } finally {
      const client = new pg.Client({ connectionString: SERVER });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${pgTarget.schema}" CASCADE`).finally(() => client.end());
    }
  },
);

void test(
  'physis ingest: a mixed folder (DICOM corpus, hands, non-images) has every file accounted for, and the registry keeps no header identifier',
  { timeout: 600_000, ...(existsSync(DICOM) && existsSync(HANDS) ? {} : { skip: `../shared/data absent (${DICOM}): the mixed-folder test needs the DICOM corpus and the hands` }) },
  async () => {
    const root = join(dir, 'mixed');
    mkdirSync(join(root, 'dicom'), { recursive: true });
    mkdirSync(join(root, 'hands'));
    for (const f of readdirSync(DICOM).sort()) copyFileSync(join(DICOM, f), join(root, 'dicom', f));
    const hands = readdirSync(HANDS).filter((f) => f.endsWith('.png')).sort().slice(0, 3);
    for (const f of hands) copyFileSync(join(HANDS, f), join(root, 'hands', f));
    writeFileSync(join(root, 'notes.txt'), 'not a film\n');
    writeFileSync(join(root, 'truncated.png'), readFileSync(join(HANDS, hands[0] as string)).subarray(0, 400));
    writeFileSync(join(root, 'empty.dcm'), '');
    writeFileSync(join(root, 'manifest.csv'), `file,sex\nhands/${hands[0] as string},F\n`);
    const files = listFiles(root).filter((f) => !f.endsWith('manifest.csv'));

    const url = `sqlite:${join(dir, 'mixed.db')}`;
    const r = await capture(['ingest', root, '--registry', url, '--manifest', join(root, 'manifest.csv'), '--key-file', join(dir, 'mixed.key'), '--json']);
    assert.equal(r.code, 0, r.stderr.slice(-2000));
    const store = await openRegistry(url);
    try {
      const c = await checkExactlyOnce(store, files);
      const rows = await store.listInstances();
      const status = (name: string): string | undefined => rows.find((x) => x.file.sourcePath.endsWith(name))?.file.status;
      assert.equal(status('notes.txt'), 'quarantined');
      assert.equal(status('truncated.png'), 'quarantined');
      assert.equal(status('empty.dcm'), 'quarantined');
      for (const h of hands) assert.equal(status(h), 'stored', h);
      const femaleHand = rows.find((x) => x.file.sourcePath.endsWith(hands[0] as string));
      assert.equal(femaleHand?.instance?.sex, 'F', 'the manifest gives a PNG its sex');
      assert.equal(femaleHand?.results[0]?.prediction.task, 'hand-bone-age');
      assert.match(femaleHand?.results[0]?.prediction.label ?? '', /^\d+(\.\d)?$/);
      process.stderr.write(`# mixed folder: ${files.length} files: ${c.stored} stored, ${c.quarantined} quarantined, ${c.duplicate} duplicate\n`);

      // nothing kept repeats a header's names, ids, UIDs or dates (PS3.15 Annex E); the source path is the user's own
      const kept = JSON.stringify(rows.map((x) => ({ ...x, file: { ...x.file, sourcePath: '' }, instance: x.instance === null ? null : { ...x.instance, sourcePath: '' } })));
      let checked = 0;
      for (const f of readdirSync(DICOM)) {
        let ds;
        try {
          ds = parseDicomDataSet(new Uint8Array(readFileSync(join(DICOM, f))), f);
        } catch {
          continue;
        }
        const identifiers = ['x00100010', 'x00100020', 'x00100030', 'x00080050', 'x00080080', 'x0020000d', 'x0020000e', 'x00080018', 'x00080020', 'x00080090']
          .map((tag) => ds.string(tag)?.trim() ?? '')
          .filter((v) => v.length >= 6);
        for (const v of identifiers) assert.ok(!kept.includes(v), `${f}: the registry repeats a header value`);
        checked += identifiers.length;
      }
      assert.ok(checked > 50, `header values checked (${checked})`);
      const uids = rows.flatMap((x) => [x.instance?.studyInstanceUid, x.instance?.seriesInstanceUid, x.instance?.sopInstanceUid]).filter((u): u is string => typeof u === 'string');
      assert.ok(uids.every((u) => u.startsWith('2.25.')), 'UIDs remapped (PS3.5 B.2)');
    } finally {
      await store.close();
    }
  },
);

void test('physis ingest: usage errors name the fix (no key, a task without a model, a bad --bundle)', async () => {
  const root = join(dir, 'usage');
  mkdirSync(root, { recursive: true });
  const saved = process.env['PHYSIS_DEID_KEY'];
  delete process.env['PHYSIS_DEID_KEY'];
  try {
    const cases: [string[], RegExp][] = [
      [['ingest', root], /give --key-file FILE \(created when absent\) or set PHYSIS_DEID_KEY/],
      [['ingest', root, '--key-file', join(dir, 'u.key'), '--tasks', 'knee-bone-age'], /knee-bone-age ships no default model; give --bundle knee-bone-age=DIR/],
      [['ingest', root, '--key-file', join(dir, 'u.key'), '--bundle', 'models/hand-bone-age'], /--bundle takes task=dir/],
      [['ingest', join(root, 'missing')], /no such folder/],
    ];
    for (const [argv, message] of cases) {
      const r = await capture(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message);
    }
  } finally {
    if (saved !== undefined) process.env['PHYSIS_DEID_KEY'] = saved;
  }
});
