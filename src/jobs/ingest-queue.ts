/**
 * Registry ingestion as queue jobs: one job per film, whose data is where the film is (its absolute path, size and
 * modification time), its manifest columns and the tasks to run. The registry URL and the de-identification key are
 * the worker's, never the job's: Redis holds no key, and one queue can feed workers of any registry.
 *
 * One job per film rather than per batch: a film takes hundreds of milliseconds through the gate and a model on a
 * CPU, while a job costs a few milliseconds of Redis round trips (measured by `npm run bench -- workers`), and a
 * single film is the unit that is retried, reported as failed, and redelivered when a worker dies.
 *
 * The job id is derived from the path, size and modification time, so enqueuing a folder again adds only the files
 * that are new or changed since (BullMQ keeps one job per id; completed jobs are kept for a week by default). A film
 * enqueued again after that is found in the registry by the worker, which skips it without running a model.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { listFiles } from '../radiograph/index.js';
import { readManifest } from '../tasks/index.js';
import { PermanentJobError } from './errors.js';
import type { FailedJob, QueueCounts } from './bullmq.js';
import type { QueueLocation } from './queue-url.js';

/** What one ingestion job carries. */
export interface IngestJobData {
  /** The film's absolute path, as every worker must see it (a shared mount). */
  readonly path: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  /** Its manifest row (PNG/JPEG: `sex`, `age_months`, `laterality`, `patient_id`), or none. */
  readonly columns: Readonly<Record<string, string>>;
  /** The tasks to run, by name (the worker opens their models). */
  readonly tasks: readonly string[];
}

/**
 * The job id of a film: `film-` and the sha256 of its path, size and modification time, so the same file enqueued
 * twice is one job, and a file rewritten in place is a new one.
 * @param path - the absolute path
 * @param sizeBytes - its size
 * @param mtimeMs - its modification time
 */
export function ingestJobId(path: string, sizeBytes: number, mtimeMs: number): string {
  return `film-${createHash('sha256').update(`${path}\0${sizeBytes}\0${mtimeMs}`).digest('hex')}`;
}

/**
 * The data of a job, checked: a job written by another program (or an older Physis) fails at once with the reason
 * instead of being retried.
 * @param data - what the queue gave
 * @throws PermanentJobError when a field is missing or of the wrong type
 */
export function checkIngestJobData(data: unknown): IngestJobData {
  const d = data as Partial<Record<keyof IngestJobData, unknown>> | null;
  const bad = (what: string): never => {
    throw new PermanentJobError(`malformed ingest job: ${what}`);
  };
  if (d === null || typeof d !== 'object') return bad('not an object');
  if (typeof d.path !== 'string' || d.path === '') return bad('no path');
  if (typeof d.sizeBytes !== 'number' || typeof d.mtimeMs !== 'number') return bad('no size or modification time');
  if (!Array.isArray(d.tasks) || !d.tasks.every((t): t is string => typeof t === 'string')) return bad('tasks is not a list of names');
  const columns = d.columns ?? {};
  if (typeof columns !== 'object' || columns === null || !Object.values(columns).every((v) => typeof v === 'string')) return bad('columns are not strings');
  return { path: d.path, sizeBytes: d.sizeBytes, mtimeMs: d.mtimeMs, columns: columns as Record<string, string>, tasks: d.tasks };
}

/** How enqueued jobs are retried and kept. */
export interface EnqueueRetry {
  /** Tries before a job moves to the failed set (default 3). */
  readonly attempts?: number;
  /** The first retry's delay in ms, doubling each time (default 5000: 5 s, 10 s, … while a registry restarts). */
  readonly backoffMs?: number;
  /** Days a completed job is kept, so that enqueuing again adds nothing (default 7). */
  readonly keepCompletedDays?: number;
}

/** Options of {@link enqueueFolder}. */
export interface EnqueueOptions extends EnqueueRetry {
  /** The folder (walked as `physis ingest` walks it). */
  readonly root: string;
  readonly queue: QueueLocation;
  readonly queueName: string;
  /** Task names every job carries. */
  readonly tasks: readonly string[];
  /** A manifest (`file` column, relative to the CSV, plus task inputs) for PNG/JPEG films. */
  readonly manifest?: string;
  /** Files under the folder that are not films (a SQLite registry, a key file); `-wal`/`-shm`/`-journal` follow. */
  readonly exclude?: readonly string[];
}

/** What an enqueue did. */
export interface EnqueueSummary {
  /** Files considered (every file under the folder but the excluded ones). */
  readonly films: number;
  readonly enqueued: number;
  /** Already in the queue under the same id (the same path, size and modification time). */
  readonly alreadyQueued: number;
  /** Files under the folder that are not films: the manifest, a registry's or key's own files. */
  readonly excluded: number;
  /** Files that vanished or could not be inspected between listing and stat (each named in `unreadable`). */
  readonly unreadable: readonly string[];
  readonly seconds: number;
}

/**
 * Enqueue one ingestion job per file of a folder; a file already queued (same path, size and mtime) adds nothing.
 * @param o - the folder, the queue, the tasks, an optional manifest and exclusions, retry settings
 * @throws QueueUnreachableError when Redis does not answer; the manifest's errors
 */
export async function enqueueFolder(o: EnqueueOptions): Promise<EnqueueSummary> {
  const started = performance.now();
  const excluded = new Set((o.exclude ?? []).flatMap((p) => [p, `${p}-wal`, `${p}-shm`, `${p}-journal`].map((x) => resolve(x))));
  const entries = o.manifest === undefined ? [] : readManifest(o.manifest);
  if (o.manifest !== undefined) excluded.add(resolve(o.manifest));
  const byPath = new Map(entries.map((e) => [resolve(e.path), e.columns]));
  const all = listFiles(o.root).map((f) => resolve(f));
  const files = all.filter((f) => !excluded.has(f));
  const jobs: { id: string; data: IngestJobData }[] = [];
  const unreadable: string[] = [];
  for (const path of files) {
    let st;
    try {
      st = statSync(path);
    } catch {
      unreadable.push(path);
      continue;
    }
    const data: IngestJobData = { path, sizeBytes: st.size, mtimeMs: st.mtimeMs, columns: byPath.get(path) ?? {}, tasks: [...o.tasks] };
    jobs.push({ id: ingestJobId(path, st.size, st.mtimeMs), data });
  }
  const { openQueueClient } = await import('./bullmq.js');
  const queue = await openQueueClient(o.queue, o.queueName);
  try {
    const r = await queue.addNew(jobs, {
      attempts: o.attempts ?? 3,
      backoffMs: o.backoffMs ?? 5000,
      keepCompletedSeconds: Math.round((o.keepCompletedDays ?? 7) * 86_400),
    });
    return { films: files.length, enqueued: r.added, alreadyQueued: r.existing, excluded: all.length - files.length, unreadable, seconds: (performance.now() - started) / 1000 };
  } finally {
    await queue.close();
  }
}

/** A failed job as `physis queue status` shows it: no path, only the file's name. */
export interface FailedIngestJob {
  readonly id: string;
  /** The film's file name (not its folders, which may name a patient). */
  readonly file: string;
  readonly reason: string;
  readonly attemptsMade: number;
}

/** A queue's counts and its failed jobs. */
export interface QueueStatus {
  readonly name: string;
  /** `host:port/db` (never a password). */
  readonly where: string;
  readonly counts: QueueCounts;
  /** The most recent failed jobs, up to the limit asked for. */
  readonly failed: readonly FailedIngestJob[];
}

/**
 * A queue's counts (waiting, active, delayed, completed, failed) and its most recent failed jobs with their reasons:
 * what `physis queue status` prints and what an HTTP status route can serve.
 * @param at - where Redis is
 * @param name - the queue's name
 * @param o - `failedLimit`: at most this many failed jobs (default 20; 0 for counts only)
 * @throws QueueUnreachableError when Redis does not answer
 */
export async function queueStatus(at: QueueLocation, name: string, o: { readonly failedLimit?: number } = {}): Promise<QueueStatus> {
  const { openQueueClient } = await import('./bullmq.js');
  const queue = await openQueueClient(at, name);
  try {
    const counts = await queue.counts();
    const limit = o.failedLimit ?? 20;
    const failed = limit <= 0 || counts.failed === 0 ? [] : (await queue.failed(limit)).map(failedIngestJob);
    return { name, where: at.where, counts, failed };
  } finally {
    await queue.close();
  }
}

/**
 * Put every failed job back in the wait list (after the registry or the mount is back), each with its tries anew.
 * @param at - where Redis is
 * @param name - the queue's name
 * @returns how many jobs were failed
 */
export async function retryFailedJobs(at: QueueLocation, name: string): Promise<number> {
  const { openQueueClient } = await import('./bullmq.js');
  const queue = await openQueueClient(at, name);
  try {
    return await queue.retryFailed();
  } finally {
    await queue.close();
  }
}

function failedIngestJob(j: FailedJob): FailedIngestJob {
  const path = (j.data as { path?: unknown } | null)?.path;
  return { id: j.id, file: typeof path === 'string' ? basename(path) : '?', reason: j.reason.replace(/\s*\n\s*/g, ' ').trim(), attemptsMade: j.attemptsMade };
}
