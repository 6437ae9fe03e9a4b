/**
 * Whether the real services the integration tests use answer: PostgreSQL (PHYSIS_TEST_POSTGRES_URL, default the
 * local trust-auth database `test`) and Redis (PHYSIS_TEST_REDIS_URL). Each check gives null when the service answers,
 * else why not in a few words, for the one skip line of a test that needs it.
 */
import pg from 'pg';
import { Redis } from 'ioredis';

export const TEST_POSTGRES_URL = process.env['PHYSIS_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env['PHYSIS_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Null when PostgreSQL at `url` answers a query, else its error code or message. @param url - a postgres:// URL */
export async function postgresUnreachable(url = TEST_POSTGRES_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (e) {
    const err = e as { code?: string; errors?: { code?: string }[]; message?: string };
    return err.code ?? err.errors?.[0]?.code ?? err.message ?? String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Null when Redis at `url` answers PING, else its error code or message. @param url - a redis:// URL */
export async function redisUnreachable(url = TEST_REDIS_URL): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  let cause: unknown;
  redis.on('error', (e: unknown) => (cause ??= e));
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (e) {
    return String((cause as { code?: string } | undefined)?.code ?? (e as Error).message);
  } finally {
    redis.disconnect();
  }
}
