/**
 * The watcher's poll against a real Orthanc: new films found by modality, body part and date window are retrieved,
 * analysed by a fake analysis that returns a code-made Secondary Capture in the film's study, and stored back there;
 * a film the analysis cannot read and one whose result the PACS refuses are reported without stopping the poll; a
 * second poll skips what the first handled and retries what failed. Skipped with one line without Orthanc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DicomWebClient, dicomJsonString, pollOnce, type InstanceRecord, type PollEvent } from '../../src/pacs/index.js';
import { DX_PRESENTATION_SOP_CLASS_UID } from '../../src/radiograph/index.js';
import { orthancUnavailable, startOrthanc, type OrthancServer } from '../helpers/orthanc.js';
import { phantomDxFilm, secondaryCaptureIn, SECONDARY_CAPTURE_SOP_CLASS_UID } from '../helpers/dicom-objects.js';

void describe('pollOnce against Orthanc', { skip: orthancUnavailable() }, () => {
  let orthanc: OrthancServer | undefined;
  let pacs: DicomWebClient;
  type Film = Awaited<ReturnType<typeof phantomDxFilm>>;
  let good: Film[] = [];
  let unreadable: Film;
  let refused: Film;
  let knee: Film;
  let lateHand: Film;

  before(async () => {
    orthanc = await startOrthanc();
    pacs = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, timeoutMs: 20_000 });
    const first = await phantomDxFilm({ key: 'watch-hand-1', bodyPartExamined: 'HAND', studyDate: '20240110' });
    good = [
      first,
      await phantomDxFilm({ key: 'watch-hand-2', bodyPartExamined: 'HAND', studyDate: '20240110', studyInstanceUid: first.studyInstanceUid, patientKey: 'watch-hand-1', instanceNumber: 2 }),
      await phantomDxFilm({ key: 'watch-hand-3', bodyPartExamined: 'HAND', studyDate: '20240120' }),
    ];
    unreadable = await phantomDxFilm({ key: 'watch-unreadable', bodyPartExamined: 'HAND', studyDate: '20240115' });
    refused = await phantomDxFilm({ key: 'watch-refused', bodyPartExamined: 'HAND', studyDate: '20240116' });
    knee = await phantomDxFilm({ key: 'watch-knee', bodyPartExamined: 'KNEE', studyDate: '20240112' });
    lateHand = await phantomDxFilm({ key: 'watch-late-hand', bodyPartExamined: 'HAND', studyDate: '20240302' });
    await pacs.store([...good, unreadable, refused, knee, lateHand].map((f) => f.bytes));
  });
  after(async () => {
    await orthanc?.stop();
  });

  const handled = new Set<string>();
  const analysed: string[] = [];
  /** The fake analysis: a Secondary Capture in the film's study; throws for one film, returns a corrupt object for another. */
  const analyse = async (bytes: Uint8Array, ref: InstanceRecord): Promise<Uint8Array[]> => {
    analysed.push(ref.sopInstanceUid);
    assert.ok(bytes.length > 132);
    if (ref.sopInstanceUid === unreadable.sopInstanceUid) throw new Error('cannot read this film');
    if (ref.sopInstanceUid === refused.sopInstanceUid) return [new Uint8Array(Buffer.from('not a DICOM object'))];
    const patientId = dicomJsonString(ref.dataset, '00100020') ?? '';
    return [(await secondaryCaptureIn({ studyInstanceUid: ref.studyInstanceUid, patientId }, ref.sopInstanceUid)).bytes];
  };
  const filter = { modality: 'DX', bodyPartExamined: 'HAND', studyDate: { fromDate: '20240101', toDate: '20240131' }, sopClassUids: [DX_PRESENTATION_SOP_CLASS_UID] };

  void test('first poll: every new film analysed and its result stored in its study; bad films reported, the poll goes on', async () => {
    const events: PollEvent[] = [];
    const summary = await pollOnce({
      client: pacs,
      filter,
      handled: { seen: async (uid) => handled.has(uid), markHandled: async (ref) => void handled.add(ref.sopInstanceUid) },
      analyse,
      onProgress: (e) => events.push(e),
      pageSize: 2, // five films in pages of two: paging is exercised
    });
    assert.deepEqual(
      { found: summary.found, skipped: summary.skipped, analysed: summary.analysed, stored: summary.stored, failed: summary.failed, storedObjects: summary.storedObjects },
      { found: 5, skipped: 0, analysed: 5, stored: 3, failed: 2, storedObjects: 3 },
    );
    assert.deepEqual([...handled].sort(), good.map((f) => f.sopInstanceUid).sort());
    const failures = new Map(summary.failures.map((f) => [f.ref.sopInstanceUid, f]));
    assert.equal(failures.get(unreadable.sopInstanceUid)?.stage, 'analyse');
    assert.equal(failures.get(unreadable.sopInstanceUid)?.message, 'Error: cannot read this film');
    assert.equal(failures.get(refused.sopInstanceUid)?.stage, 'store');
    assert.match(failures.get(refused.sopInstanceUid)?.message ?? '', /^DicomWebError: STOW-RS http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\/2\.25\.\d+ refused 1 of 1 instances: #1: not a DICOM Part-10 object/);
    assert.deepEqual(events[0], { kind: 'found', count: 5 });
    assert.equal(events.filter((e) => e.kind === 'stored').length, 3);
    // events carry UIDs and counts, never a patient attribute
    assert.doesNotMatch(JSON.stringify(events), /TEST-watch|PHANTOM\^/);

    // the results are in the films' studies, next to them
    for (const f of good) {
      const inStudy = await pacs.searchInstances({ studyInstanceUid: f.studyInstanceUid, match: { SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS_UID } });
      const expected = good.filter((g) => g.studyInstanceUid === f.studyInstanceUid).length;
      assert.equal(inStudy.length, expected, `results in study of ${f.sopInstanceUid}`);
      assert.ok(inStudy.every((r) => r.studyInstanceUid === f.studyInstanceUid && r.modality === 'OT'));
    }
  });

  void test('second poll: handled films skipped, failed ones retried, results never analysed as films', async () => {
    analysed.length = 0;
    const summary = await pollOnce({ client: pacs, filter, handled: { seen: async (uid) => handled.has(uid) }, analyse });
    assert.deepEqual([summary.found, summary.skipped, summary.analysed, summary.failed], [5, 3, 2, 2]);
    assert.deepEqual(analysed.sort(), [unreadable.sopInstanceUid, refused.sopInstanceUid].sort());

    // a filter without modality finds the Secondary Captures too (same study dates); the SOP class list skips them
    const wide = await pollOnce({
      client: pacs,
      filter: { studyDate: { fromDate: '20240101' }, sopClassUids: [DX_PRESENTATION_SOP_CLASS_UID] },
      handled: { seen: async () => true },
      analyse: () => Promise.reject(new Error('nothing should be analysed')),
    });
    assert.equal(wide.found, 3 + 2 + 1 + 1 + 3);
    assert.equal(wide.analysed, 0);
    assert.equal(wide.skipped, wide.found);
  });

  void test('a search that fails stops the poll with the DicomWebError; an aborted poll stops before the next film', async () => {
    const broken = new DicomWebClient({ baseUrl: `${orthanc?.baseUrl ?? ''}/no-such-root` });
    await assert.rejects(pollOnce({ client: broken, filter, handled: { seen: async () => false }, analyse }), /^DicomWebError: QIDO-RS http:\/\/127\.0\.0\.1:\d+\/no-such-root\/instances answered HTTP 404/);
    const controller = new AbortController();
    controller.abort();
    const summary = await pollOnce({ client: pacs, filter, handled: { seen: async () => false }, analyse, signal: controller.signal });
    assert.deepEqual([summary.found, summary.analysed], [5, 0]);
  });
});

void test('a server that ignores offset (the same page again) ends the search instead of repeating it', async () => {
  const record = (uid: string): InstanceRecord => ({
    studyInstanceUid: '1', seriesInstanceUid: '2', sopInstanceUid: uid, sopClassUid: undefined, instanceNumber: undefined, modality: 'DX',
    bodyPartExamined: undefined, studyDate: undefined, rows: undefined, columns: undefined, retrieveUrl: undefined, dataset: {},
  });
  let searches = 0;
  const summary = await pollOnce({
    client: {
      searchInstances: () => {
        searches++;
        return Promise.resolve([record('1.1'), record('1.2')]);
      },
      retrieveInstance: () => Promise.resolve(new Uint8Array(200)),
      store: () => Promise.reject(new Error('nothing to store')),
    },
    filter: {},
    handled: { seen: async () => false },
    analyse: async () => [],
    pageSize: 2,
  });
  assert.deepEqual([summary.found, summary.stored, searches], [2, 2, 2]);
});
