/**
 * The queue's address: a Redis URL, as Redis' own clients write it (`redis://host:6379/2`, IANA `redis` scheme).
 */
import { QueueUrlError } from './errors.js';

/** Where a queue lives: a Redis server and database. */
export interface QueueLocation {
  readonly host: string;
  readonly port: number;
  /** The Redis database number (the URL's path; 0 when absent). */
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
  /** `rediss://`: TLS to the server. */
  readonly tls: boolean;
  /** `host:port/db`, for messages (never the password). */
  readonly where: string;
}

/** The default queue name of registry ingestion (BullMQ keys are `bull:<name>:…`). */
export const DEFAULT_QUEUE_NAME = 'physis-ingest';

const ACCEPTED = 'accepted: redis://[user[:password]@]host[:port][/db] or rediss://… for TLS';

/**
 * Parse a queue URL. Messages never repeat the URL, since it may hold a password.
 * @param url - `redis://host:6379[/db]`, with optional credentials; `rediss://` for TLS
 * @throws QueueUrlError for another scheme, a missing host, or a database that is not a small integer
 *
 * @example
 * parseQueueUrl('redis://127.0.0.1:6379/2'); // -> { host: '127.0.0.1', port: 6379, db: 2, tls: false, where: '127.0.0.1:6379/2' }
 */
export function parseQueueUrl(url: string): QueueLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUrlError(`malformed queue URL; ${ACCEPTED}`);
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') throw new QueueUrlError(`unknown queue scheme '${scheme}:'; ${ACCEPTED}`);
  if (parsed.hostname === '') throw new QueueUrlError(`queue URL without a host; ${ACCEPTED}`);
  const path = parsed.pathname.replace(/^\//, '');
  // Redis databases are numbered 0..15 by default (redis.conf `databases`); a larger number is the server's to refuse
  if (path !== '' && !/^\d{1,5}$/.test(path)) throw new QueueUrlError(`the queue URL's path must be a database number; ${ACCEPTED}`);
  const db = path === '' ? 0 : Number(path);
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db,
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    tls: scheme === 'rediss',
    where: `${parsed.hostname}:${port}/${db}`,
  };
}
