/**
 * A registry ingestion worker: takes films from the queue and runs each through the same code as `physis ingest`
 * (`ingestBytes`: the resume check, the duplicate check, the gate once, every task that accepts the film, one
 * registry transaction), with the models opened once for the worker's life.
 *
 * Exactly once = at-least-once delivery + idempotent writes. A job is redelivered when its worker dies before
 * acknowledging it; the registry records a path with given bytes once (a redelivered film whose transaction had
 * committed is `skipped`), a prediction once per (instance, task, weights), and a film's rows all or none.
 *
 * What fails a job, and what does not:
 * - a bad film (unreadable as an image, truncated, refused by the gate for every task) is a recorded quarantine: the
 *   job completes, and its registry row says why;
 * - an infrastructure failure (the registry is down, the file cannot be read on this machine's mount) throws: the job
 *   is retried with exponential backoff and moves to the failed set with the reason after its last try;
 * - a job this worker can never do (malformed data, a task it has no model for) fails at once.
 * Reasons name the film by its file name only; its folders may name a patient.
 *
 * @example
 * const models = await openIngestModels({ gateDir: 'models/suitability', tasks: [{ task: getTask('hand-bone-age'), dir: 'models/hand-bone-age' }] });
 * const store = await openRegistry('postgres://registry@db/physis');
 * const stop = new AbortController();
 * process.once('SIGTERM', () => stop.abort());
 * const s = await runIngestWorker({ queue: parseQueueUrl('redis://queue:6379'), queueName: 'physis-ingest', store, models, key, signal: stop.signal });
 * s.processed; // -> 1204 (films this worker completed before SIGTERM; the one in hand was finished first)
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ingestBytes, type IngestFilmOutcome, type IngestModels } from '../tasks/index.js';
import type { RegistryStore } from '../registry/index.js';
import { PermanentJobError, QueueError } from './errors.js';
import type { JobContext, QueueCounts } from './bullmq.js';
import { checkIngestJobData } from './ingest-queue.js';
import type { QueueLocation } from './queue-url.js';

/** What became of one job's film, for the worker's own output. */
export interface IngestJobOutcome {
  readonly jobId: string;
  /** Which try this was, counting from 1. */
  readonly attempt: number;
  readonly film: IngestFilmOutcome;
}

/** The worker's progress: its own rate, and the queue's counts with an ETA at the rate of all workers together. */
export interface WorkerProgress {
  /** Films this worker completed. */
  readonly processed: number;
  readonly filmsPerSecond: number;
  readonly queue: QueueCounts;
  /** Jobs completed or failed per second by every worker of the queue since this one started; null before a change. */
  readonly queueFilmsPerSecond: number | null;
  /** Seconds until the queue is empty at that rate; null while unknown. */
  readonly etaSeconds: number | null;
}

/** What a worker did before it stopped. */
export interface WorkerSummary {
  readonly processed: number;
  /** Films by what became of them (`stored`, `quarantined`, `duplicate`, `skipped`). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Tries that threw (each retried, or failed after its last try). */
  readonly failedTries: number;
  readonly seconds: number;
}

/** Options of {@link runIngestWorker}. */
export interface IngestWorkerOptions {
  readonly queue: QueueLocation;
  readonly queueName: string;
  readonly store: RegistryStore;
  /** The gate and the models of every task this worker can run; a job names which of them it wants. */
  readonly models: IngestModels;
  /** The de-identification key (the same for every worker of a registry). */
  readonly key: string;
  /** Jobs at once in this process (default 1: the models' threads are the parallelism within one film). */
  readonly concurrency?: number;
  /** A job's lock, renewed every half of it while its film is analysed (default 30000, BullMQ's). */
  readonly lockMs?: number;
  /** How often this worker looks for jobs whose worker died (default 30000, BullMQ's). */
  readonly stalledIntervalMs?: number;
  /** Stop once nothing is waiting, delayed or active in the queue (a batch run) instead of waiting for more. */
  readonly untilEmpty?: boolean;
  /** Aborting it stops the worker: the film in hand is finished and acknowledged, then the connections close. */
  readonly signal?: AbortSignal;
  /** Called once the worker takes jobs (the models are open and Redis answers). */
  readonly onReady?: () => void;
  readonly onFilm?: (o: IngestJobOutcome) => void;
  /** Called when a try throws, with a one-line reason (the job is retried or failed by the queue). */
  readonly onJobError?: (jobId: string, attempt: number, attempts: number, reason: string) => void;
  /** Called every `progressEveryMs` (default 2000). */
  readonly onProgress?: (p: WorkerProgress) => void;
  readonly progressEveryMs?: number;
  /** Connection trouble with Redis (the worker keeps reconnecting). */
  readonly onWarning?: (line: string) => void;
}

/** A message with every occurrence of the film's path replaced by its file name. */
function withoutFolders(message: string, path: string): string {
  return message.split(path).join(basename(path)).replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Process ingestion jobs until stopped (or, with `untilEmpty`, until the queue is empty).
 * @param o - the queue, the registry, the opened models and key, and callbacks
 * @returns what this worker did
 * @throws QueueUnreachableError when Redis does not answer at the start
 */
export async function runIngestWorker(o: IngestWorkerOptions): Promise<WorkerSummary> {
  const started = performance.now();
  const byStatus: Record<string, number> = {};
  let processed = 0;
  let failedTries = 0;
  const byName = new Map(o.models.tasks.map((t) => [t.task.name, t]));

  const processJob = async (raw: unknown, ctx: JobContext): Promise<object> => {
    const job = checkIngestJobData(raw);
    const missing = job.tasks.filter((t) => !byName.has(t));
    if (missing.length > 0) throw new PermanentJobError(`this worker has no model for ${missing.join(', ')}; start a worker with --tasks ${job.tasks.join(',')}`);
    const tasks = job.tasks.length === 0 ? o.models.tasks : o.models.tasks.filter((t) => job.tasks.includes(t.task.name));
    try {
      let bytes: Uint8Array;
      try {
        const b = readFileSync(job.path);
        bytes = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch (e) {
        // not the film's fault: the file is missing from this machine's view of the archive (a mount, permissions)
        const code = (e as { code?: unknown }).code;
        throw new QueueError(`cannot read ${basename(job.path)} on this worker (${typeof code === 'string' ? code : String(e)})`);
      }
      const { outcome } = await ingestBytes({ store: o.store, models: { gate: o.models.gate, tasks }, key: o.key }, { bytes, sourcePath: job.path, columns: job.columns });
      processed++;
      byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
      o.onFilm?.({ jobId: ctx.id, attempt: ctx.attempt, film: outcome });
      // the job's result, kept in Redis: ids only, nothing of the film
      return { status: outcome.status, fileId: outcome.fileId ?? null, instanceId: outcome.instanceId ?? null };
    } catch (e) {
      failedTries++;
      const err = e instanceof Error ? e : new Error(String(e));
      const reason = withoutFolders(err instanceof QueueError ? err.message : `${err.name}: ${err.message}`, job.path);
      o.onJobError?.(ctx.id, ctx.attempt, ctx.attempts, reason);
      throw new QueueError(reason);
    }
  };

  const { openQueueClient, startQueueWorker } = await import('./bullmq.js');
  const observer = await openQueueClient(o.queue, o.queueName);
  let worker;
  try {
    worker = await startQueueWorker(o.queue, o.queueName, processJob, {
      concurrency: o.concurrency ?? 1,
      lockMs: o.lockMs ?? 30_000,
      stalledIntervalMs: o.stalledIntervalMs ?? 30_000,
      ...(o.onWarning === undefined ? {} : { onError: o.onWarning }),
    });
  } catch (e) {
    await observer.close();
    throw e;
  }
  o.onReady?.();
  // rates count from here: opening the models is not part of a film's time
  const ready = performance.now();

  // progress, and the end of a batch run, from the queue's counts (every worker's work, not only this one's)
  const first = await observer.counts().catch(() => null);
  const doneAtStart = first === null ? null : first.completed + first.failed;
  const every = o.progressEveryMs ?? 2000;
  let lastProgress = performance.now();
  let finish: () => void = () => undefined;
  const stopped = new Promise<void>((ok) => (finish = ok));
  if (o.signal?.aborted) finish();
  o.signal?.addEventListener('abort', () => finish(), { once: true });
  let polling = false;
  const timer = setInterval(
    () => {
      if (polling) return;
      polling = true;
      void (async () => {
        try {
          const c = await observer.counts();
          const left = c.waiting + c.active + c.delayed;
          const now = performance.now();
          if (o.onProgress !== undefined && now - lastProgress >= every) {
            lastProgress = now;
            const seconds = (now - ready) / 1000;
            const done = c.completed + c.failed - (doneAtStart ?? c.completed + c.failed);
            const rate = done > 0 ? done / seconds : null;
            o.onProgress({ processed, filmsPerSecond: processed / Math.max(seconds, 1e-9), queue: c, queueFilmsPerSecond: rate, etaSeconds: rate === null ? null : left / rate });
          }
          if (o.untilEmpty === true && left === 0) finish();
        } catch {
          // Redis is away; the worker's own connection reports it, and the next tick tries again
        } finally {
          polling = false;
        }
      })();
    },
    Math.min(every, 1000),
  );
  try {
    await stopped;
  } finally {
    clearInterval(timer);
    // BullMQ's close waits for the jobs in hand: the film being analysed is finished and acknowledged
    await worker.close();
    await observer.close();
  }
  return { processed, byStatus, failedTries, seconds: (performance.now() - started) / 1000 };
}
