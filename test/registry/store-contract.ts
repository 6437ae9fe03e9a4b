/**
 * The registry store's contract: one suite that every engine passes. sqlite.test.ts and postgres.test.ts call
 * {@link registerStoreContract} with a factory of fresh, empty registry URLs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LATEST_SCHEMA_VERSION,
  RegistryError,
  RegistryInputError,
  RegistryNotFoundError,
  RegistrySchemaTooNewError,
  openRegistry,
  type FileRecord,
  type RegistryStore,
} from '../../src/registry/index.js';
import { driverOf } from '../../src/registry/sql-store.js';
import { WEIGHTS_A, WEIGHTS_B, quarantined, shaOf, spineFilm } from './fixtures/spine-films.js';

/** What the suite needs of an engine. */
export interface StoreTarget {
  /** A URL of a fresh, empty registry (every call a new one). */
  freshUrl(): string | Promise<string>;
  /** Whether reopening a URL finds what was written (false for `sqlite::memory:`). */
  readonly persistent: boolean;
  /** Whether two stores in this process may write one registry at once (SQLite: use two processes instead). */
  readonly concurrentStoresInProcess: boolean;
}

/**
 * Register the contract's tests for one engine.
 * @param name - the engine, as the test names say it
 * @param target - fresh URLs and what the engine supports
 */
export function registerStoreContract(name: string, target: StoreTarget): void {
  /** Run `fn` against a freshly opened, empty store, closing it afterwards. */
  const withStore = async (fn: (store: RegistryStore, url: string) => Promise<void>): Promise<void> => {
    const url = await target.freshUrl();
    const store = await openRegistry(url, { actor: 'contract-test' });
    try {
      await fn(store, url);
    } finally {
      await store.close();
    }
  };
  const notPersistent = target.persistent ? false : 'the registry does not outlive its connection';

  void describe(`registry store contract: ${name}`, () => {
    void test('migrates an empty database to the latest version and records each migration', () =>
      withStore(async (store) => {
        assert.equal(store.schemaVersion, LATEST_SCHEMA_VERSION);
        const rows = await driverOf(store).transaction('read', (sql) => sql.all('SELECT version, name FROM schema_migrations ORDER BY version'));
        assert.deepEqual(rows.map((r) => r['version']), Array.from({ length: LATEST_SCHEMA_VERSION }, (_, k) => k + 1));
        assert.deepEqual(await store.countByStatus(), { stored: 0, quarantined: 0, duplicate: 0, conflict: 0, total: 0 });
      }));

    void test('re-opening keeps the data and applies no migration twice; a newer schema is refused', { skip: notPersistent }, async () => {
      const url = await target.freshUrl();
      const first = await openRegistry(url);
      await first.recordIngest(spineFilm(1));
      const appliedAt = await driverOf(first).transaction('read', (sql) => sql.all('SELECT version, applied_at FROM schema_migrations ORDER BY version'));
      await first.close();
      const again = await openRegistry(url);
      assert.deepEqual(await driverOf(again).transaction('read', (sql) => sql.all('SELECT version, applied_at FROM schema_migrations ORDER BY version')), appliedAt);
      assert.equal((await again.countByStatus()).stored, 1);
      await driverOf(again).transaction('write', (sql) =>
        sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [LATEST_SCHEMA_VERSION + 1, 'from the future', '2100-01-01T00:00:00Z']),
      );
      await again.close();
      await assert.rejects(openRegistry(url), (e: unknown) => {
        assert.ok(e instanceof RegistrySchemaTooNewError);
        assert.equal(e.databaseVersion, LATEST_SCHEMA_VERSION + 1);
        assert.match(e.message, new RegExp(`^registry schema is version ${LATEST_SCHEMA_VERSION + 1}, newer than this Physis knows \\(${LATEST_SCHEMA_VERSION}\\); upgrade Physis$`));
        return true;
      });
    });

    void test('recordFile is idempotent: the same path and bytes return the existing row; the same bytes elsewhere are a duplicate', () =>
      withStore(async (store) => {
        const film = spineFilm(1).file;
        const a = await store.recordFile(film);
        const b = await store.recordFile(film);
        assert.equal(a.created, true);
        assert.equal(b.created, false);
        assert.deepEqual(b.file, a.file);
        assert.equal(a.file.status, 'stored');
        const copy = await store.recordFile({ ...film, sourcePath: 'copies/film-1.dcm' });
        assert.equal(copy.file.status, 'duplicate');
        assert.equal(copy.file.duplicateOfInstanceId, a.file.instanceId);
        assert.equal(copy.file.instanceId, a.file.instanceId);
        assert.equal((await store.recordFile({ ...film, sourcePath: 'copies/film-1.dcm' })).created, false);
        const q1 = await store.recordFile(quarantined(1));
        const q2 = await store.recordFile(quarantined(1));
        assert.equal(q1.file.status, 'quarantined');
        assert.equal(q1.file.quarantineReason, 'truncated pixel data');
        assert.equal(q2.created, false);
        assert.equal(q2.file.id, q1.file.id);
        assert.deepEqual(await store.countByStatus(), { stored: 1, quarantined: 1, duplicate: 1, conflict: 0, total: 3 });
        assert.deepEqual(await store.findFile(film.sourcePath, film.sha256), a.file);
        assert.equal(await store.findFile(film.sourcePath, shaOf('other')), null);
        const instance = await store.getInstance(a.file.instanceId ?? -1);
        assert.deepEqual(
          { ...instance, id: 0, recordedAt: '' },
          { ...(film.status === 'stored' ? film.instance : {}), id: 0, recordedAt: '', sha256: film.sha256, sourcePath: film.sourcePath },
        );
      }));

    void test('the same SOPInstanceUID with other bytes is a recorded conflict, never an overwrite', () =>
      withStore(async (store) => {
        const original = await store.recordFile(spineFilm(1).file);
        const edited = await store.recordFile(spineFilm(1, { bytes: 'film-1-edited', path: 'archive/film-1-edited.dcm' }).file);
        assert.equal(edited.created, true);
        assert.equal(edited.file.status, 'quarantined');
        assert.equal(edited.file.instanceId, null);
        assert.equal(edited.file.conflictInstanceId, original.file.instanceId);
        assert.equal(edited.file.quarantineReason, `SOPInstanceUID conflict: stored as instance #${original.file.instanceId} with other bytes`);
        const instance = await store.getInstance(original.file.instanceId ?? -1);
        assert.equal(instance?.sha256, shaOf('film-1'), 'the stored instance keeps its bytes');
        assert.deepEqual(await store.countByStatus(), { stored: 1, quarantined: 1, duplicate: 0, conflict: 1, total: 2 });
      }));

    void test('recordPrediction is idempotent per (instance, task, weights); another model adds a row and becomes the latest', () =>
      withStore(async (store) => {
        const { file } = await store.recordFile(spineFilm(1).file);
        const instanceId = file.instanceId ?? -1;
        const p = { instanceId, task: 'spine-view', modelId: 'm-a', weightsSha256: WEIGHTS_A, outputs: { view: 'AP' }, label: 'AP', confidence: 0.7 };
        const a = await store.recordPrediction(p);
        const b = await store.recordPrediction({ ...p, confidence: 0.71 });
        assert.equal(a.created, true);
        assert.equal(b.created, false);
        assert.equal(b.prediction.id, a.prediction.id);
        assert.equal(b.prediction.confidence, 0.7, 'the first write wins');
        const c = await store.recordPrediction({ ...p, modelId: 'm-b', weightsSha256: WEIGHTS_B, label: 'LAT', confidence: 0.6 });
        assert.equal(c.created, true);
        assert.equal((await store.listPredictions(instanceId)).length, 2);
        const [row] = await store.listInstances();
        assert.equal(row?.results.length, 1);
        assert.equal(row?.results[0]?.prediction.modelId, 'm-b');
        assert.equal(row?.results[0]?.label, 'LAT');
        await assert.rejects(store.recordPrediction({ ...p, instanceId: 9999 }), RegistryNotFoundError);
      }));

    void test('recordIngest writes a film once: a resumed run changes nothing', () =>
      withStore(async (store) => {
        const first = await store.recordIngest(spineFilm(1));
        const again = await store.recordIngest(spineFilm(1));
        assert.equal(first.fileCreated, true);
        assert.equal(first.predictionsCreated, 1);
        assert.equal(again.fileCreated, false);
        assert.equal(again.predictionsCreated, 0);
        assert.equal(again.predictions[0]?.id, first.predictions[0]?.id);
        const audit = await store.auditLog();
        assert.equal(audit.length, 3, 'instance, file, prediction: one entry each, none for the rerun');
        assert.ok(audit.every((e) => e.actor === 'contract-test'));
        const q = await store.recordIngest({ file: quarantined(2), predictions: spineFilm(2).predictions ?? [] });
        assert.equal(q.file.status, 'quarantined');
        assert.deepEqual(q.predictions, [], 'a quarantined film has no instance to describe');
      }));

    void test('a transaction is all or nothing: a throw inside leaves no row and no audit entry', () =>
      withStore(async (store) => {
        await assert.rejects(
          store.transaction(async (tx) => {
            const { file } = await tx.recordFile(spineFilm(1).file);
            await tx.recordPrediction({ instanceId: file.instanceId ?? -1, task: 'spine-view', modelId: 'm', weightsSha256: WEIGHTS_A, outputs: {} });
            await tx.recordFile(quarantined(1));
            throw new Error('killed mid-film');
          }),
          /killed mid-film/,
        );
        assert.deepEqual(await store.countByStatus(), { stored: 0, quarantined: 0, duplicate: 0, conflict: 0, total: 0 });
        assert.deepEqual(await store.auditLog(), []);
        assert.deepEqual(await store.listInstances(), []);
        // the store itself inside its own transaction would wait on its own lock: refused
        await assert.rejects(
          store.transaction(() => store.countByStatus()),
          (e: unknown) => e instanceof RegistryError && /use the transaction handle/.test(e.message),
        );
        // and a committed transaction commits everything
        const n = await store.transaction(async (tx) => {
          await tx.recordFile(spineFilm(2).file);
          await tx.recordFile(quarantined(2));
          return (await tx.countByStatus()).total;
        });
        assert.equal(n, 2);
        assert.equal((await store.countByStatus()).total, 2);
      }));

    void test('the audit log is append-only: UPDATE and DELETE are refused by the database', () =>
      withStore(async (store) => {
        await store.recordIngest(spineFilm(1));
        const entry = await store.appendAudit({ action: 'export', tableName: 'files', detail: { rows: 1 } });
        assert.equal(entry.actor, 'contract-test');
        const sql = driverOf(store);
        await assert.rejects(sql.transaction('write', (ex) => ex.run("UPDATE audit_log SET actor = 'someone else'")), /append-only/);
        await assert.rejects(sql.transaction('write', (ex) => ex.run('DELETE FROM audit_log')), /append-only/);
        const log = await store.auditLog();
        assert.equal(log.length, 4);
        assert.ok(log.every((e) => e.actor === 'contract-test'));
        assert.deepEqual(log.map((e) => e.action), ['store-instance', 'record-file:stored', 'record-prediction', 'export']);
        assert.deepEqual((await store.auditLog({ tableName: 'files' })).map((e) => e.action), ['record-file:stored', 'export']);
      }));

    /** Six films: labels, confidences and gate verdicts chosen so each filter and the queue order differ. */
    const seedCohort = async (store: RegistryStore): Promise<number[]> => {
      const films = [
        spineFilm(0, { label: 'AP', confidence: 0.95 }),
        spineFilm(1, { label: 'LAT', confidence: 0.55 }),
        spineFilm(2, { label: 'AP', confidence: 0.35, path: 'archive/100%_Films/film-2.dcm' }),
        spineFilm(3, { label: 'LAT', confidence: null }),
        spineFilm(4, { label: 'AP', confidence: 0.8, gatePassed: false }),
        spineFilm(5, { label: 'LAT', confidence: 0.99 }),
      ];
      const ids: number[] = [];
      for (const f of films) ids.push((await store.recordIngest(f)).file.instanceId ?? -1);
      await store.recordIngest({ file: quarantined(6) });
      await store.recordIngest({ ...spineFilm(0), file: { ...spineFilm(0).file, sourcePath: 'copies/film-0.dcm' } });
      await store.recordReview({ instanceId: ids[0] ?? -1, verdict: 'accept', reviewer: 'dr-a' });
      await store.recordReview({ instanceId: ids[1] ?? -1, verdict: 'correct', label: 'AP', reviewer: 'dr-a', note: 'rotated' });
      await store.recordReview({ instanceId: ids[5] ?? -1, verdict: 'reject', reviewer: 'dr-b', note: 'not a spine' });
      return ids;
    };

    void test('listInstances filters by status, task, label (corrections count), confidence, review state and path', () =>
      withStore(async (store) => {
        await seedCohort(store);
        const paths = async (f: Parameters<RegistryStore['listInstances']>[0]): Promise<string[]> => (await store.listInstances(f)).map((r) => r.file.sourcePath);
        const cases: [string, Parameters<RegistryStore['listInstances']>[0], string[]][] = [
          ['all', {}, ['archive/film-0.dcm', 'archive/film-1.dcm', 'archive/100%_Films/film-2.dcm', 'archive/film-3.dcm', 'archive/film-4.dcm', 'archive/film-5.dcm', 'archive/broken-6.dcm', 'copies/film-0.dcm']],
          ['stored', { status: 'stored' }, ['archive/film-0.dcm', 'archive/film-1.dcm', 'archive/100%_Films/film-2.dcm', 'archive/film-3.dcm', 'archive/film-4.dcm', 'archive/film-5.dcm']],
          ['quarantined or duplicate', { status: ['quarantined', 'duplicate'] }, ['archive/broken-6.dcm', 'copies/film-0.dcm']],
          ['label AP (film 1 corrected to AP; a duplicate carries its original)', { status: 'stored', label: 'AP' }, ['archive/film-0.dcm', 'archive/film-1.dcm', 'archive/100%_Films/film-2.dcm', 'archive/film-4.dcm']],
          ['label LAT (film 5 rejected: no label)', { task: 'spine-view', label: 'LAT' }, ['archive/film-3.dcm']],
          ['confidence below 0.6', { confidenceBelow: 0.6 }, ['archive/film-1.dcm', 'archive/100%_Films/film-2.dcm']],
          ['confidence above 0.9', { confidenceAbove: 0.9 }, ['archive/film-0.dcm', 'archive/film-5.dcm', 'copies/film-0.dcm']],
          ['unreviewed', { reviewState: 'unreviewed' }, ['archive/100%_Films/film-2.dcm', 'archive/film-3.dcm', 'archive/film-4.dcm']],
          ['corrected', { reviewState: 'corrected' }, ['archive/film-1.dcm']],
          ['rejected', { reviewState: 'rejected' }, ['archive/film-5.dcm']],
          ['path, case-insensitive, with LIKE wildcards taken literally', { pathContains: '100%_films' }, ['archive/100%_Films/film-2.dcm']],
          ['a % alone matches only a literal %', { pathContains: '%' }, ['archive/100%_Films/film-2.dcm']],
          ['another task', { task: 'hand-bone-age' }, []],
          ['page', { status: 'stored', limit: 2, offset: 3 }, ['archive/film-3.dcm', 'archive/film-4.dcm']],
        ];
        for (const [what, filter, expected] of cases) assert.deepEqual(await paths(filter), expected, what);
        const [corrected] = await store.listInstances({ reviewState: 'corrected' });
        assert.equal(corrected?.results[0]?.prediction.label, 'LAT');
        assert.equal(corrected?.results[0]?.label, 'AP');
        assert.equal(corrected?.results[0]?.review?.note, 'rotated');
        assert.equal(corrected?.instance?.patientPseudonym, 'P0');
      }));

    void test('the review queue lists rejected first, then gate-refused, then by confidence (none first); reviewed ones leave it', () =>
      withStore(async (store) => {
        const ids = await seedCohort(store);
        const queue = await store.reviewQueue();
        assert.deepEqual(
          queue.map((q) => [q.instanceId, q.reviewState, q.confidence]),
          [
            [ids[5], 'rejected', 0.99],
            [ids[4], 'unreviewed', 0.8],
            [ids[3], 'unreviewed', null],
            [ids[2], 'unreviewed', 0.35],
          ],
        );
        assert.equal(queue[1]?.gatePassed, false);
        assert.equal(queue[2]?.sourcePath, 'archive/film-3.dcm');
        assert.deepEqual((await store.reviewQueue({ confidenceBelow: 0.5 })).map((q) => q.instanceId), [ids[5], ids[3], ids[2]]);
        assert.deepEqual((await store.reviewQueue({ limit: 1, task: 'spine-view' })).map((q) => q.instanceId), [ids[5]]);
        await store.recordReview({ instanceId: ids[5] ?? -1, task: 'spine-view', verdict: 'correct', label: 'AP', reviewer: 'dr-b' });
        assert.deepEqual((await store.reviewQueue()).map((q) => q.instanceId), [ids[4], ids[3], ids[2]]);
      }));

    void test('reviews refuse a correction without a label, an unknown instance, and an ambiguous task', () =>
      withStore(async (store) => {
        const ids = await seedCohort(store);
        const id = ids[2] ?? -1;
        await assert.rejects(store.recordReview({ instanceId: id, verdict: 'correct', reviewer: 'dr-a' }), RegistryInputError);
        await assert.rejects(store.recordReview({ instanceId: id, verdict: 'accept', label: 'AP', reviewer: 'dr-a' }), RegistryInputError);
        await assert.rejects(store.recordReview({ instanceId: 9999, verdict: 'accept', reviewer: 'dr-a' }), /^RegistryNotFoundError: no instance #9999$/);
        await store.recordPrediction({ instanceId: id, task: 'suitability', modelId: 's', weightsSha256: WEIGHTS_B, outputs: {}, label: 'suitable', confidence: 0.9 });
        await assert.rejects(store.recordReview({ instanceId: id, verdict: 'accept', reviewer: 'dr-a' }), /several tasks \(spine-view, suitability\); name the task/);
        const review = await store.recordReview({ instanceId: id, task: 'suitability', verdict: 'accept', reviewer: 'dr-a' });
        assert.equal(review.task, 'suitability');
        const audit = await store.auditLog({ tableName: 'reviews', rowId: review.id });
        assert.equal(audit[0]?.actor, 'dr-a', 'a review is audited under the reviewer');
      }));

    void test('input errors name the field, never the value (paths and UIDs may identify a patient)', () =>
      withStore(async (store) => {
        const secret = 'archive/DOE^JANE/1.2.3.4.5.dcm';
        for (const bad of [
          { sourcePath: secret, sha256: 'not-a-hash', status: 'stored', instance: {} },
          { sourcePath: secret, sha256: shaOf('x'), status: 'stored', instance: { acquisitionDateShifted: '03/02/2001' } },
          { sourcePath: secret, sha256: shaOf('x'), status: 'stored', instance: { ageMonths: -1 } },
          { sourcePath: secret, sha256: shaOf('x'), status: 'quarantined', reason: '' },
        ] as FileRecord[]) {
          await assert.rejects(store.recordFile(bad), (e: unknown) => e instanceof RegistryInputError && !e.message.includes('DOE') && !e.message.includes('1.2.3'));
        }
      }));

    void test('exportRows gives one row per ingested file — stored, quarantined and duplicate — with path and latest results', () =>
      withStore(async (store) => {
        const ids = await seedCohort(store);
        const table = await store.exportRows();
        assert.equal(table.rows.length, 8);
        assert.deepEqual(table.columns.slice(0, 4), ['file_id', 'source_path', 'sha256', 'status']);
        assert.ok(table.columns.includes('spine-view.label') && table.columns.includes('spine-view.review'));
        for (const row of table.rows) assert.deepEqual(Object.keys(row), [...table.columns]);
        const byPath = new Map(table.rows.map((r) => [r['source_path'], r]));
        assert.deepEqual(
          [byPath.get('archive/broken-6.dcm')?.['status'], byPath.get('archive/broken-6.dcm')?.['quarantine_reason'], byPath.get('archive/broken-6.dcm')?.['spine-view.label']],
          ['quarantined', 'truncated pixel data', null],
        );
        const copy = byPath.get('copies/film-0.dcm');
        assert.deepEqual([copy?.['status'], copy?.['duplicate_of_instance_id'], copy?.['spine-view.label'], copy?.['spine-view.review']], ['duplicate', ids[0], 'AP', 'accepted']);
        const film1 = byPath.get('archive/film-1.dcm');
        assert.deepEqual(
          [film1?.['spine-view.label'], film1?.['spine-view.predicted_label'], film1?.['spine-view.confidence'], film1?.['spine-view.reviewer'], film1?.['age_months'], film1?.['patient']],
          ['AP', 'LAT', 0.55, 'dr-a', 101, 'P0'],
        );
        assert.equal(byPath.get('archive/film-4.dcm')?.['spine-view.gate_passed'], 0);
        assert.deepEqual(JSON.parse(String(film1?.['spine-view.probabilities'])), { AP: 0.2, LAT: 0.8 });
        assert.deepEqual((await store.exportRows({ status: 'quarantined' })).rows.map((r) => r['file_id']), [table.rows[6]?.['file_id']]);
      }));

    void test('concurrent writes through one store queue up and lose nothing', () =>
      withStore(async (store) => {
        const films = Array.from({ length: 40 }, (_, i) => spineFilm(i % 30));
        const results = await Promise.all(films.map((f) => store.recordIngest(f)));
        assert.equal(results.filter((r) => r.fileCreated).length, 30);
        assert.deepEqual(await store.countByStatus(), { stored: 30, quarantined: 0, duplicate: 0, conflict: 0, total: 30 });
        assert.equal((await store.auditLog({ tableName: 'predictions' })).length, 30);
      }));

    void test('two stores on one registry writing the same films at once record each exactly once', { skip: target.concurrentStoresInProcess ? false : 'two processes instead (see the engine test)' }, async () => {
      const url = await target.freshUrl();
      const [a, b] = await Promise.all([openRegistry(url), openRegistry(url)]);
      try {
        // the same 25 films through both stores, interleaved, plus a copy of each under another path
        const films = Array.from({ length: 25 }, (_, i) => spineFilm(i));
        const copies = films.map((f) => ({ ...f, file: { ...f.file, sourcePath: `copies/${f.file.sourcePath}` } }));
        await Promise.all([...films, ...copies].flatMap((f) => [a.recordIngest(f), b.recordIngest(f)]));
        assert.deepEqual(await a.countByStatus(), { stored: 25, quarantined: 0, duplicate: 25, conflict: 0, total: 50 });
        assert.equal((await b.auditLog({ tableName: 'predictions' })).length, 25);
        assert.equal((await b.listInstances({ task: 'spine-view' })).length, 50);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
}
