/**
 * Registry ingestion scaled out over a Redis work queue (BullMQ): `enqueueFolder` adds one job per film, any number of
 * `runIngestWorker` processes on any machines that see the archive's files take them, and `queueStatus` reports the
 * counts and the failed jobs' reasons. BullMQ and its Redis client are loaded only when a queue is used.
 *
 * @example
 * const queue = parseQueueUrl('redis://127.0.0.1:6379');
 * await enqueueFolder({ root: '/archive', queue, queueName: DEFAULT_QUEUE_NAME, tasks: ['hand-bone-age'] }); // -> { enqueued: 412, alreadyQueued: 0, … }
 * // on each machine: await runIngestWorker({ queue, queueName: DEFAULT_QUEUE_NAME, store, models, key });
 * (await queueStatus(queue, DEFAULT_QUEUE_NAME)).counts; // -> { waiting: 0, active: 0, delayed: 0, completed: 412, failed: 0 }
 */
export { QueueError, QueueUrlError, QueueUnreachableError, PermanentJobError } from './errors.js';
export { parseQueueUrl, DEFAULT_QUEUE_NAME, type QueueLocation } from './queue-url.js';
export type { QueueCounts } from './bullmq.js';
export {
  enqueueFolder,
  ingestJobId,
  checkIngestJobData,
  queueStatus,
  retryFailedJobs,
  type IngestJobData,
  type EnqueueOptions,
  type EnqueueRetry,
  type EnqueueSummary,
  type QueueStatus,
  type FailedIngestJob,
} from './ingest-queue.js';
export { runIngestWorker, type IngestWorkerOptions, type IngestJobOutcome, type WorkerProgress, type WorkerSummary } from './ingest-worker.js';
