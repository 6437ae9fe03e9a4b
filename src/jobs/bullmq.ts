/**
 * The one file that touches BullMQ and its Redis client (ioredis); the rest of src/jobs loads it lazily, so a command
 * that never names a queue never loads either (STYLE.md: heavy or optional dependencies live behind one adapter file
 * each and load lazily). It speaks in this module's own types, so no BullMQ type leaks past it.
 *
 * Delivery is BullMQ's: a job is handed to one worker at a time under a lock the worker renews every half
 * `lockMs`; a worker that dies (SIGKILL, power) stops renewing, and the next stalled-job check of any live worker
 * (every `stalledIntervalMs`) puts the job back in the wait list. That is at-least-once delivery; the processor's
 * writes must be idempotent for the whole to be exactly once.
 */
import type * as BullMq from 'bullmq';
import type { ConnectionOptions, Job, Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import type { Redis as RedisClient } from 'ioredis';
import { PermanentJobError, QueueError, QueueUnreachableError } from './errors.js';
import type { QueueLocation } from './queue-url.js';

interface Loaded {
  readonly bull: typeof BullMq;
  readonly Redis: typeof RedisClient;
}

let modules: Promise<Loaded> | null = null;

function load(): Promise<Loaded> {
  modules ??= Promise.all([import('bullmq'), import('ioredis')]).then(
    ([bull, ioredis]): Loaded => ({ bull, Redis: ioredis.Redis }),
    (e: unknown) => {
      modules = null;
      throw new QueueError(`bullmq could not be loaded (${e instanceof Error ? e.message : String(e)})`);
    },
  );
  return modules;
}

/** BullMQ's default key prefix: a job's hash is `bull:<queue>:<job id>`. */
const PREFIX = 'bull';
/** How long a command waits for Redis before saying it cannot reach it. */
const CONNECT_TIMEOUT_MS = 3000;
/** Job ids checked and added per round trip when enqueuing. */
const ADD_CHUNK = 1000;

/** Redis options for a location (ioredis' names, as BullMQ passes them on). */
function redisOptions(at: QueueLocation): { host: string; port: number; db: number; username?: string; password?: string; tls?: object } {
  return {
    host: at.host,
    port: at.port,
    db: at.db,
    ...(at.username === undefined ? {} : { username: at.username }),
    ...(at.password === undefined ? {} : { password: at.password }),
    ...(at.tls ? { tls: {} } : {}),
  };
}

/** The cause of a connection failure in a few words (ECONNREFUSED, a refused AUTH, …), never the URL. */
function describe(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  if (typeof err.code === 'string') return err.code;
  return typeof err.message === 'string' ? err.message.replace(/\s*\n\s*/g, ' ') : String(e);
}

/** A client that fails at once when Redis is not there, for the checks a command makes before it starts. */
async function connectOnce(Redis: Loaded['Redis'], at: QueueLocation): Promise<RedisClient> {
  const client = new Redis({ ...redisOptions(at), lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // the socket's error names the cause (ECONNREFUSED); connect() itself only says that the connection closed
  let cause: unknown;
  client.on('error', (e: unknown) => (cause ??= e));
  try {
    await client.connect();
    await client.ping();
    return client;
  } catch (e) {
    client.disconnect();
    throw new QueueUnreachableError(`cannot reach Redis at ${at.where} (${describe(cause ?? e)})`, { cause: cause ?? e });
  }
}

/** The counts of a queue's jobs by state. */
export interface QueueCounts {
  readonly waiting: number;
  readonly active: number;
  /** Waiting out a retry's backoff. */
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
}

/** A job in the failed set: its id, its data, why it failed the last time, and how often it was tried. */
export interface FailedJob {
  readonly id: string;
  readonly data: unknown;
  readonly reason: string;
  readonly attemptsMade: number;
}

/** How jobs are retried and kept, set when they are added. */
export interface AddOptions {
  /** Tries before a job moves to the failed set. */
  readonly attempts: number;
  /** The first retry's delay; each next one doubles it (BullMQ's exponential backoff). */
  readonly backoffMs: number;
  /** How long a completed job is kept (so that adding it again adds nothing), in seconds. */
  readonly keepCompletedSeconds: number;
}

/** A queue as a producer and an observer see it. */
export interface QueueClient {
  /**
   * Add the jobs whose ids are not in the queue yet (in any state); a job id already there is left as it is.
   * @returns how many were added and how many were there already
   */
  addNew(jobs: readonly { readonly id: string; readonly data: object }[], o: AddOptions): Promise<{ added: number; existing: number }>;
  counts(): Promise<QueueCounts>;
  /** Failed jobs, most recent first. @param limit - at most this many */
  failed(limit: number): Promise<FailedJob[]>;
  /** Every failed job back to the wait list, its tries counted anew. @returns how many were failed */
  retryFailed(): Promise<number>;
  /** Remove the queue and every job in it (a test's or benchmark's clean-up). */
  obliterate(): Promise<void>;
  /** The state a job id is in (`completed`, `failed`, …; `unknown` when absent) and how often it stalled. */
  jobState(id: string): Promise<{ state: string; stalledCounter: number; attemptsMade: number }>;
  close(): Promise<void>;
}

/**
 * Open a queue for adding jobs and reading its counts, after checking that Redis answers.
 * @param at - where Redis is
 * @param name - the queue's name
 * @throws QueueUnreachableError when Redis does not answer within 3 s or refuses the login
 */
export async function openQueueClient(at: QueueLocation, name: string): Promise<QueueClient> {
  const { bull, Redis } = await load();
  const keys = await connectOnce(Redis, at);
  // commands end with an error instead of waiting for ever when Redis goes away while one runs
  const connection: ConnectionOptions = { ...redisOptions(at), maxRetriesPerRequest: 1, connectTimeout: CONNECT_TIMEOUT_MS };
  const queue: BullQueue = new bull.Queue(name, { connection });
  queue.on('error', () => undefined);
  const counts = async (): Promise<QueueCounts> => {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
    const n = (k: string): number => c[k] ?? 0;
    return { waiting: n('waiting') + n('prioritized'), active: n('active'), delayed: n('delayed'), completed: n('completed'), failed: n('failed') };
  };
  return {
    async addNew(jobs, o) {
      let added = 0;
      let existing = 0;
      for (let i = 0; i < jobs.length; i += ADD_CHUNK) {
        const chunk = jobs.slice(i, i + ADD_CHUNK);
        const pipeline = keys.pipeline();
        for (const j of chunk) pipeline.exists(`${PREFIX}:${name}:${j.id}`);
        const found = (await pipeline.exec()) ?? [];
        const fresh = chunk.filter((_, k) => found[k]?.[1] !== 1);
        existing += chunk.length - fresh.length;
        if (fresh.length === 0) continue;
        // an id added meanwhile by another producer is still added once: BullMQ's add keeps the first job of an id
        await queue.addBulk(
          fresh.map((j) => ({
            name: 'film',
            data: j.data,
            opts: {
              jobId: j.id,
              attempts: o.attempts,
              backoff: { type: 'exponential', delay: o.backoffMs },
              removeOnComplete: { age: o.keepCompletedSeconds },
              removeOnFail: false,
            },
          })),
        );
        added += fresh.length;
      }
      return { added, existing };
    },
    counts,
    async failed(limit) {
      const jobs = (await queue.getFailed(0, Math.max(0, limit - 1))) as Job[];
      return jobs.map((j) => ({ id: j.id ?? '?', data: j.data as unknown, reason: j.failedReason ?? '', attemptsMade: j.attemptsMade }));
    },
    async retryFailed() {
      const before = (await counts()).failed;
      await queue.retryJobs({ state: 'failed' });
      return before;
    },
    async obliterate() {
      await queue.obliterate({ force: true });
    },
    async jobState(id) {
      const job = (await queue.getJob(id)) as Job | undefined;
      if (job === undefined) return { state: 'unknown', stalledCounter: 0, attemptsMade: 0 };
      return { state: await job.getState(), stalledCounter: job.stalledCounter, attemptsMade: job.attemptsMade };
    },
    async close() {
      await queue.close();
      keys.disconnect();
    },
  };
}

/** Options of {@link startQueueWorker}. */
export interface QueueWorkerOptions {
  /** Jobs processed at once by this process. */
  readonly concurrency: number;
  /** How long a job's lock lasts unless renewed (renewed every half of it while the job runs). */
  readonly lockMs: number;
  /** How often this worker looks for jobs whose lock expired (their worker died) and puts them back. */
  readonly stalledIntervalMs: number;
  /** Called when the worker cannot talk to Redis (it keeps reconnecting). */
  readonly onError?: (message: string) => void;
}

/** What a processor knows of its job. */
export interface JobContext {
  readonly id: string;
  /** This try, counting from 1. */
  readonly attempt: number;
  /** Tries the job has in all. */
  readonly attempts: number;
}

/** A running worker. */
export interface QueueWorker {
  /** Stop taking jobs, let the running ones finish (or abandon them with `force`, to be redelivered), disconnect. */
  close(force?: boolean): Promise<void>;
}

/**
 * Start processing a queue's jobs. A processor that throws {@link PermanentJobError} fails its job at once; any other
 * throw is retried with the job's backoff until its tries are spent, then the job moves to the failed set with the
 * message as its reason.
 * @param at - where Redis is
 * @param name - the queue's name
 * @param processor - what to do with one job's data; what it resolves to is kept as the job's result
 * @param o - concurrency, lock and stalled-check periods
 * @throws QueueUnreachableError when Redis does not answer at the start
 */
export async function startQueueWorker(
  at: QueueLocation,
  name: string,
  processor: (data: unknown, ctx: JobContext) => Promise<object>,
  o: QueueWorkerOptions,
): Promise<QueueWorker> {
  const { bull, Redis } = await load();
  (await connectOnce(Redis, at)).disconnect();
  const connection: ConnectionOptions = { ...redisOptions(at), maxRetriesPerRequest: null };
  const worker: BullWorker = new bull.Worker(
    name,
    async (job: Job) => {
      try {
        return await processor(job.data as unknown, { id: job.id ?? '?', attempt: job.attemptsMade + 1, attempts: job.opts.attempts ?? 1 });
      } catch (e) {
        if (e instanceof PermanentJobError) throw new bull.UnrecoverableError(e.message);
        throw e;
      }
    },
    {
      connection,
      concurrency: o.concurrency,
      lockDuration: o.lockMs,
      stalledInterval: o.stalledIntervalMs,
      maxStalledCount: 1,
    },
  );
  let lastError = '';
  worker.on('error', (e: Error) => {
    const m = describe(e);
    // ioredis reports every reconnect attempt; one line per change of cause is enough
    if (m !== lastError) o.onError?.(`queue: ${m}`);
    lastError = m;
  });
  await worker.waitUntilReady();
  return {
    async close(force = false) {
      await worker.close(force);
    },
  };
}
