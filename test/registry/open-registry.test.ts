import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseRegistryUrl, RegistryUrlError } from '../../src/registry/index.js';

void test('parseRegistryUrl: the accepted forms', () => {
  const cases: [string, ReturnType<typeof parseRegistryUrl>][] = [
    ['sqlite:registry.db', { engine: 'sqlite', path: 'registry.db' }],
    ['sqlite::memory:', { engine: 'sqlite', path: ':memory:' }],
    ['sqlite:///var/lib/physis/registry.db', { engine: 'sqlite', path: '/var/lib/physis/registry.db' }],
    ['sqlite://registry.db', { engine: 'sqlite', path: 'registry.db' }],
    ['data/registry.db', { engine: 'sqlite', path: 'data/registry.db' }],
    [
      'postgres://postgres@127.0.0.1:5432/test?schema=spine_2024',
      { engine: 'postgres', connectionString: 'postgres://postgres@127.0.0.1:5432/test', schema: 'spine_2024', where: '127.0.0.1:5432/test' },
    ],
    [
      'postgresql://physis:secret@db.example.org/registry?sslmode=require',
      { engine: 'postgres', connectionString: 'postgresql://physis:secret@db.example.org/registry?sslmode=require', schema: null, where: 'db.example.org/registry' },
    ],
  ];
  for (const [url, expected] of cases) assert.deepEqual(parseRegistryUrl(url), expected, url);
});

void test('parseRegistryUrl: refusals are one line that never repeats the URL (it may hold a password)', () => {
  const cases: [string, RegExp][] = [
    ['mysql://root:hunter2@localhost/registry', /^unknown registry scheme 'mysql:'; accepted: /],
    ['sqlite:', /^sqlite: URL without a file; /],
    ['', /^empty registry URL; /],
    ['postgres://u:hunter2@db/x?schema=a;drop', /^schema must be letters, digits and underscores/],
    ['postgres://u:hunter2@[::1/x', /^malformed postgres: URL; /],
  ];
  for (const [url, message] of cases) {
    assert.throws(() => parseRegistryUrl(url), (e: unknown) => e instanceof RegistryUrlError && message.test(e.message) && !e.message.includes('hunter2'), url);
  }
});

/** In a fresh process: open `url`, then print whether pg and better-sqlite3 were loaded. */
function loadedModules(url: string): { pg: boolean; sqlite: boolean; error: string | null } {
  const script = `
    import { createRequire } from 'node:module';
    import { openRegistry } from ${JSON.stringify(resolve('src/registry/index.ts'))};
    let error = null;
    try { await (await openRegistry(${JSON.stringify(url)}, { connectTimeoutMs: 2000 })).close(); } catch (e) { error = e.name; }
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify({ pg: loaded.some((f) => f.includes('/node_modules/pg/')), sqlite: loaded.some((f) => f.includes('/node_modules/better-sqlite3/')), error }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { pg: boolean; sqlite: boolean; error: string | null };
}

void test('each engine loads only its own driver: a SQLite user never loads pg, a PostgreSQL user never loads better-sqlite3', () => {
  assert.deepEqual(loadedModules('sqlite::memory:'), { pg: false, sqlite: true, error: null });
  // port 1 refuses at once: pg is loaded, fails to connect, and better-sqlite3 stays unloaded
  assert.deepEqual(loadedModules('postgres://postgres@127.0.0.1:1/none'), { pg: true, sqlite: false, error: 'RegistryUnreachableError' });
});
