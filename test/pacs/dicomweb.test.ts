/**
 * The DICOMweb client: the multipart reader and writer, the DICOM JSON reader, STOW-RS outcomes and the one-line
 * errors as fast unit tests; then QIDO-RS, WADO-RS and STOW-RS against a real Orthanc (test/helpers/orthanc.ts),
 * skipped with one line when Orthanc is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  DicomWebClient,
  DicomWebError,
  MultipartError,
  encodeMultipart,
  multipartBoundary,
  parseMediaType,
  parseMultipart,
  part10Identity,
  qidoRequest,
  readDicomJsonArray,
  stowResult,
  instanceRecord,
  type InstanceRecord,
} from '../../src/pacs/index.js';
import { freePort, orthancUnavailable, startOrthanc, type OrthancServer } from '../helpers/orthanc.js';
import { phantomDxFilm } from '../helpers/dicom-objects.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

void describe('multipart/related reader (RFC 2046 5.1.1)', () => {
  // each case: a Content-Type, a raw body, and the part bodies (as text) it must yield
  const CASES: { name: string; contentType: string; body: string; parts: string[]; types?: (string | undefined)[] }[] = [
    {
      name: 'crlf_two_parts',
      contentType: 'multipart/related; type="application/dicom"; boundary=XYZ',
      body: '--XYZ\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n--XYZ\r\nContent-Type: application/dicom\r\n\r\nBB\r\n--XYZ--\r\n',
      parts: ['AAA', 'BB'],
      types: ['application/dicom', 'application/dicom'],
    },
    {
      name: 'quoted_boundary_with_colon_and_equals',
      contentType: 'multipart/related; boundary="a:b=c d"; type="application/dicom"',
      body: '--a:b=c d\r\nContent-Type: application/dicom\r\n\r\nX\r\n--a:b=c d--',
      parts: ['X'],
    },
    {
      name: 'preamble_and_epilogue',
      contentType: 'multipart/related; boundary=B',
      body: 'This is a preamble.\r\nIt mentions --B in passing.\r\n--B\r\nContent-Type: application/dicom\r\n\r\nbody\r\n--B--\r\nepilogue --B\r\n',
      parts: ['body'],
    },
    {
      name: 'bare_lf_everywhere',
      contentType: 'multipart/related; boundary=B',
      body: '--B\nContent-Type: application/dicom\n\nline1\nline2\n--B\nContent-Type: application/dicom\n\nz\n--B--\n',
      parts: ['line1\nline2', 'z'],
    },
    {
      name: 'mixed_crlf_and_lf',
      contentType: 'multipart/related; boundary=B',
      body: '--B\r\nContent-Type: application/dicom\n\r\none\n--B\nContent-Type: application/dicom\r\n\r\ntwo\r\n--B--',
      parts: ['one', 'two'],
    },
    {
      name: 'transport_padding_after_delimiters',
      contentType: 'multipart/related; boundary=B',
      body: '--B  \t\r\nContent-Type: application/dicom\r\n\r\np\r\n--B-- \r\n',
      parts: ['p'],
    },
    {
      name: 'body_holds_longer_boundary_and_inline_dashes',
      contentType: 'multipart/related; boundary=B',
      body: '--B\r\nContent-Type: application/dicom\r\n\r\nx--B y\r\n--BB not me\r\n--B\r\n\r\nno headers\r\n--B--',
      parts: ['x--B y\r\n--BB not me', 'no headers'],
      types: ['application/dicom', undefined],
    },
    {
      name: 'empty_part_and_body_ending_in_crlf',
      contentType: 'multipart/related; boundary=B',
      body: '--B\r\nContent-Type: application/dicom\r\n\r\n\r\n--B\r\nContent-Type: application/dicom\r\n\r\nends in newline\r\n\r\n--B--',
      parts: ['', 'ends in newline\r\n'],
    },
    {
      name: 'folded_header_and_case',
      contentType: 'Multipart/Related; BOUNDARY=B',
      body: '--B\r\nCONTENT-TYPE: application/dicom;\r\n transfer-syntax=1.2.840.10008.1.2.1\r\n\r\nq\r\n--B--',
      parts: ['q'],
      types: ['application/dicom; transfer-syntax=1.2.840.10008.1.2.1'],
    },
  ];
  for (const c of CASES) {
    void test(c.name, () => {
      const parts = parseMultipart(ascii(c.body), multipartBoundary(c.contentType));
      assert.deepEqual(parts.map((p) => text(p.body)), c.parts);
      if (c.types) assert.deepEqual(parts.map((p) => p.contentType), c.types);
    });
  }

  const BAD: { name: string; contentType: string; body: string; error: RegExp }[] = [
    { name: 'no_opening_boundary', contentType: 'multipart/related; boundary=B', body: 'just text', error: /without its opening boundary/ },
    { name: 'truncated_no_close', contentType: 'multipart/related; boundary=B', body: '--B\r\nContent-Type: application/dicom\r\n\r\nhalf a fi', error: /no closing boundary/ },
    { name: 'no_blank_line_after_headers', contentType: 'multipart/related; boundary=B', body: '--B\r\nContent-Type: application/dicom', error: /no blank line/ },
    { name: 'not_multipart', contentType: 'application/dicom+json', body: '[]', error: /not a multipart body/ },
    { name: 'no_boundary', contentType: 'multipart/related; type="application/dicom"', body: '', error: /without a valid boundary/ },
    { name: 'unterminated_quote', contentType: 'multipart/related; boundary="B', body: '', error: /unterminated quoted string/ },
  ];
  for (const c of BAD) {
    void test(`refuses ${c.name}`, () => {
      assert.throws(() => parseMultipart(ascii(c.body), multipartBoundary(c.contentType)), (e: unknown) => e instanceof MultipartError && c.error.test(e.message));
    });
  }

  void test('media type parameters: escapes inside quotes, names case-insensitive, first of a repeat wins', () => {
    const m = parseMediaType('multipart/related; Type="application/dicom"; boundary="q\\"x"; boundary=second;');
    assert.equal(m.type, 'multipart/related');
    assert.equal(m.parameters.get('type'), 'application/dicom');
    assert.equal(m.parameters.get('boundary'), 'q"x');
  });

  void test('encode then parse gives every byte value back, and the boundary avoids a body that contains it', () => {
    const all = new Uint8Array(256 * 4).map((_, i) => i % 256);
    const crlfEnd = ascii('ends with\r\n');
    const trap = ascii('--fixed-boundary\r\n');
    const { body, boundary } = encodeMultipart([{ contentType: 'application/dicom', body: all }, { contentType: 'application/dicom', body: crlfEnd }, { contentType: 'application/dicom', body: trap }]);
    const parts = parseMultipart(body, boundary);
    assert.deepEqual(parts.map((p) => sha256(p.body)), [all, crlfEnd, trap].map(sha256));
    assert.throws(() => encodeMultipart([{ contentType: 'application/dicom', body: trap }], 'fixed-boundary'), MultipartError);
  });
});

void describe('DICOM JSON, QIDO-RS parameters and STOW-RS outcomes (PS3.18 F.2, 8.3.4, 10.5.3)', () => {
  void test('qido parameters: modality by level, StudyDate range, paging, includefield', () => {
    const s = qidoRequest('studies', { modality: 'DX', studyDate: { fromDate: '20240101', toDate: '20240131' }, limit: 5, offset: 10 });
    assert.equal(s.path, 'studies');
    assert.equal(s.params.get('ModalitiesInStudy'), 'DX');
    assert.equal(s.params.get('StudyDate'), '20240101-20240131');
    assert.equal(s.params.get('limit'), '5');
    assert.equal(s.params.get('offset'), '10');
    const i = qidoRequest('instances', { modality: 'DX', bodyPartExamined: 'HAND', studyDate: { toDate: '20240131' }, studyInstanceUid: '1.2', includeField: ['00100040'] });
    assert.equal(i.path, 'studies/1.2/instances');
    assert.equal(i.params.get('Modality'), 'DX');
    assert.equal(i.params.get('StudyDate'), '-20240131');
    assert.ok(i.params.getAll('includefield').includes('BodyPartExamined'));
    assert.ok(i.params.getAll('includefield').includes('00100040'));
    assert.throws(() => qidoRequest('studies', { studyDate: { fromDate: '2024-01-01' } }), /YYYYMMDD/);
    assert.throws(() => qidoRequest('studies', { studyDate: { fromDate: '20240201', toDate: '20240101' } }), /ends before it starts/);
    assert.throws(() => qidoRequest('studies', { limit: 0 }), /positive integer/);
  });

  void test('DICOM JSON: typed records from numbers, decimal strings and person names; malformed answers are one error', () => {
    const [ds] = readDicomJsonArray([{
      '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
      '00080018': { vr: 'UI', Value: ['1.2.3.4.5'] },
      '00200013': { vr: 'IS', Value: ['7'] },
      '00280010': { vr: 'US', Value: [512] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'DOE^J' }] },
      '00180015': { vr: 'CS', Value: ['HAND'] },
    }], 'test');
    assert.ok(ds);
    const r = instanceRecord(ds);
    assert.deepEqual([r.studyInstanceUid, r.sopInstanceUid, r.instanceNumber, r.rows, r.bodyPartExamined], ['1.2.3', '1.2.3.4.5', 7, 512, 'HAND']);
    assert.throws(() => readDicomJsonArray({}, 'QIDO-RS instances'), /not a JSON array/);
    assert.throws(() => readDicomJsonArray([{ '0008': { vr: 'UI' } }], 'QIDO-RS instances'), /not a tag/);
    assert.throws(() => readDicomJsonArray([{ '00080018': { Value: ['1'] } }], 'QIDO-RS instances'), /no valid 'vr'/);
    assert.throws(() => instanceRecord({ '0020000D': { vr: 'UI', Value: ['1'] }, '0020000E': { vr: 'UI', Value: ['2'] } }), /without SOPInstanceUID \(0008,0018\)/);
  });

  void test('STOW-RS outcomes: stored, failed with a reason, and not acknowledged at all', async () => {
    const a = await phantomDxFilm({ key: 'stow-a', bodyPartExamined: 'HAND', studyDate: '20240101' });
    const b = await phantomDxFilm({ key: 'stow-b', bodyPartExamined: 'HAND', studyDate: '20240101' });
    const idA = part10Identity(a.bytes);
    assert.equal(idA?.sopInstanceUid, a.sopInstanceUid);
    assert.equal(idA?.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.equal(part10Identity(ascii('not dicom')), null);
    const response = readDicomJsonArray([{
      '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [a.sopInstanceUid] }, '00081190': { vr: 'UR', Value: ['http://x/a'] } }] },
      '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [b.sopInstanceUid] }, '00081197': { vr: 'US', Value: [0xa900] } }] },
    }], 'test')[0];
    const r = stowResult([idA, part10Identity(b.bytes), null], 202, response, 'http://x/studies');
    assert.deepEqual(r.outcomes.map((o) => [o.stored, o.reason]), [
      [true, undefined],
      [false, '0xA900 data set does not match SOP class'],
      [false, 'not a DICOM Part-10 object (no DICM at byte 128)'],
    ]);
    assert.equal(r.outcomes[0]?.retrieveUrl, 'http://x/a');
    assert.deepEqual([r.storedCount, r.failedCount], [1, 2]);
  });
});

void describe('DICOMweb client errors are one line, without the query string', () => {
  void test('unreachable server', async () => {
    const port = await freePort();
    const client = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/dicom-web/`, timeoutMs: 5000 });
    await assert.rejects(client.searchInstances({ match: { PatientName: 'DOE^JANE' } }), (e: unknown) => {
      assert.ok(e instanceof DicomWebError);
      assert.equal(String(e), `DicomWebError: QIDO-RS http://127.0.0.1:${port}/dicom-web/instances unreachable (ECONNREFUSED)`);
      return true;
    });
  });

  void test('a server that never answers times out; an HTTP error names the status; a bad body names what is wrong', async () => {
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/slow') === true) return; // never answers
      if (req.url?.startsWith('/err/') === true) {
        res.writeHead(503, 'Service Unavailable', { 'Content-Type': 'text/plain' }).end('PACS\nin\tmaintenance');
        return;
      }
      if (req.headers.authorization !== 'Bearer t0ken') {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'multipart/related; type="application/dicom"; boundary=B' }).end('--B\r\n\r\ncut sho');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const slow = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/slow`, timeoutMs: 200 });
      await assert.rejects(slow.searchStudies(), /^DicomWebError: QIDO-RS http:\/\/127\.0\.0\.1:\d+\/slow\/studies timed out after 200 ms$/);
      const err = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/err` });
      await assert.rejects(err.searchStudies({ match: { PatientID: 'SECRET-ID' } }), (e: unknown) => {
        assert.ok(e instanceof DicomWebError);
        assert.equal(e.status, 503);
        assert.equal(e.message, `QIDO-RS http://127.0.0.1:${port}/err/studies answered HTTP 503 Service Unavailable: PACS in maintenance`);
        assert.doesNotMatch(String(e), /SECRET-ID/);
        return true;
      });
      const ref = { studyInstanceUid: '1', seriesInstanceUid: '2', sopInstanceUid: '3' };
      await assert.rejects(new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/ok` }).retrieveInstance(ref), /answered HTTP 401/);
      const authed = new DicomWebClient({ baseUrl: `http://127.0.0.1:${port}/ok`, auth: { bearerToken: 't0ken' } });
      await assert.rejects(authed.retrieveInstance(ref), /WADO-RS http:\/\/127\.0\.0\.1:\d+\/ok\/studies\/1\/series\/2\/instances\/3 answered HTTP 200 with a body that cannot be read \(MultipartError: multipart part 1: no closing boundary/);
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });
});

const skipOrthanc = orthancUnavailable();

void describe('DICOMweb client against Orthanc', { skip: skipOrthanc }, () => {
  let orthanc: OrthancServer | undefined;
  let pacs: DicomWebClient;
  const films: Awaited<ReturnType<typeof phantomDxFilm>>[] = [];

  before(async () => {
    orthanc = await startOrthanc({ user: { username: 'physis', password: 'test-only' } });
    pacs = new DicomWebClient({ baseUrl: orthanc.dicomWebUrl, auth: { username: 'physis', password: 'test-only' }, timeoutMs: 20_000 });
    // two hands in one January study, a knee in March
    const study = (await phantomDxFilm({ key: 'jan-hand-1', bodyPartExamined: 'HAND', studyDate: '20240110' })).studyInstanceUid;
    films.push(
      await phantomDxFilm({ key: 'jan-hand-1', bodyPartExamined: 'HAND', studyDate: '20240110' }),
      await phantomDxFilm({ key: 'jan-hand-2', bodyPartExamined: 'HAND', studyDate: '20240110', studyInstanceUid: study, patientKey: 'jan-hand-1', instanceNumber: 2 }),
      await phantomDxFilm({ key: 'mar-knee', bodyPartExamined: 'KNEE', studyDate: '20240305' }),
    );
  });
  after(async () => {
    await orthanc?.stop();
  });

  void test('STOW-RS stores code-made DX films and says so per instance', async () => {
    const result = await pacs.store(films.map((f) => f.bytes));
    assert.equal(result.httpStatus, 200);
    assert.deepEqual(result.outcomes.map((o) => [o.sopInstanceUid, o.stored]), films.map((f) => [f.sopInstanceUid, true]));
    assert.match(result.outcomes[0]?.retrieveUrl ?? '', /\/dicom-web\/studies\/2\.25\.\d+\/series\/2\.25\.\d+\/instances\/2\.25\.\d+$/);
  });

  void test('without the test user the server refuses, in one line', async () => {
    const anonymous = new DicomWebClient({ baseUrl: orthanc?.dicomWebUrl ?? '' });
    await assert.rejects(anonymous.searchStudies(), (e: unknown) => e instanceof DicomWebError && e.status === 401);
  });

  void test('QIDO-RS finds them by modality, body part and StudyDate window', async () => {
    const uids = (rs: readonly InstanceRecord[]): string[] => rs.map((r) => r.sopInstanceUid).sort();
    const [hand1, hand2, knee] = films;
    assert.ok(hand1 && hand2 && knee);
    assert.deepEqual(uids(await pacs.searchInstances({ modality: 'DX', bodyPartExamined: 'HAND' })), [hand1.sopInstanceUid, hand2.sopInstanceUid].sort());
    assert.deepEqual(uids(await pacs.searchInstances({ modality: 'DX', studyDate: { fromDate: '20240301' } })), [knee.sopInstanceUid]);
    assert.deepEqual(uids(await pacs.searchInstances({ modality: 'DX', studyDate: { fromDate: '20240101', toDate: '20240131' } })), [hand1.sopInstanceUid, hand2.sopInstanceUid].sort());
    assert.deepEqual(await pacs.searchInstances({ modality: 'CT' }), []);
    const [kneeRecord] = await pacs.searchInstances({ bodyPartExamined: 'KNEE' });
    assert.deepEqual([kneeRecord?.modality, kneeRecord?.bodyPartExamined, kneeRecord?.studyDate, kneeRecord?.rows], ['DX', 'KNEE', '20240305', 32]);

    const studies = await pacs.searchStudies({ modality: 'DX', studyDate: { fromDate: '20240101', toDate: '20240131' } });
    assert.deepEqual(studies.map((s) => s.studyInstanceUid), [hand1.studyInstanceUid]);
    assert.deepEqual(studies[0]?.modalitiesInStudy, ['DX']);
    assert.equal(studies[0]?.numberOfStudyRelatedInstances, 2);
    const series = await pacs.searchSeries({ studyInstanceUid: hand1.studyInstanceUid });
    assert.deepEqual(series.map((s) => s.seriesInstanceUid).sort(), [hand1.seriesInstanceUid, hand2.seriesInstanceUid].sort());
    assert.ok(series.every((s) => s.studyInstanceUid === hand1.studyInstanceUid && s.modality === 'DX'));

    // paging: three films, pages of two
    const first = await pacs.searchInstances({ modality: 'DX', limit: 2, offset: 0 });
    const second = await pacs.searchInstances({ modality: 'DX', limit: 2, offset: 2 });
    assert.equal(first.length, 2);
    assert.deepEqual(uids([...first, ...second]), films.map((f) => f.sopInstanceUid).sort());
  });

  void test('WADO-RS gives back byte-identical objects, one instance or a whole series', async () => {
    for (const f of films) assert.equal(sha256(await pacs.retrieveInstance(f)), sha256(f.bytes));
    const [hand1] = films;
    assert.ok(hand1);
    const series = await pacs.retrieveSeries(hand1);
    assert.deepEqual(series.map(sha256), [sha256(hand1.bytes)]);
    await assert.rejects(pacs.retrieveInstance({ ...hand1, sopInstanceUid: '2.25.1' }), (e: unknown) => e instanceof DicomWebError && e.status === 404);
  });

  void test('a STOW-RS with a corrupt object reports that one and stores the rest', async () => {
    const good = await phantomDxFilm({ key: 'corrupt-neighbour', bodyPartExamined: 'HAND', studyDate: '20240601' });
    const truncated = (await phantomDxFilm({ key: 'corrupt-truncated', bodyPartExamined: 'HAND', studyDate: '20240601' })).bytes.subarray(0, 400);
    const garbage = ascii('this is not a DICOM object at all');
    await assert.rejects(pacs.store([good.bytes, truncated, garbage]), (e: unknown) => {
      assert.ok(e instanceof DicomWebError);
      assert.match(String(e), /^DicomWebError: STOW-RS http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies refused 2 of 3 instances: #2 2\.25\.\d+: not acknowledged by the origin server \(HTTP \d+\); #3: not a DICOM Part-10 object/);
      assert.deepEqual(e.stowResult?.outcomes.map((o) => o.stored), [true, false, false]);
      return true;
    });
    assert.equal(sha256(await pacs.retrieveInstance(good)), sha256(good.bytes));
    const partial = await pacs.store([garbage], { requireAll: false });
    assert.deepEqual([partial.storedCount, partial.failedCount], [0, 1]);
  });

  const realDir = join('..', 'shared', 'data', 'dicom');
  const REAL = ['Formats_Jpeg.dcm', 'HierarchicalAnonymization_2019-03-28_CR000000.dcm', 'TransferSyntaxes_1.2.840.10008.1.2.4.91.dcm', 'Issue44_Monochrome1-Jpeg.dcm'];
  const realMissing = REAL.filter((f) => !existsSync(join(realDir, f)));
  void test('real files (JPEG, JPEG 2000, CR) round trip byte for byte', { skip: realMissing.length > 0 ? `real DICOM files absent from ${realDir} (${realMissing.join(', ')})` : undefined }, async () => {
    const objects = REAL.map((f) => new Uint8Array(readFileSync(join(realDir, f))));
    const result = await pacs.store(objects);
    assert.equal(result.storedCount, REAL.length);
    for (const [i, o] of result.outcomes.entries()) {
      const bytes = objects[i];
      assert.ok(bytes);
      const [found] = await pacs.searchInstances({ sopInstanceUid: o.sopInstanceUid ?? '' });
      assert.ok(found, `${REAL[i]} not found by QIDO-RS`);
      assert.equal(sha256(await pacs.retrieveInstance(found)), sha256(bytes), `${REAL[i]} changed on the round trip`);
    }
  });
});

