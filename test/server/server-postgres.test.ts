/**
 * `physis serve` over the PostgreSQL registry with two analysis workers: concurrent uploads are each stored once, and a
 * review written through the API is what the registry reads back. Skips with one line without a reachable server.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { PNG } from 'pngjs';
import { openRegistry } from '../../src/registry/index.js';
import { startTestServer } from './helpers.js';
import { postgresUnreachable, TEST_POSTGRES_URL } from '../helpers/services.js';

const SERVER = TEST_POSTGRES_URL;
const SCHEMA = `physis_serve_${process.pid}_${randomBytes(4).toString('hex')}`;

const why = await postgresUnreachable();
const url = new URL(SERVER);
url.searchParams.set('schema', SCHEMA);

after(async () => {
  if (why !== null) return;
  const client = new pg.Client({ connectionString: SERVER });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  await client.end();
});

void test(
  'serve on PostgreSQL with 2 workers: 6 distinct films uploaded 3 at a time, each stored once; a review reads back from the registry',
  why === null ? {} : { skip: `PostgreSQL unreachable at ${new URL(SERVER).host} (${why}); set PHYSIS_TEST_POSTGRES_URL to run this test` },
  async () => {
    const s = await startTestServer({ registryUrl: url.toString(), workers: 2, threadsPerWorker: 1 });
    try {
      const base = PNG.sync.read(readFileSync('samples/hand-0.png'));
      const films = Array.from({ length: 6 }, (_, i) => {
        const copy = new PNG({ width: base.width, height: base.height });
        base.data.copy(copy.data);
        copy.data[0] = i;
        return new Uint8Array(PNG.sync.write(copy));
      });
      const post = async (body: Uint8Array): Promise<{ instanceId: number; status: string }> => {
        const r = await fetch(`${s.url}/api/analyses?sex=M`, { method: 'POST', headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'image/png' }, body });
        assert.equal(r.status, 200);
        return (await r.json()) as { instanceId: number; status: string };
      };
      // every film sent twice at once: the registry's (source, bytes) key keeps one record however the workers race
      const answers = [];
      for (let i = 0; i < films.length; i += 3) answers.push(...(await Promise.all([...films.slice(i, i + 3), ...films.slice(i, i + 3)].map(post))));
      const ids = new Set(answers.map((a) => a.instanceId));
      assert.equal(ids.size, 6);
      const first = [...ids][0] as number;
      const review = await fetch(`${s.url}/api/instances/${first}/reviews`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'hand-bone-age', verdict: 'reject', note: 'motion blur' }),
      });
      assert.equal(review.status, 201);
      const store = await openRegistry(url.toString());
      try {
        const counts = await store.countByStatus();
        assert.equal(counts.stored, 6);
        const rows = await store.listInstances({ task: 'hand-bone-age' });
        assert.equal(rows.length, 6);
        for (const r of rows) assert.equal(r.results.length, 1);
        assert.equal(rows.find((r) => r.instance?.id === first)?.results[0]?.reviewState, 'rejected');
      } finally {
        await store.close();
      }
    } finally {
      await s.stop();
    }
  },
);
