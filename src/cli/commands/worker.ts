/**
 * `physis worker --queue redis://… --registry URL`: one of any number of registry ingestion workers, on any machine
 * that sees the archive at the paths `physis ingest --queue` enqueued. It opens the gate and the tasks' models once,
 * then runs each queued film through the same code as `physis ingest` into the registry. SIGINT or SIGTERM: the film
 * in hand is finished and acknowledged, then the worker closes (a second signal stops it at once; that film is then
 * redelivered to another worker). Thin: the work is src/jobs/ingest-worker.ts.
 *
 * @example
 * $ physis worker --queue redis://127.0.0.1:6379 --registry postgres://physis@db/registry --key-file deid.key --threads 1
 * worker: ready (hand-bone-age; queue physis-ingest at 127.0.0.1:6379/0)
 * /archive/0001.png: stored (instance #1); hand-bone-age: 142.3
 * /archive/notes.txt: quarantined: NotDicomError: not a DICOM, PNG or JPEG file (14 bytes, starts 73 65 65 20)
 * worker: 2 films here (0.71 films/s); queue: 0 waiting, 0 active, 0 delayed, 2 completed, 0 failed
 * worker: 2 films in 3.1 s: 1 stored, 1 quarantined; 0 tries failed
 */
import { existsSync } from 'node:fs';
import { escapeForTerminal } from '../../radiograph/index.js';
import { DEFAULT_REGISTRY_URL, openRegistry } from '../../registry/index.js';
import { closeIngestModels, openIngestModels } from '../../tasks/index.js';
import { setNumThreads } from '../../torch/index.js';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, runIngestWorker, type WorkerProgress } from '../../jobs/index.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';
import { deidKey, defaultGateDir, durationText, ingestFilmLine, plannedTasks } from '../task-args.js';

function progressLine(p: WorkerProgress): string {
  const q = p.queue;
  const all = p.queueFilmsPerSecond === null ? '' : `; all workers ${p.queueFilmsPerSecond.toFixed(2)} films/s, ETA ${durationText(p.etaSeconds)}`;
  return `worker: ${p.processed} films here (${p.filmsPerSecond.toFixed(2)} films/s); queue: ${q.waiting} waiting, ${q.active} active, ${q.delayed} delayed, ${q.completed} completed, ${q.failed} failed${all}`;
}

/** The `physis worker` command (see the module comment for an example). */
export const workerCommand: Command = {
  name: 'worker',
  summary: 'take films from a Redis work queue (physis ingest --queue) and ingest them into a registry; run any number',
  usage: [
    'usage: physis worker --queue redis://host:6379[/db] [--queue-name physis-ingest] [--registry URL] [--key-file FILE]',
    '                     [--tasks a,b] [--bundle task=dir …] [--gate dir] [--backend auto|onnx|torch] [--concurrency 1]',
    '                     [--threads N] [--lock-ms 30000] [--stalled-interval-ms 30000] [--until-empty] [--json]',
    '',
    'Opens the gate and the models once, then ingests each queued film exactly as `physis ingest` does (same registry',
    'rows, same de-identification: every worker of a registry needs the same --key-file or PHYSIS_DEID_KEY). A bad film',
    'is a quarantine in the registry and a completed job; a failure of the registry or of reading the file is retried',
    "with the job's exponential backoff and, after its last try, left in the failed set (see `physis queue status`).",
    '--registry: postgres://… for workers on several machines (default ' + DEFAULT_REGISTRY_URL + ').',
    '--tasks/--bundle: the tasks this worker can run (default: every task with a shipped model); a job naming another fails.',
    "--threads: libtorch's intra-op threads (default: libtorch's own); give cores / workers when several share a machine.",
    "--lock-ms / --stalled-interval-ms: a dead worker's film goes back to the queue within about their sum.",
    '--until-empty: stop when nothing is waiting, delayed or active (a batch run); otherwise wait for more films.',
    'SIGINT/SIGTERM: finish the film in hand, then stop (exit 0); a second signal stops at once (exit 130).',
    '',
    'example:',
    '  $ physis worker --queue redis://127.0.0.1:6379 --registry postgres://physis@db/registry --key-file deid.key',
  ].join('\n'),
  options: {
    queue: { type: 'string' },
    'queue-name': { type: 'string' },
    registry: { type: 'string' },
    'key-file': { type: 'string' },
    tasks: { type: 'string' },
    bundle: { type: 'string', multiple: true },
    gate: { type: 'string' },
    backend: { type: 'string' },
    concurrency: { type: 'string' },
    threads: { type: 'string' },
    'lock-ms': { type: 'string' },
    'stalled-interval-ms': { type: 'string' },
    'until-empty': { type: 'boolean' },
  },
  allowPositionals: false,
  async run(args, out) {
    const queue = parseQueueUrl(stringOption(args, 'queue', true));
    const queueName = stringOption(args, 'queue-name') ?? DEFAULT_QUEUE_NAME;
    const backend = stringOption(args, 'backend') ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnx' && backend !== 'torch') throw new UsageError(`--backend must be auto, onnx or torch, got '${backend}'`);
    const concurrency = intOption(args, 'concurrency', 1, 1, 64);
    const lockMs = intOption(args, 'lock-ms', 30_000, 1000, 3_600_000);
    const stalledIntervalMs = intOption(args, 'stalled-interval-ms', 30_000, 500, 3_600_000);
    const threads = stringOption(args, 'threads') === undefined ? undefined : intOption(args, 'threads', 1, 1, 1024);
    const gateDir = stringOption(args, 'gate') ?? defaultGateDir();
    if (!existsSync(gateDir)) throw new UsageError(`no suitability gate at ${gateDir}; give --gate DIR`);
    const url = stringOption(args, 'registry') ?? DEFAULT_REGISTRY_URL;
    const tasks = plannedTasks(args);
    const { key } = deidKey(args, (l) => out.warn(l));
    if (threads !== undefined) setNumThreads(threads);

    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stop.signal.aborted) {
        out.warn(`${signal} again: stopping now; the film in hand goes back to the queue when its lock expires`);
        process.exit(130);
      }
      out.progress(`worker: ${signal}: finishing the film in hand, then stopping`);
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const models = await openIngestModels({ gateDir, tasks, backend });
      try {
        const store = await openRegistry(url, { actor: 'physis worker' });
        try {
          const s = await runIngestWorker({
            queue,
            queueName,
            store,
            models,
            key,
            concurrency,
            lockMs,
            stalledIntervalMs,
            untilEmpty: args.values['until-empty'] === true,
            signal: stop.signal,
            onReady: () => out.progress(`worker: ready (${tasks.map((t) => t.task.name).join(', ')}; queue ${queueName} at ${queue.where})`),
            onFilm: (f) => out.result({ jobId: f.jobId, attempt: f.attempt, ...f.film }, escapeForTerminal(ingestFilmLine(f.film))),
            onJobError: (id, attempt, attempts, reason) =>
              out.warn(`job ${id} try ${attempt} of ${attempts} failed${attempt < attempts ? ' (retried after a backoff)' : ' (moved to the failed set)'}: ${escapeForTerminal(reason)}`),
            onProgress: (p) => out.progress(progressLine(p)),
            onWarning: (l) => out.warn(escapeForTerminal(l)),
          });
          const counts = Object.entries(s.byStatus).map(([k, v]) => `${v} ${k}`);
          out.result({ summary: s }, `worker: ${s.processed} films in ${s.seconds.toFixed(1)} s${counts.length > 0 ? `: ${counts.join(', ')}` : ''}; ${s.failedTries} tries failed`);
        } finally {
          await store.close();
        }
      } finally {
        await closeIngestModels(models);
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return 0;
  },
};
