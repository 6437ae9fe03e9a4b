/**
 * The PACS round trip against a real Orthanc: Orthanc → Physis → Orthanc. A DX hand film made from samples/hand-0.png
 * (sex, dates, BodyPartExamined HAND: the shipped hand model answers it) and a drawn knee DX film (the gate refuses
 * it) are stored into Orthanc by STOW-RS; the watcher polls:
 * 1. through the module, with the STOW of the hand's results made to fail: the knee's refusal SR is stored, the hand
 *    is reported failed at `store` and not marked handled; both films are in the registry once;
 * 2. through `physis pacs watch --once` (the command's run, as the CLI tests run it): the hand is retried (analysed
 *    again, not recorded again) and its SR and SC stored; the knee is skipped;
 * 3. through the module again: nothing to do (resumed).
 * Then the results are read back by QIDO-RS and WADO-RS: the SR and the SC are in the film's own study, new series;
 * the refused film has an SR with the reason and no SC; dciodvfy finds no error, dsrdump reads the SRs;
 * readResultObject gives back the registry's bone age, model id and weights hash. Skipped with one line without
 * Orthanc (and the dciodvfy/dsrdump checks without dicom3tools/dcmtk).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  COMPREHENSIVE_SR_SOP_CLASS_UID,
  DicomWebClient,
  pacsRoundTrip,
  pacsSourcePath,
  PACS_RESULTS_STORED,
  pollOnce,
  RADIOGRAPH_SOP_CLASS_UIDS,
  readResultObject,
  SECONDARY_CAPTURE_SOP_CLASS_UID,
  type FilmAnalysis,
  type PollEvent,
  type ReadStructuredReport,
  type WatchFilter,
} from '../../src/pacs/index.js';
import { encodePhantomDx, readRadiograph, uidFrom, type PhantomDxFilm } from '../../src/radiograph/index.js';
import { openRegistry, type RegistryStore } from '../../src/registry/index.js';
import { closeIngestModels, getTask, openIngestModels, type IngestModels } from '../../src/tasks/index.js';
import { capture } from '../cli/capture.js';
import { orthancUnavailable, startOrthanc, type OrthancServer } from '../helpers/orthanc.js';
import { dciodvfyErrors, dsrdump } from '../pacs/validators.js';

const KEY = 'pacs-round-trip-test-key-0123456789';
const HAND_MODEL = 'models/hand-bone-age';
const GATE = 'models/suitability';
/** The CLI in a child process under tsx (as the ingest command's kill test runs it). */
const ENTRY = `import { main } from ${JSON.stringify(resolve('src/cli/main.ts'))}; process.exitCode = await main(process.argv.slice(1));`;

/** What the two films share: patient, dates, detector. A 2-year-old girl's films of 10 March 2024. */
const FILM: Omit<PhantomDxFilm, 'pixels' | 'rows' | 'columns' | 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid' | 'bodyPartExamined' | 'anatomicRegion'> = {
  imagerPixelSpacingMm: 0.15,
  magnification: 1,
  patientId: 'RT-PATIENT-7',
  sex: 'F',
  birthDate: '20220301',
  studyDate: '20240310',
  ageDays: 740,
  seriesNumber: 1,
  instanceNumber: 1,
  derivation: 'physis pacs round-trip test film',
  viewPosition: 'PA',
  patientOrientation: ['R', 'F'],
  imageLaterality: 'L',
  modelName: 'physis-pacs-round-trip-test',
  calibrationDescription: 'test',
  implementationClassUid: '2.25.1',
};

interface TestFilm {
  readonly bytes: Uint8Array;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
}

function uids(key: string): Pick<TestFilm, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'> {
  return { studyInstanceUid: uidFrom(`pacs-round-trip/${key}/study`), seriesInstanceUid: uidFrom(`pacs-round-trip/${key}/series`), sopInstanceUid: uidFrom(`pacs-round-trip/${key}/sop`) };
}

/** `hand_592x910`: samples/hand-0.png's 8-bit values ×16 as 12-bit DX pixels, BodyPartExamined HAND. */
async function handFilm(): Promise<TestFilm> {
  const png = await readRadiograph('samples/hand-0.png');
  const pixels = new Uint16Array(png.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round((png.pixels[i] ?? 0) * 16);
  const id = uids('hand');
  const bytes = await encodePhantomDx({
    ...FILM,
    ...id,
    pixels,
    rows: png.rows,
    columns: png.columns,
    bodyPartExamined: 'HAND',
    anatomicRegion: { codeValue: '85562004', codingSchemeDesignator: 'SCT', codeMeaning: 'Hand' },
  });
  return { bytes, ...id };
}

/** `knee_256x256`: two bright blocks (femur, tibia) with a joint space between, on soft tissue; AP, BodyPartExamined KNEE. */
async function kneeFilm(): Promise<TestFilm> {
  const size = 256;
  const pixels = new Uint16Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const bone = (x > 85 && x < 171 && y < 112) || (x > 90 && x < 166 && y > 134);
      pixels[y * size + x] = Math.round((bone ? 3200 : 600) + 200 * Math.sin(x * 0.3) * Math.cos(y * 0.2));
    }
  }
  const id = uids('knee');
  const bytes = await encodePhantomDx({
    ...FILM,
    ...id,
    pixels,
    rows: size,
    columns: size,
    viewPosition: 'AP',
    imageLaterality: 'R',
    bodyPartExamined: 'KNEE',
    anatomicRegion: { codeValue: '72696002', codingSchemeDesignator: 'SCT', codeMeaning: 'Knee' },
  });
  return { bytes, ...id };
}

void describe('PACS round trip: Orthanc → physis pacs watch → Orthanc', { skip: orthancUnavailable() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'physis-pacs-round-trip-'));
  const registryUrl = `sqlite:${join(dir, 'registry.db')}`;
  const keyFile = join(dir, 'deid.key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
  let orthanc: OrthancServer | undefined;
  let pacs: DicomWebClient;
  let models: IngestModels | undefined;
  let store: RegistryStore | undefined;
  let hand: TestFilm;
  let knee: TestFilm;
  const filter: WatchFilter = { modality: 'DX', studyDate: { fromDate: '20240101' }, sopClassUids: RADIOGRAPH_SOP_CLASS_UIDS };

  before(async () => {
    [orthanc, hand, knee] = await Promise.all([startOrthanc(), handFilm(), kneeFilm()]);
    pacs = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, timeoutMs: 20_000 });
    const stow = await pacs.store([hand.bytes, knee.bytes]);
    assert.equal(stow.storedCount, 2);
    models = await openIngestModels({ gateDir: GATE, tasks: [{ task: getTask('hand-bone-age'), dir: HAND_MODEL }] });
    store = await openRegistry(registryUrl);
  });
  after(async () => {
    await store?.close();
    if (models !== undefined) await closeIngestModels(models);
    await orthanc?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const need = <T>(v: T | undefined): T => {
    assert.ok(v !== undefined, 'set up in before()');
    return v;
  };

  void test('poll 1 (module): the hand\'s STOW fails and it is not marked; the knee\'s refusal SR is stored; each film recorded once', async () => {
    const s = need(store);
    const analysed = new Map<string, FilmAnalysis>();
    const trip = pacsRoundTrip({ store: s, models: need(models), key: KEY, onAnalysed: (ref, f) => analysed.set(ref.sopInstanceUid, f) });
    const events: PollEvent[] = [];
    const failingForHand: Pick<DicomWebClient, 'searchInstances' | 'retrieveInstance' | 'store'> = {
      searchInstances: (q) => pacs.searchInstances(q),
      retrieveInstance: (r) => pacs.retrieveInstance(r),
      store: async (objects, o) => {
        if (o?.studyInstanceUid === hand.studyInstanceUid) throw new Error('the PACS is full (made to fail by the test)');
        return pacs.store(objects, o);
      },
    };
    const summary = await pollOnce({ client: failingForHand, filter, ...trip, onProgress: (e) => events.push(e) });
    assert.deepEqual(
      { found: summary.found, skipped: summary.skipped, analysed: summary.analysed, stored: summary.stored, failed: summary.failed, storedObjects: summary.storedObjects },
      { found: 2, skipped: 0, analysed: 2, stored: 1, failed: 1, storedObjects: 1 },
    );
    assert.equal(summary.failures[0]?.ref.sopInstanceUid, hand.sopInstanceUid);
    assert.equal(summary.failures[0]?.stage, 'store');

    // what the analyses said: the hand answered (SR + SC written), the knee refused by the gate (SR only)
    const h = analysed.get(hand.sopInstanceUid);
    assert.equal(h?.status, 'stored');
    assert.deepEqual(h?.tasks.map((t) => t.outcome), ['answered']);
    assert.deepEqual(h?.objects.map((o) => o.kind), ['structured-report', 'secondary-capture']);
    const k = analysed.get(knee.sopInstanceUid);
    assert.equal(k?.status, 'quarantined');
    assert.deepEqual(k?.tasks.map((t) => t.outcome), ['refused']);
    assert.deepEqual(k?.objects.map((o) => o.kind), ['structured-report']);

    // the registry: each film once, at pacs:<remapped uid>; only the knee marked as stored into the PACS
    assert.deepEqual(await s.countByStatus(), { stored: 1, quarantined: 1, duplicate: 0, conflict: 0, total: 2 });
    for (const f of [hand, knee]) assert.equal((await s.filesAtPath(pacsSourcePath(f.sopInstanceUid, KEY))).length, 1);
    assert.equal(await trip.handled.seen(hand.sopInstanceUid), false);
    assert.equal(await trip.handled.seen(knee.sopInstanceUid), true);
    const [kneeRow] = await s.filesAtPath(pacsSourcePath(knee.sopInstanceUid, KEY));
    const marks = (await s.auditLog({ tableName: 'files', rowId: kneeRow?.id ?? -1 })).filter((e) => e.action === PACS_RESULTS_STORED);
    assert.deepEqual(marks.map((e) => e.detail), [{ storedCount: 1, failedCount: 0, objects: [{ kind: 'structured-report', task: 'hand-bone-age', sopInstanceUid: k?.objects[0]?.sopInstanceUid ?? '' }] }]);

    // the registry holds no real UID and no patient attribute of the films
    const everything = JSON.stringify([await s.exportRows(), await s.auditLog()]);
    for (const secret of [hand.sopInstanceUid, hand.studyInstanceUid, knee.sopInstanceUid, knee.seriesInstanceUid, FILM.patientId, FILM.birthDate]) assert.ok(!everything.includes(secret), `registry holds ${secret}`);
    assert.doesNotMatch(JSON.stringify(events), /RT-PATIENT/);
  });

  void test('poll 2 (physis pacs watch --once): the failed hand is retried and its results stored; the knee is skipped', async () => {
    const r = await capture(['pacs', 'watch', '--url', need(orthanc).dicomWebUrl, '--modality', 'DX', '--since', '20240101', '--once', '--registry', registryUrl, '--key-file', keyFile, '--tasks', 'hand-bone-age', '--gate', GATE, '--bundle', `hand-bone-age=${HAND_MODEL}`]);
    assert.equal(r.code, 0, r.stderr);
    process.stderr.write(`# physis pacs watch --once printed:\n${r.stdout.trim().replace(/^/gm, '#   ')}\n`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.match(lines[0] ?? '', /^film 1: 2 objects stored; hand-bone-age answered: bone age \d+\.\d months/);
    assert.equal(lines[1]?.replace(/in \d+\.\d s$/, 'in T s'), 'poll 1: 2 found, 1 already handled or not radiographs, 1 analysed, 1 stored (2 objects), 0 failed in T s');
    // lines name films by number: no patient attribute, no UID
    assert.doesNotMatch(r.stdout + r.stderr, /RT-PATIENT|20220301|\d+\.\d+\.\d+\.\d+/);
    const s = need(store);
    assert.deepEqual(await s.countByStatus(), { stored: 1, quarantined: 1, duplicate: 0, conflict: 0, total: 2 }, 'retried without a second record');
    assert.equal((await s.filesAtPath(pacsSourcePath(hand.sopInstanceUid, KEY))).length, 1);
  });

  void test('poll 3 (module): nothing left to do (resumed)', async () => {
    const trip = pacsRoundTrip({ store: need(store), models: need(models), key: KEY });
    const summary = await pollOnce({ client: pacs, filter, ...trip });
    assert.deepEqual({ found: summary.found, skipped: summary.skipped, analysed: summary.analysed, failed: summary.failed }, { found: 2, skipped: 2, analysed: 0, failed: 0 });
  });

  void test('without --once: polls every --interval until SIGTERM, then exits 0 (nothing new: every poll resumed)', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', ENTRY, 'pacs', 'watch', '--url', need(orthanc).dicomWebUrl, '--modality', 'DX', '--interval', '1', '--registry', registryUrl, '--key-file', keyFile, '--tasks', 'hand-bone-age', '--gate', GATE, '--bundle', `hand-bone-age=${HAND_MODEL}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no second poll within 45 s: ${stdout} ${stderr}`)), 45_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if ((stdout.match(/^poll \d+:/gm) ?? []).length >= 2) {
          clearTimeout(timer);
          done();
        }
      });
      child.on('exit', () => fail(new Error(`exited early: ${stderr}`)));
    }).finally(() => child.kill('SIGTERM'));
    assert.equal(await exited, 0, stderr);
    for (const line of stdout.trim().split('\n')) assert.match(line, /^poll \d+: 2 found, 2 already handled or not radiographs, 0 analysed, 0 stored \(0 objects\), 0 failed in \d+\.\d s$/);
  });

  void test('the PACS has, in each film\'s own study and new series: SR and SC for the hand, an SR with the reason for the knee; valid DICOM; values as in the registry', async (t) => {
    const s = need(store);
    const [row] = await s.listInstances({ status: 'stored', task: 'hand-bone-age' });
    const prediction = row?.results[0]?.prediction;
    assert.ok(prediction !== undefined);
    const answer = (prediction.outputs as { answer: { boneAgeMonths: number } }).answer;

    for (const [film, expected] of [
      [hand, [COMPREHENSIVE_SR_SOP_CLASS_UID, SECONDARY_CAPTURE_SOP_CLASS_UID]],
      [knee, [COMPREHENSIVE_SR_SOP_CLASS_UID]],
    ] as const) {
      const found = await pacs.searchInstances({ studyInstanceUid: film.studyInstanceUid });
      const results = found.filter((i) => i.sopInstanceUid !== film.sopInstanceUid);
      assert.equal(found.length - results.length, 1, 'the film itself is still there');
      assert.deepEqual(results.map((i) => i.sopClassUid).sort(), [...expected].sort());
      for (const i of results) {
        assert.equal(i.studyInstanceUid, film.studyInstanceUid, 'same study');
        assert.notEqual(i.seriesInstanceUid, film.seriesInstanceUid, 'new series');
        const bytes = await pacs.retrieveInstance(i);
        const v = dciodvfyErrors(bytes);
        if (v === null) t.diagnostic('dciodvfy not installed (Debian dicom3tools): IOD check skipped');
        else {
          assert.deepEqual(v.errors, [], v.all.join('\n'));
          const warnings = [...new Set(v.all.filter((l) => /^Warning/.test(l)))];
          t.diagnostic(`dciodvfy ${film === hand ? 'hand' : 'knee'} ${i.sopClassUid === SECONDARY_CAPTURE_SOP_CLASS_UID ? 'SC' : 'SR'}: 0 errors, ${warnings.length} distinct warnings${warnings.length > 0 ? ` (${warnings.join(' | ')})` : ''}`);
        }
        const o = readResultObject(bytes);
        assert.ok(o !== null, 'a Physis result object');
        assert.equal(o.studyInstanceUid, film.studyInstanceUid);
        assert.deepEqual(o.sources.map((x) => x.sopInstanceUid), [film.sopInstanceUid]);
        if (o.kind === 'secondary-capture') {
          assert.equal(o.burnedInAnnotation, 'YES');
          assert.deepEqual([o.rows, o.columns], [910, 592]);
          continue;
        }
        const d = dsrdump(bytes);
        if (d === null) t.diagnostic('dsrdump not installed (Debian dcmtk): SR read check skipped');
        else assert.deepEqual(d.errors, [], d.text);
        const sr: ReadStructuredReport = o;
        assert.equal(sr.algorithm?.name, prediction.modelId);
        assert.equal(sr.algorithm?.weightsSha256, prediction.weightsSha256);
        if (film === hand) {
          assert.equal(sr.refusal, null);
          const boneAge = sr.findings.find((f) => f.kind === 'numeric' && f.unit.value === 'mo');
          assert.equal(boneAge?.kind === 'numeric' ? boneAge.value : undefined, answer.boneAgeMonths);
          assert.equal(sr.gate?.passed, true);
        } else {
          assert.deepEqual(sr.findings, []);
          assert.match(sr.refusal ?? '', /not a left-hand PA radiograph/);
          assert.equal(sr.gate?.passed, false);
          if (d !== null) assert.match(d.text, /not a left-hand PA radiograph/);
        }
      }
    }
  });
});
