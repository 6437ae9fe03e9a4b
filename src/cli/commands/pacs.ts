/**
 * `physis pacs watch --url <dicomweb>`: the PACS round trip. Each poll finds new radiographs by QIDO-RS (PS3.18 10.6),
 * retrieves each by WADO-RS, ingests it into the registry like `physis ingest` (gate first, every task that accepts
 * it, de-identified, once), and stores per task a Structured Report (the answer, or why there is none) and, for an
 * answer, a Secondary Capture with the heat map and the answer burned in, into the film's own study by STOW-RS.
 * A film counts as handled once its results are stored (recorded in the registry), so a killed or failed run is
 * resumed by running it again. Thin: the work is src/pacs (pollOnce, pacsRoundTrip).
 *
 * Lines name films by their number in the poll and say the tasks' outcomes: never a patient attribute or a UID.
 *
 * @example
 * $ physis pacs watch --url http://pacs.local/dicom-web --modality DX --since 20240601 --once --key-file deid.key
 * film 1: 2 objects stored; hand-bone-age answered: bone age 15.4 months (1.3 y), sex F from dicom [90% 3.7-27.1], …
 * film 2: 1 object stored; hand-bone-age refused: probably not a radiograph of a body part the gate knows (p = 0.76), …
 * poll 1: 2 found, 0 already handled or not radiographs, 2 analysed, 2 stored (3 objects), 0 failed in 4.1 s
 */
import { existsSync } from 'node:fs';
import { DicomWebClient, pacsRoundTrip, pollOnce, RADIOGRAPH_SOP_CLASS_UIDS, type DicomWebAuth, type FilmAnalysis, type PollEvent, type PollSummary } from '../../pacs/index.js';
import { escapeForTerminal } from '../../radiograph/index.js';
import { DEFAULT_REGISTRY_URL, openRegistry } from '../../registry/index.js';
import { closeIngestModels, openIngestModels } from '../../tasks/index.js';
import { intOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';
import { deidKey, defaultGateDir, plannedTasks } from '../task-args.js';

/** A DICOM UID anywhere in a message (a failure's URL names the study): replaced, so lines carry no identifier. */
const UID_IN_TEXT = /\b\d+(?:\.\d+){3,}\b/g;

/** A poll's counts over every modality. */
interface PollTotals {
  found: number;
  skipped: number;
  analysed: number;
  stored: number;
  failed: number;
  storedObjects: number;
}

/** The Modality values to poll, each a DICOM CS (PS3.5 6.2: upper case, digits, space, underscore; 16 at most). */
function modalitiesOf(args: ParsedArgs): string[] {
  const list = (stringOption(args, 'modality') ?? 'DX,CR').split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('--modality needs at least one value, e.g. DX,CR');
  for (const m of list) if (!/^[A-Z0-9_ ]{1,16}$/.test(m)) throw new UsageError(`--modality: '${m}' is not a DICOM Modality value`);
  return [...new Set(list)];
}

/** `--user u:p` or `--bearer-token T`, not both. */
function authOf(args: ParsedArgs): DicomWebAuth | undefined {
  const user = stringOption(args, 'user');
  const token = stringOption(args, 'bearer-token');
  if (user !== undefined && token !== undefined) throw new UsageError('give --user or --bearer-token, not both');
  if (token !== undefined) return { bearerToken: token };
  if (user === undefined) return undefined;
  const at = user.indexOf(':');
  if (at <= 0) throw new UsageError('--user takes name:password');
  return { username: user.slice(0, at), password: user.slice(at + 1) };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One film's line: what was stored and each task's outcome. */
function filmLine(n: number, film: FilmAnalysis | undefined, event: PollEvent): string {
  const tasks = (film?.tasks ?? []).map((t) => `${t.task} ${t.outcome}: ${t.text}`);
  const head =
    event.kind === 'failed'
      ? `film ${n}: failed at ${event.stage}: ${event.message.replace(UID_IN_TEXT, '<uid>')}`
      : `film ${n}: ${plural(event.kind === 'stored' ? event.objects : 0, 'object')} stored`;
  const quarantine = film?.status === 'quarantined' && tasks.length === 0 ? [`quarantined: ${film.reason ?? ''}`] : [];
  return escapeForTerminal([head, ...quarantine, ...tasks].join('; '));
}

/** Sleep for `ms`, or until the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) {
      done();
      return;
    }
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    };
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** The `physis pacs` command (see the module comment for an example). */
export const pacsCommand: Command = {
  name: 'pacs',
  summary: 'watch a PACS over DICOMweb: analyse new radiographs and store SR and heat-map pictures into their studies',
  usage: [
    'usage: physis pacs watch --url DICOMWEB [--modality DX,CR] [--body-part HAND] [--since YYYYMMDD] [--interval 60]',
    '                         [--once] [--registry URL] [--key-file FILE] [--tasks a,b] [--bundle task=dir …] [--gate dir]',
    '                         [--user name:password | --bearer-token T] [--json]',
    '',
    '--url: the DICOMweb service root (QIDO-RS, WADO-RS and STOW-RS under it), e.g. http://pacs.local/dicom-web.',
    'Each poll searches instances of each --modality (default DX,CR), of --body-part (BodyPartExamined) and of studies',
    'from --since on, Computed Radiography and Digital X-Ray For Presentation only (so never its own results); retrieves',
    'every one not yet handled and ingests it into --registry (default ' + DEFAULT_REGISTRY_URL + ') as `physis ingest`',
    'does: gate, every task (--tasks, default every task with a shipped model; --bundle task=dir), de-identified under',
    'the key of --key-file or PHYSIS_DEID_KEY (the registry keeps pacs:<remapped SOPInstanceUID>, never the UID).',
    'Into the film\'s study, a new series each, it stores per task a DICOM SR (TID 1500: the answer, or why there is',
    'none) and, for an answer, a Secondary Capture with the heat map and the answer burned in.',
    'A film is handled once its results are stored (recorded in the registry); a film that failed (retrieve, analysis,',
    'store) is tried again by the next poll, so a stopped watch is resumed by running it again.',
    '--once: poll once and exit (status 0 when no film failed, 1 otherwise); else poll every --interval seconds',
    '(default 60) until SIGINT or SIGTERM, finishing the film in hand.',
    'One line per film analysed (its number in the poll, what was stored, each task\'s outcome; no patient attribute',
    'or UID), and a summary per poll.',
    '',
    'example:',
    '  $ physis pacs watch --url http://127.0.0.1:8042/dicom-web --modality DX --body-part HAND --since 20240601 \\',
    '      --registry sqlite:registry.db --key-file deid.key --once',
    '  film 1: 2 objects stored; hand-bone-age answered: bone age 15.4 months (1.3 y), sex F from dicom [90% 3.7-27.1], …',
    '  poll 1: 1 found, 0 already handled or not radiographs, 1 analysed, 1 stored (2 objects), 0 failed in 3.2 s',
  ].join('\n'),
  options: {
    url: { type: 'string' },
    modality: { type: 'string' },
    'body-part': { type: 'string' },
    since: { type: 'string' },
    interval: { type: 'string' },
    once: { type: 'boolean' },
    registry: { type: 'string' },
    'key-file': { type: 'string' },
    tasks: { type: 'string' },
    bundle: { type: 'string', multiple: true },
    gate: { type: 'string' },
    user: { type: 'string' },
    'bearer-token': { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const [sub, ...more] = args.positionals;
    if (sub !== 'watch' || more.length > 0) throw new UsageError('physis pacs has one sub-command: physis pacs watch --url DICOMWEB');
    const url = stringOption(args, 'url', true);
    if (!/^https?:\/\//.test(url)) throw new UsageError(`--url must be an http(s) DICOMweb root, got '${url}'`);
    const modalities = modalitiesOf(args);
    const bodyPart = stringOption(args, 'body-part')?.trim().toUpperCase();
    if (bodyPart !== undefined && !/^[A-Z0-9_ ]{1,16}$/.test(bodyPart)) throw new UsageError(`--body-part: '${bodyPart}' is not a BodyPartExamined value`);
    const since = stringOption(args, 'since');
    if (since !== undefined && !/^\d{8}$/.test(since)) throw new UsageError(`--since takes YYYYMMDD, got '${since}'`);
    const intervalS = intOption(args, 'interval', 60, 1, 86_400);
    const once = args.values['once'] === true;
    const auth = authOf(args);
    const gateDir = stringOption(args, 'gate') ?? defaultGateDir();
    if (!existsSync(gateDir)) throw new UsageError(`no suitability gate at ${gateDir}; give --gate DIR`);
    const tasks = plannedTasks(args);
    const { key } = deidKey(args, (l) => out.warn(l));
    const client = new DicomWebClient({ baseUrl: url, ...(auth === undefined ? {} : { auth }) });

    const stop = new AbortController();
    const onSignal = (): void => {
      if (!stop.signal.aborted) out.warn('physis pacs watch: stopping after the film in hand');
      stop.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const models = await openIngestModels({ gateDir, tasks });
    try {
      const store = await openRegistry(stringOption(args, 'registry') ?? DEFAULT_REGISTRY_URL, { actor: 'physis pacs watch' });
      try {
        const analysedFilms = new Map<string, FilmAnalysis>();
        const trip = pacsRoundTrip({ store, models, key, onAnalysed: (ref, film) => analysedFilms.set(ref.sopInstanceUid, film) });
        for (let poll = 1; ; poll++) {
          const totals = await pollEveryModality(poll, out);
          if (totals !== null) {
            out.result(
              { poll, ...totals },
              `poll ${poll}: ${totals.found} found, ${totals.skipped} already handled or not radiographs, ${totals.analysed} analysed, ` +
                `${totals.stored} stored (${plural(totals.storedObjects, 'object')}), ${totals.failed} failed in ${totals.seconds.toFixed(1)} s`,
            );
          }
          if (once) return totals !== null && totals.failed === 0 ? 0 : 1;
          await sleep(intervalS * 1000, stop.signal);
          if (stop.signal.aborted) return 0;
        }

        /** One poll over each modality; null when a search failed and this is not a --once run (it says why). */
        async function pollEveryModality(poll: number, o: Output): Promise<(PollTotals & { seconds: number }) | null> {
          const started = performance.now();
          const totals: PollTotals = { found: 0, skipped: 0, analysed: 0, stored: 0, failed: 0, storedObjects: 0 };
          let n = 0;
          for (const modality of modalities) {
            if (stop.signal.aborted) break;
            let s: PollSummary;
            try {
              s = await pollOnce({
                client,
                filter: {
                  modality,
                  ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
                  ...(since === undefined ? {} : { studyDate: { fromDate: since } }),
                  sopClassUids: RADIOGRAPH_SOP_CLASS_UIDS,
                },
                ...trip,
                signal: stop.signal,
                onProgress: (e) => {
                  if (e.kind !== 'stored' && e.kind !== 'failed') return;
                  n++;
                  const film = analysedFilms.get(e.ref.sopInstanceUid);
                  analysedFilms.delete(e.ref.sopInstanceUid);
                  const tasksOf = (film?.tasks ?? []).map((t) => ({ task: t.task, outcome: t.outcome, text: t.text }));
                  o.result(
                    { poll, film: n, status: e.kind, ...(e.kind === 'failed' ? { stage: e.stage, message: e.message.replace(UID_IN_TEXT, '<uid>') } : { objects: e.objects }), tasks: tasksOf },
                    filmLine(n, film, e),
                  );
                },
              });
            } catch (e) {
              // the search itself failed (the PACS is down, the credentials are wrong): nothing to go on with this poll
              if (once) throw e;
              o.warn(`poll ${poll}: ${(e instanceof Error ? `${e.name}: ${e.message}` : String(e)).replace(UID_IN_TEXT, '<uid>')}; trying again in ${intervalS} s`);
              return null;
            }
            totals.found += s.found;
            totals.skipped += s.skipped;
            totals.analysed += s.analysed;
            totals.stored += s.stored;
            totals.failed += s.failed;
            totals.storedObjects += s.storedObjects;
          }
          return { ...totals, seconds: (performance.now() - started) / 1000 };
        }
      } finally {
        await store.close();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await closeIngestModels(models);
    }
  },
};
