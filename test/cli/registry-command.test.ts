import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsvTable } from '../../src/radiograph/index.js';
import { openRegistry, type ExportTable, type RegistryRow } from '../../src/registry/index.js';
import { quarantined, spineFilm } from '../registry/fixtures/spine-films.js';
import { capture } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'physis-registry-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A registry of four spine films (one under a path a spreadsheet would run as a formula), a quarantined file and a copy. */
async function seeded(name: string): Promise<string> {
  const url = `sqlite:${join(dir, `${name}.db`)}`;
  const store = await openRegistry(url);
  try {
    await store.recordIngest(spineFilm(0, { label: 'AP', confidence: 0.95 }));
    await store.recordIngest(spineFilm(1, { label: 'LAT', confidence: 0.41, path: 'archive/smith, a/film-1.dcm' }));
    await store.recordIngest(spineFilm(2, { label: 'AP', confidence: 0.7, gatePassed: false }));
    await store.recordIngest(spineFilm(3, { label: 'LAT', confidence: 0.88, path: '=HYPERLINK("x")' }));
    await store.recordIngest({ file: quarantined(4) });
    await store.recordIngest({ ...spineFilm(0), file: { ...spineFilm(0).file, sourcePath: 'copies/film-0.dcm' } });
  } finally {
    await store.close();
  }
  return url;
}

void test('physis registry query: counts, one line per file, filters, and the review queue', async () => {
  const url = await seeded('query');
  const all = await capture(['registry', 'query', '--registry', url]);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trim().split('\n');
  assert.equal(lines[0], '6 of 6 files (stored 4, quarantined 1, duplicate 1)');
  assert.equal(lines[1], '#1 stored archive/film-0.dcm  instance #1  spine-view: AP 0.95 unreviewed');
  assert.equal(lines[5], '#5 quarantined archive/broken-4.dcm  (truncated pixel data)');
  assert.equal(lines[6], '#6 duplicate copies/film-0.dcm  instance #1 (duplicate)  spine-view: AP 0.95 unreviewed');

  const low = await capture(['registry', 'query', '--registry', url, '--task', 'spine-view', '--confidence-below', '0.8', '--json']);
  assert.equal(low.code, 0, low.stderr);
  const parsed = JSON.parse(low.stdout) as { rows: RegistryRow[] };
  assert.deepEqual(parsed.rows.map((r) => r.file.sourcePath), ['archive/smith, a/film-1.dcm', 'archive/film-2.dcm']);

  const queue = await capture(['registry', 'query', '--registry', url, '--queue']);
  assert.equal(queue.code, 0, queue.stderr);
  assert.deepEqual(queue.stdout.trim().split('\n').slice(0, 3), [
    '4 awaiting review',
    'instance #3 spine-view: AP 0.70 unreviewed gate-refused  archive/film-2.dcm',
    'instance #2 spine-view: LAT 0.41 unreviewed  archive/smith, a/film-1.dcm',
  ]);
});

void test('physis registry review: a correction is recorded, shows in queries and leaves the queue; bad verdict flags are usage errors', async () => {
  const url = await seeded('review');
  const r = await capture(['registry', 'review', '--registry', url, '--instance', '2', '--label', 'AP', '--reviewer', 'dr-lee', '--note', 'rotated']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'instance #2 spine-view: corrected to AP by dr-lee (review #1)\n');
  const corrected = await capture(['registry', 'query', '--registry', url, '--review-state', 'corrected']);
  assert.match(corrected.stdout, /^1 of 6 files .*\n#2 stored archive\/smith, a\/film-1\.dcm {2}instance #2 {2}spine-view: AP 0\.41 corrected\n$/);
  const queue = await capture(['registry', 'query', '--registry', url, '--queue', '--json']);
  assert.deepEqual((JSON.parse(queue.stdout) as { queue: { instanceId: number }[] }).queue.map((q) => q.instanceId), [3, 4, 1]);

  const cases: [string[], RegExp][] = [
    [['--instance', '2', '--accept', '--reject', '--reviewer', 'x'], /give exactly one of --accept, --reject, --label/],
    [['--instance', '2', '--reviewer', 'x'], /give exactly one of --accept, --reject, --label/],
    [['--instance', '2', '--accept'], /missing --reviewer/],
    [['--instance', 'two', '--accept', '--reviewer', 'x'], /--instance takes a registry instance id, got 'two'/],
  ];
  for (const [flags, message] of cases) {
    const bad = await capture(['registry', 'review', '--registry', url, ...flags]);
    assert.equal(bad.code, 2, flags.join(' '));
    assert.match(bad.stderr, message);
  }
  const unknown = await capture(['registry', 'review', '--registry', url, '--instance', '99', '--accept', '--reviewer', 'x']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, 'physis: RegistryNotFoundError: no instance #99\n');
});

void test('physis registry export --format csv: one row per ingested file, RFC 4180 quoting, formulas defused, audited', async () => {
  const url = await seeded('export');
  const r = await capture(['registry', 'export', '--registry', url, '--format', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  const csv = parseCsvTable(r.stdout, 'export.csv', ['source_path', 'status', 'spine-view.label']);
  const at = (fields: readonly string[], column: string): string => fields[csv.columns.get(column) ?? -1] ?? '';
  assert.deepEqual(
    csv.records.map((x) => [at(x.fields, 'source_path'), at(x.fields, 'status'), at(x.fields, 'spine-view.label'), at(x.fields, 'duplicate_of_instance_id')]),
    [
      ['archive/film-0.dcm', 'stored', 'AP', ''],
      ['archive/smith, a/film-1.dcm', 'stored', 'LAT', ''],
      ['archive/film-2.dcm', 'stored', 'AP', ''],
      ["'=HYPERLINK(\"x\")", 'stored', 'LAT', ''],
      ['archive/broken-4.dcm', 'quarantined', '', ''],
      ['copies/film-0.dcm', 'duplicate', 'AP', '1'],
    ],
  );
  const json = await capture(['registry', 'export', '--registry', url, '--status', 'quarantined', '--json']);
  const table = JSON.parse(json.stdout) as ExportTable;
  assert.deepEqual(table.rows.map((x) => x['quarantine_reason']), ['truncated pixel data']);
  const store = await openRegistry(url);
  try {
    assert.deepEqual((await store.auditLog({ tableName: 'files' })).filter((e) => e.action.startsWith('export')).map((e) => [e.action, e.detail]), [
      ['export:csv', { rows: 6 }],
      ['export:json', { rows: 1 }],
    ]);
  } finally {
    await store.close();
  }
});

void test('physis registry: a missing SQLite file, an unknown action and a bad URL are one line each', async () => {
  const missing = await capture(['registry', 'query', '--registry', `sqlite:${join(dir, 'nope.db')}`]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `physis: RegistryUnreachableError: no SQLite registry at ${join(dir, 'nope.db')}\n`);
  const action = await capture(['registry', 'delete', '--registry', `sqlite:${join(dir, 'nope.db')}`]);
  assert.equal(action.code, 2);
  assert.match(action.stderr, /^physis: UsageError: physis registry takes one of query, export, review\n/);
  const url = await capture(['registry', 'query', '--registry', 'mysql://root:hunter2@db/x']);
  assert.equal(url.code, 1);
  assert.match(url.stderr, /^physis: RegistryUrlError: unknown registry scheme 'mysql:'; accepted: [^\n]*\n$/);
  assert.ok(!url.stderr.includes('hunter2'));
});
