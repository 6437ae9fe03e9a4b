/**
 * `physis ingest <dir> --registry <url>`: every file of a folder into an imaging registry, exactly once — hashed, read,
 * judged by the suitability gate, answered by every task that accepts it, de-identified, and written with all its
 * predictions in one transaction; unreadable and unsuitable files quarantined with the reason, copies recorded as
 * duplicates. A killed run is resumed by running the same command again. Thin: the work is src/tasks/ingest.ts.
 *
 * @example
 * $ physis ingest archive/ --registry sqlite:registry.db --key-file deid.key
 * archive/hands/0001.png: stored (instance #1); hand-bone-age: 142.3
 * archive/notes.txt: quarantined: NotDicomError: not a DICOM, PNG or JPEG file (14 bytes, starts 73 65 65 20)
 * archive/copy-of-0001.png: duplicate of instance #1
 * 3 files in 2.1 s (1.4 films/s): 1 stored, 1 quarantined, 1 duplicate, 0 already ingested; hand-bone-age: 1 answered, 0 refused, 0 failed
 *
 * With `--queue`, the folder is enqueued instead (one job per film, src/jobs) for `physis worker` processes:
 * $ physis ingest /archive --queue redis://127.0.0.1:6379
 * 3 files: 3 enqueued, 0 already queued on physis-ingest at 127.0.0.1:6379/0 (0.0 s); tasks hand-bone-age
 */
import { existsSync, statSync } from 'node:fs';
import { escapeForTerminal } from '../../radiograph/index.js';
import { DEFAULT_REGISTRY_URL, openRegistry, parseRegistryUrl } from '../../registry/index.js';
import { closeIngestModels, ingestFolder, openIngestModels, type IngestSummary } from '../../tasks/index.js';
import { DEFAULT_QUEUE_NAME, enqueueFolder, parseQueueUrl } from '../../jobs/index.js';
import { intOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';
import { deidKey, defaultGateDir, durationText, ingestFilmLine, plannedTasks } from '../task-args.js';

function summaryLine(s: IngestSummary): string {
  const tasks = Object.entries(s.byTask).map(([t, c]) => `${t}: ${c.answered} answered, ${c.refused} refused, ${c.error} failed`);
  const extra = [
    s.failed > 0 ? `${s.failed} not recorded (unreadable to hash)` : '',
    s.excluded > 0 ? `${s.excluded} not films (the manifest, the registry's own files)` : '',
    s.manifestRowsUnused > 0 ? `${s.manifestRowsUnused} manifest rows name no file under the folder` : '',
  ].filter((x) => x !== '');
  return (
    `${s.films} files in ${s.seconds.toFixed(1)} s (${s.filmsPerSecond.toFixed(2)} films/s): ${s.stored} stored, ${s.quarantined} quarantined, ` +
    `${s.duplicates} duplicate, ${s.skipped} already ingested${extra.length > 0 ? `, ${extra.join(', ')}` : ''}; ${tasks.join('; ')}`
  );
}

/** The `physis ingest` command (see the module comment for an example). */
export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'ingest a folder into an imaging registry: gate, tasks, de-identification, exactly once and resumable',
  usage: [
    'usage: physis ingest <dir> [--registry URL] [--tasks a,b] [--bundle task=dir …] [--gate dir] [--manifest csv]',
    '                     [--key-file FILE] [--backend auto|onnx|torch] [--json]',
    '       physis ingest <dir> --queue redis://host:6379[/db] [--queue-name NAME] [--tasks a,b] [--manifest csv]',
    '                     [--attempts 3] [--backoff-ms 5000] [--json]',
    '',
    `--registry: sqlite:FILE (default ${DEFAULT_REGISTRY_URL}) or postgres://user@host/db[?schema=name].`,
    'Every file under <dir> (recursively, sorted; hidden entries and <image>.json sidecars are not films) is hashed;',
    'one already recorded at that path with those bytes is skipped (rerun a killed ingest to resume); a copy of a stored',
    'film (same bytes or SOPInstanceUID) is recorded as a duplicate without running models; an unreadable, truncated or',
    'non-image file, or one the suitability gate refuses for every task, is quarantined with the reason. Every other',
    'film is stored with one prediction per task (answer, refusal or error; model id, weights sha256, gate verdict),',
    'all in one transaction.',
    '--tasks: default every task with a shipped default model, plus those given a --bundle task=dir (bundle or composite).',
    '--manifest: a CSV with a `file` column (relative to the CSV) and task inputs (`sex`), `age_months`, `laterality`,',
    '`patient_id` for PNG/JPEG films.',
    'De-identification (PS3.15 Annex E): no names, birth dates or header text are stored; PatientID becomes a keyed',
    'pseudonym, UIDs are remapped and dates shifted per patient under the key of --key-file (created when absent) or',
    'PHYSIS_DEID_KEY; only sex and age in months are kept of the patient. Use the same key for every run into a registry.',
    'Progress on stderr every 2 s; one line per file, then a summary. Exit status 0 unless the registry fails.',
    '',
    '--queue redis://host:6379[/db] [--queue-name physis-ingest]: enqueue one job per file (its absolute path, manifest',
    'columns and the tasks) for `physis worker` processes instead of ingesting here; the registry and the key are the',
    "workers' (--key-file is not needed, and no key goes to Redis). A file already queued (same path, size and mtime)",
    'adds nothing. --attempts N (default 3): tries before a job is failed; --backoff-ms (default 5000, doubling).',
    '',
    'example:',
    '  $ physis ingest archive/ --registry sqlite:registry.db --key-file deid.key',
  ].join('\n'),
  options: {
    registry: { type: 'string' },
    tasks: { type: 'string' },
    bundle: { type: 'string', multiple: true },
    gate: { type: 'string' },
    manifest: { type: 'string' },
    'key-file': { type: 'string' },
    backend: { type: 'string' },
    queue: { type: 'string' },
    'queue-name': { type: 'string' },
    attempts: { type: 'string' },
    'backoff-ms': { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const [root, ...more] = args.positionals;
    if (root === undefined || more.length > 0) throw new UsageError('give one folder to ingest');
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root}: no such folder`);
    if (stringOption(args, 'queue') !== undefined) return enqueue(root, args, out);
    for (const flag of ['queue-name', 'attempts', 'backoff-ms']) if (args.values[flag] !== undefined) throw new UsageError(`--${flag} goes with --queue`);
    const backend = stringOption(args, 'backend') ?? 'auto';
    if (backend !== 'auto' && backend !== 'onnx' && backend !== 'torch') throw new UsageError(`--backend must be auto, onnx or torch, got '${backend}'`);
    const manifest = stringOption(args, 'manifest');
    if (manifest !== undefined && !existsSync(manifest)) throw new UsageError(`${manifest}: no such manifest`);
    const gateDir = stringOption(args, 'gate') ?? defaultGateDir();
    if (!existsSync(gateDir)) throw new UsageError(`no suitability gate at ${gateDir}; give --gate DIR`);
    const url = stringOption(args, 'registry') ?? DEFAULT_REGISTRY_URL;
    const location = parseRegistryUrl(url);
    const tasks = plannedTasks(args);
    const { key, file: keyFile } = deidKey(args, (l) => out.warn(l));
    const models = await openIngestModels({ gateDir, tasks, backend });
    try {
      const store = await openRegistry(url);
      try {
        const exclude = [...(location.engine === 'sqlite' ? [location.path] : []), ...(keyFile === undefined ? [] : [keyFile])];
        const summary = await ingestFolder({
          root,
          store,
          models,
          key,
          exclude,
          ...(manifest === undefined ? {} : { manifest }),
          onFilm: (f) => out.result(f, escapeForTerminal(ingestFilmLine(f))),
          onProgress: (p) =>
            out.progress(
              `ingest: ${p.done}/${p.total} films, ${p.filmsPerSecond.toFixed(2)} films/s${p.etaSeconds === null ? '' : `, ETA ${durationText(p.etaSeconds)}`}`,
            ),
        });
        out.result({ summary }, summaryLine(summary));
      } finally {
        await store.close();
      }
    } finally {
      await closeIngestModels(models);
    }
    return 0;
  },
};

/** `physis ingest <dir> --queue URL`: one job per file, for `physis worker` processes. */
async function enqueue(root: string, args: ParsedArgs, out: Output): Promise<number> {
  const queue = parseQueueUrl(stringOption(args, 'queue', true));
  const queueName = stringOption(args, 'queue-name') ?? DEFAULT_QUEUE_NAME;
  const manifest = stringOption(args, 'manifest');
  if (manifest !== undefined && !existsSync(manifest)) throw new UsageError(`${manifest}: no such manifest`);
  // the tasks are named here and checked to exist; their models are the workers' to open
  const tasks = plannedTasks(args).map((t) => t.task.name);
  const url = stringOption(args, 'registry');
  const location = url === undefined ? null : parseRegistryUrl(url);
  const keyFile = stringOption(args, 'key-file');
  const exclude = [...(location?.engine === 'sqlite' ? [location.path] : []), ...(keyFile === undefined ? [] : [keyFile])];
  const s = await enqueueFolder({
    root,
    queue,
    queueName,
    tasks,
    exclude,
    attempts: intOption(args, 'attempts', 3, 1, 100),
    backoffMs: intOption(args, 'backoff-ms', 5000, 0, 3_600_000),
    ...(manifest === undefined ? {} : { manifest }),
  });
  for (const f of s.unreadable) out.warn(`${escapeForTerminal(f)}: vanished or unreadable before it could be enqueued`);
  out.result(
    { enqueue: s },
    `${s.films} files: ${s.enqueued} enqueued, ${s.alreadyQueued} already queued on ${queueName} at ${queue.where} (${s.seconds.toFixed(1)} s); tasks ${tasks.join(', ')}` +
      (s.excluded > 0 ? `; ${s.excluded} not films (the manifest, the registry's or key's own files)` : ''),
  );
  return 0;
}
