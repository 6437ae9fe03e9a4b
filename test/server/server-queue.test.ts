/**
 * `physis serve --queue`: `GET /api/queue` serves the ingestion queue's counts as `physis queue status` reads them.
 * Against a real Redis (PHYSIS_TEST_REDIS_URL, default redis://127.0.0.1:6379); skips with one line without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { enqueueFolder, parseQueueUrl } from '../../src/jobs/index.js';
import { startTestServer } from './helpers.js';
import { redisUnreachable, TEST_REDIS_URL } from '../helpers/services.js';

const REDIS = TEST_REDIS_URL;

const why = await redisUnreachable();

void test('GET /api/queue: the counts of the queue the server was given (two films waiting, no worker)', why === null ? {} : { skip: `Redis unreachable at ${parseQueueUrl(REDIS).where} (${why}); set PHYSIS_TEST_REDIS_URL to run this test` }, async () => {
  const name = `physis-serve-test-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'physis-queue-films-'));
  const redis = new Redis(REDIS);
  const s = await startTestServer({ queueUrl: REDIS, queueName: name });
  try {
    copyFileSync('samples/hand-0.png', join(dir, 'a.png'));
    copyFileSync('samples/hand-0.png', join(dir, 'b.png'));
    const e = await enqueueFolder({ root: dir, queue: parseQueueUrl(REDIS), queueName: name, tasks: ['hand-bone-age'] });
    assert.equal(e.enqueued, 2);
    const r = await fetch(`${s.url}/api/queue`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { name: string; counts: { waiting: number; failed: number } };
    assert.equal(body.name, name);
    assert.equal(body.counts.waiting, 2);
    assert.equal(body.counts.failed, 0);
    assert.equal((await fetch(`${s.url}/api/queue`)).status, 401);
  } finally {
    await s.stop();
    // the test's own queue only: BullMQ keeps a queue under keys prefixed bull:<name>:
    const keys = await redis.keys(`bull:${name}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
});
