/**
 * `physis registry query|export|review --registry <url>`: read a registry, export it as CSV, or record a person's
 * review of a prediction. Thin: everything is src/registry's store; this file parses flags and prints.
 *
 * Why: after an archive is ingested, a team lists what the classifier said (filters by task, class, confidence,
 * review state), works through the review queue (rejected and low-confidence films first), and hands the result on
 * as one CSV row per ingested file — quarantined and duplicate files included, so nothing read goes unaccounted.
 *
 * @example
 * $ physis registry query --registry sqlite:spine.db --task spine-view --confidence-below 0.6
 * 3 of 120 files (stored 117, quarantined 2, duplicate 1)
 * #14 stored archive/0014.dcm  instance #14  spine-view: LAT 0.41 unreviewed
 * ...
 * $ physis registry review --registry sqlite:spine.db --instance 14 --label AP --reviewer dr-lee --note "rotated"
 * instance #14 spine-view: corrected to AP by dr-lee (review #1)
 * $ physis registry export --registry sqlite:spine.db --format csv > spine.csv
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { csvField } from '../../radiograph/index.js';
import {
  DEFAULT_REGISTRY_URL,
  FILE_STATUSES,
  REVIEW_STATES,
  RegistryUnreachableError,
  openRegistry,
  parseRegistryUrl,
  type ExportTable,
  type FileStatus,
  type InstanceFilter,
  type RegistryRow,
  type RegistryStore,
  type ReviewState,
  type ReviewVerdict,
} from '../../registry/index.js';
import { UsageError, intOption, stringOption, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';
import { taskByName } from '../task-args.js';
import { registryTrainingTable } from '../../tasks/index.js';

const ACTIONS = ['query', 'export', 'review'] as const;

/** A number option in [0, 1] (a confidence), or undefined when absent. */
function confidenceOption(args: ParsedArgs, name: string): number | undefined {
  const raw = stringOption(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !(n >= 0 && n <= 1)) throw new UsageError(`--${name} must be a number in [0, 1], got '${raw}'`);
  return n;
}

/** The filters shared by query and export. */
function filterOptions(args: ParsedArgs): InstanceFilter {
  const statusRaw = stringOption(args, 'status');
  const status = statusRaw?.split(',').map((s) => s.trim());
  for (const s of status ?? []) {
    if (!(FILE_STATUSES as readonly string[]).includes(s)) throw new UsageError(`--status takes ${FILE_STATUSES.join(', ')} (comma-separated), got '${s}'`);
  }
  const reviewState = stringOption(args, 'review-state');
  if (reviewState !== undefined && !(REVIEW_STATES as readonly string[]).includes(reviewState)) {
    throw new UsageError(`--review-state takes ${REVIEW_STATES.join(', ')}, got '${reviewState}'`);
  }
  const limit = stringOption(args, 'limit') === undefined ? undefined : intOption(args, 'limit', 0, 1, 10_000_000);
  const offset = stringOption(args, 'offset') === undefined ? undefined : intOption(args, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const filter: Record<string, unknown> = {
    status: status as FileStatus[] | undefined,
    task: stringOption(args, 'task'),
    label: stringOption(args, 'label'),
    confidenceBelow: confidenceOption(args, 'confidence-below'),
    confidenceAbove: confidenceOption(args, 'confidence-above'),
    reviewState: reviewState as ReviewState | undefined,
    pathContains: stringOption(args, 'path'),
    limit,
    offset,
  };
  return Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as InstanceFilter;
}

/**
 * Open the registry the command names. A SQLite file that does not exist is refused rather than created: reading
 * or reviewing an empty new file would only hide a mistyped path.
 */
async function openExisting(args: ParsedArgs, actor: string): Promise<RegistryStore> {
  const url = stringOption(args, 'registry') ?? DEFAULT_REGISTRY_URL;
  const location = parseRegistryUrl(url);
  if (location.engine === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path)) {
    throw new RegistryUnreachableError(`no SQLite registry at ${location.path}`);
  }
  return openRegistry(url, { actor });
}

/** The user running the command, for the audit log (a container may have no passwd entry). */
function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'physis';
  }
}

/** One row as a line: file id, status, path, instance, and the latest result per task. */
function formatRow(row: RegistryRow): string {
  const f = row.file;
  const where =
    f.status === 'quarantined'
      ? `  (${f.quarantineReason ?? ''})`
      : `  instance #${f.instanceId ?? '?'}${f.status === 'duplicate' ? ' (duplicate)' : ''}`;
  const results = row.results.map((r) => {
    const confidence = r.prediction.confidence === null ? '' : ` ${r.prediction.confidence.toFixed(2)}`;
    return `  ${r.prediction.task}: ${r.label ?? '-'}${confidence} ${r.reviewState}`;
  });
  return `#${f.id} ${f.status} ${f.sourcePath}${where}${results.join('')}`;
}

/**
 * A CSV field (RFC 4180): quoted when it holds a comma, quote or line break. A text field that a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'` (OWASP, "CSV Injection"): source paths and labels
 * come from archives, not from the person opening the file.
 */
function exportField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return csvField(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

/** The export table as CSV text with a header line (no final line break: Output adds it). */
function toCsv(table: ExportTable): string {
  const lines = [table.columns.map(exportField).join(',')];
  for (const row of table.rows) lines.push(table.columns.map((c) => exportField(row[c] ?? null)).join(','));
  return lines.join('\n');
}

async function query(store: RegistryStore, args: ParsedArgs, out: Output): Promise<void> {
  const filter = filterOptions(args);
  const [rows, counts] = await Promise.all([store.listInstances(filter), store.countByStatus()]);
  if (args.values['queue'] === true) {
    const queue = await store.reviewQueue({
      ...(filter.task === undefined ? {} : { task: filter.task }),
      ...(filter.confidenceBelow === undefined ? {} : { confidenceBelow: filter.confidenceBelow }),
      ...(filter.limit === undefined ? {} : { limit: filter.limit }),
    });
    const lines = queue.map(
      (q) =>
        `instance #${q.instanceId} ${q.task}: ${q.label ?? '-'} ${q.confidence === null ? 'no confidence' : q.confidence.toFixed(2)} ` +
        `${q.reviewState}${q.gatePassed === false ? ' gate-refused' : ''}  ${q.sourcePath}`,
    );
    out.result({ queue }, [`${queue.length} awaiting review`, ...lines].join('\n'));
    return;
  }
  const header = `${rows.length} of ${counts.total} files (stored ${counts.stored}, quarantined ${counts.quarantined}` +
    `${counts.conflict > 0 ? ` of which ${counts.conflict} SOPInstanceUID conflicts` : ''}, duplicate ${counts.duplicate})`;
  out.result({ counts, rows }, [header, ...rows.map(formatRow)].join('\n'));
}

async function exportCommand(store: RegistryStore, args: ParsedArgs, out: Output): Promise<void> {
  const format = stringOption(args, 'format') ?? 'csv';
  if (format !== 'csv') throw new UsageError(`--format takes csv (--json prints the table as one JSON document), got '${format}'`);
  const forTraining = stringOption(args, 'for-training');
  const full = await store.exportRows(filterOptions(args));
  // with --for-training, the task's labels file: reviewed labels, rejected films left out (and counted on stderr)
  const table = forTraining === undefined ? full : trainingTable(forTraining, full, out);
  // an export is a disclosure: the audit log records who took how many rows (HIPAA 45 CFR 164.528 accounting)
  await store.appendAudit({ action: out.json ? 'export:json' : 'export:csv', tableName: 'files', detail: { rows: table.rows.length, ...(forTraining === undefined ? {} : { forTraining }) } });
  out.result(table, toCsv(table));
}

function trainingTable(taskName: string, full: ExportTable, out: Output): ExportTable {
  const { columns, rows, leftOut } = registryTrainingTable(taskByName(taskName), full);
  const why = Object.entries(leftOut).map(([k, n]) => `${n} ${k}`).join(', ');
  out.warn(`${rows.length} films with ${taskName} labels${why === '' ? '' : `; left out: ${why}`}`);
  return { columns, rows };
}

async function review(store: RegistryStore, args: ParsedArgs, out: Output): Promise<void> {
  const instance = stringOption(args, 'instance', true);
  const instanceId = Number(instance);
  if (!Number.isInteger(instanceId) || instanceId < 1) throw new UsageError(`--instance takes a registry instance id, got '${instance}'`);
  const reviewer = stringOption(args, 'reviewer', true);
  const label = stringOption(args, 'label');
  const chosen: [ReviewVerdict, boolean][] = [
    ['accept', args.values['accept'] === true],
    ['reject', args.values['reject'] === true],
    ['correct', label !== undefined],
  ];
  const verdicts = chosen.filter(([, on]) => on).map(([v]) => v);
  const verdict = verdicts[0];
  if (verdict === undefined || verdicts.length > 1) throw new UsageError('give exactly one of --accept, --reject, --label <class>');
  const task = stringOption(args, 'task');
  const note = stringOption(args, 'note');
  const row = await store.recordReview({
    instanceId,
    verdict,
    reviewer,
    ...(task === undefined ? {} : { task }),
    ...(label === undefined ? {} : { label }),
    ...(note === undefined ? {} : { note }),
  });
  const what = row.verdict === 'correct' ? `corrected to ${row.label ?? ''}` : row.verdict === 'accept' ? 'accepted' : 'rejected';
  out.result({ review: row }, `instance #${row.instanceId} ${row.task}: ${what} by ${row.reviewer} (review #${row.id})`);
}

/** The `physis registry` command. */
export const registryCommand: Command = {
  name: 'registry',
  summary: 'query, export (CSV) or review an imaging registry (SQLite file or PostgreSQL)',
  usage: [
    'usage: physis registry query  [--registry URL] [filters] [--queue] [--json]',
    '       physis registry export [--registry URL] [filters] [--format csv] [--for-training TASK] [--json]',
    '       physis registry review [--registry URL] --instance ID (--accept | --reject | --label CLASS) --reviewer NAME',
    '                              [--task TASK] [--note TEXT] [--json]',
    '',
    `  --registry URL           sqlite:<file> (default ${DEFAULT_REGISTRY_URL}) or postgres://user@host:5432/db[?schema=name]`,
    'filters (query and export):',
    `  --status S[,S]           ${FILE_STATUSES.join(', ')}`,
    '  --task TASK              only files with a result for TASK (the other filters then apply to it)',
    '  --label CLASS            the result\'s class (a reviewer\'s correction counts)',
    '  --confidence-below X     --confidence-above X   confidence in [0, 1]',
    `  --review-state S         ${REVIEW_STATES.join(', ')}`,
    '  --path TEXT              source path contains TEXT (case-insensitive)',
    '  --limit N  --offset N    a page of rows',
    '  --queue                  query: the review queue instead (rejected, then gate-refused, then lowest confidence)',
    '  --for-training TASK      export: TASK\'s labels file for physis train (file, patient_id, the label — a reviewer\'s',
    '                           correction where there is one — and the inputs it needs); rejected films left out',
    '',
    'example:',
    '  $ physis registry query --registry sqlite:spine.db --task spine-view --confidence-below 0.6',
    '  3 of 120 files (stored 117, quarantined 2, duplicate 1)',
    '  #14 stored archive/0014.dcm  instance #14  spine-view: LAT 0.41 unreviewed',
    '  $ physis registry review --registry sqlite:spine.db --instance 14 --label AP --reviewer dr-lee --note rotated',
    '  instance #14 spine-view: corrected to AP by dr-lee (review #1)',
    '  $ physis registry export --registry sqlite:spine.db --format csv > spine.csv',
  ].join('\n'),
  options: {
    registry: { type: 'string', short: 'r' },
    status: { type: 'string' },
    task: { type: 'string' },
    label: { type: 'string' },
    'confidence-below': { type: 'string' },
    'confidence-above': { type: 'string' },
    'review-state': { type: 'string' },
    path: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    queue: { type: 'boolean' },
    format: { type: 'string' },
    'for-training': { type: 'string' },
    instance: { type: 'string' },
    accept: { type: 'boolean' },
    reject: { type: 'boolean' },
    reviewer: { type: 'string' },
    note: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const [action, ...extra] = args.positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action) || extra.length > 0) {
      throw new UsageError(`physis registry takes one of ${ACTIONS.join(', ')}`);
    }
    const reviewer = action === 'review' ? stringOption(args, 'reviewer', true) : currentUser();
    const store = await openExisting(args, reviewer);
    try {
      if (action === 'query') await query(store, args, out);
      else if (action === 'export') await exportCommand(store, args, out);
      else await review(store, args, out);
    } finally {
      await store.close();
    }
    return 0;
  },
};
