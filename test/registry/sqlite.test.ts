import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openRegistry, RegistryUnreachableError } from '../../src/registry/index.js';
import { registerStoreContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'physis-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

registerStoreContract('SQLite file', { freshUrl: () => `sqlite:${join(dir, `registry-${++files}.db`)}`, persistent: true, concurrentStoresInProcess: false });
registerStoreContract('SQLite in memory', { freshUrl: () => 'sqlite::memory:', persistent: false, concurrentStoresInProcess: false });

const WRITER = resolve('test/registry/fixtures/concurrent-writer.ts');

/** Run the writer fixture in its own process; resolves to its exit code and stderr. */
function writer(url: string, from: number, to: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, url, String(from), String(to)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => done({ code, stderr }));
  });
}

void test('two processes writing one SQLite file at once (WAL, busy timeout) lose no row and write none twice', async () => {
  const url = `sqlite:${join(dir, 'shared.db')}`;
  await (await openRegistry(url)).close(); // migrate once, so the race is about rows
  // both processes write films 0..119 in the same order, so they collide on the same film at the same moment
  const [a, b] = await Promise.all([writer(url, 0, 120), writer(url, 0, 120)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const store = await openRegistry(url);
  try {
    assert.deepEqual(await store.countByStatus(), { stored: 120, quarantined: 0, duplicate: 0, conflict: 0, total: 120 });
    assert.equal((await store.listInstances({ task: 'spine-view' })).length, 120);
    assert.equal((await store.auditLog({ tableName: 'predictions' })).length, 120);
  } finally {
    await store.close();
  }
});

void test('a registry file in a folder that does not exist is one clear RegistryUnreachableError', async () => {
  await assert.rejects(openRegistry('sqlite:/nonexistent-physis/dir/registry.db'), (e: unknown) => {
    assert.ok(e instanceof RegistryUnreachableError);
    assert.match(String(e), /^RegistryUnreachableError: cannot open SQLite registry \/nonexistent-physis\/dir\/registry.db \(.+\)$/);
    return true;
  });
});
