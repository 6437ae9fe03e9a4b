/**
 * `physis queue status|retry --queue redis://…`: the ingestion queue's counts and its failed jobs, one line each with
 * the job id, the file's name (never its folders, which may name a patient) and the reason; `retry` puts the failed
 * jobs back once what failed them (the registry, a mount) is fixed. Thin: the work is src/jobs/ingest-queue.ts.
 *
 * @example
 * $ physis queue status --queue redis://127.0.0.1:6379
 * physis-ingest at 127.0.0.1:6379/0: 120 waiting, 2 active, 0 delayed, 878 completed, 1 failed
 * failed film-3f2a…: 0417.png after 3 tries: RegistryUnreachableError: cannot reach PostgreSQL registry at db:5432/registry (ECONNREFUSED)
 */
import { escapeForTerminal } from '../../radiograph/index.js';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, queueStatus, retryFailedJobs } from '../../jobs/index.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';

const ACTIONS = ['status', 'retry'] as const;

/** The `physis queue` command (see the module comment for an example). */
export const queueCommand: Command = {
  name: 'queue',
  summary: "the ingestion work queue: counts and failed jobs' reasons (status), failed jobs back to the queue (retry)",
  usage: [
    'usage: physis queue status --queue redis://host:6379[/db] [--queue-name physis-ingest] [--limit 20] [--json]',
    '       physis queue retry --queue redis://host:6379[/db] [--queue-name physis-ingest]',
    '',
    'status: waiting, active, delayed (waiting out a retry), completed and failed jobs, then the most recent failed jobs',
    'with their reasons (--limit of them; 0 for counts only). A bad film is not a failed job: it is quarantined in the',
    'registry with its reason. retry: every failed job back to the wait list with its tries anew.',
    '',
    'example:',
    '  $ physis queue status --queue redis://127.0.0.1:6379',
  ].join('\n'),
  options: { queue: { type: 'string' }, 'queue-name': { type: 'string' }, limit: { type: 'string' } },
  allowPositionals: true,
  async run(args, out) {
    const [action, ...extra] = args.positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action) || extra.length > 0) throw new UsageError(`physis queue takes one of ${ACTIONS.join(', ')}`);
    const at = parseQueueUrl(stringOption(args, 'queue', true));
    const name = stringOption(args, 'queue-name') ?? DEFAULT_QUEUE_NAME;
    if (action === 'retry') {
      const n = await retryFailedJobs(at, name);
      out.result({ retried: n }, `${n} failed jobs of ${name} at ${at.where} back in the queue`);
      return 0;
    }
    const s = await queueStatus(at, name, { failedLimit: intOption(args, 'limit', 20, 0, 100_000) });
    const c = s.counts;
    out.result({ status: s }, `${s.name} at ${s.where}: ${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed`);
    if (!out.json) {
      for (const f of s.failed) out.info(escapeForTerminal(`failed ${f.id}: ${f.file} after ${f.attemptsMade} ${f.attemptsMade === 1 ? 'try' : 'tries'}: ${f.reason}`));
      if (c.failed > s.failed.length) out.info(`… and ${c.failed - s.failed.length} more failed jobs (--limit)`);
    }
    return 0;
  },
};
