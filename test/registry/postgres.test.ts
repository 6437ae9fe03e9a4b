/**
 * The store contract on PostgreSQL. The server is PHYSIS_TEST_POSTGRES_URL (default: 127.0.0.1:5432, trust auth,
 * user postgres, database test); every test gets a fresh schema named after this run, and all of them are dropped
 * at the end, so runs never collide. Without a reachable server the file skips with one line.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openRegistry, RegistryUnreachableError } from '../../src/registry/index.js';
import { registerStoreContract } from './store-contract.js';
import { postgresUnreachable, TEST_POSTGRES_URL } from '../helpers/services.js';

const SERVER = TEST_POSTGRES_URL;
const RUN = `physis_test_${process.pid}_${randomBytes(4).toString('hex')}`;

const why = await postgresUnreachable();
if (why !== null) {
  void test('PostgreSQL registry store contract', { skip: `PostgreSQL unreachable at ${new URL(SERVER).host} (${why}); set PHYSIS_TEST_POSTGRES_URL to run these tests` }, () => {});
} else {
  const schemas: string[] = [];
  const freshUrl = (): string => {
    const schema = `${RUN}_${schemas.length}`;
    schemas.push(schema);
    const url = new URL(SERVER);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
  after(async () => {
    const client = new pg.Client({ connectionString: SERVER });
    await client.connect();
    try {
      for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  });

  registerStoreContract('PostgreSQL', { freshUrl, persistent: true, concurrentStoresInProcess: true });

  void test('PostgreSQL: a server that refuses connections is one clear RegistryUnreachableError without the password', async () => {
    await assert.rejects(openRegistry('postgres://postgres:hunter2@127.0.0.1:1/test', { connectTimeoutMs: 2000 }), (e: unknown) => {
      assert.ok(e instanceof RegistryUnreachableError);
      assert.equal(String(e), 'RegistryUnreachableError: cannot reach PostgreSQL registry at 127.0.0.1:1/test (ECONNREFUSED)');
      return true;
    });
  });

  void test('PostgreSQL: three pools opening an empty schema at once migrate it once (advisory lock)', async () => {
    const url = freshUrl();
    const stores = await Promise.all([openRegistry(url), openRegistry(url), openRegistry(url)]);
    await Promise.all(stores.map((s) => s.close()));
    const client = new pg.Client({ connectionString: SERVER });
    await client.connect();
    try {
      const schema = schemas[schemas.length - 1] ?? '';
      const r = await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "${schema}".schema_migrations`);
      assert.equal(Number(r.rows[0]?.n), 1);
    } finally {
      await client.end();
    }
  });
}
