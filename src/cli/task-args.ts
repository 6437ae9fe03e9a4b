/**
 * What predict, explain and evaluate share on the command line: which task and which models (`--task`, `--bundle`,
 * else the task's shipped default model, named in the output), the task's inputs as options (`--sex M`, from the
 * registered tasks' input list, so no command names a task), and the human lines of results.
 */
import { fileURLToPath } from 'node:url';
import { isCompositeDir, loadBundle, loadComposite } from '../infer/index.js';
import { escapeForTerminal } from '../radiograph/index.js';
import { existsSync } from 'node:fs';
import { getTask, listTasks, openTaskModels, readOrCreateKey, suitability, TaskRegistryError, type FilmResult, type IngestFilmOutcome, type Task, type TaskModels } from '../tasks/index.js';
import { stringOption, UsageError, type Command, type ParsedArgs } from './command.js';
import type { Output } from './output.js';

/** The task used when neither `--task` nor `--bundle` says (until the suitability gate routes films). */
export const DEFAULT_TASK = 'hand-bone-age';

/** The repository (package) root, where shipped models live. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The registered task of a name; an unknown name is a usage error (exit 2), listing the tasks.
 * @param name - the name given on the command line or read from a bundle
 */
export function taskByName(name: string): Task {
  try {
    return getTask(name);
  } catch (e) {
    if (e instanceof TaskRegistryError) throw new UsageError(e.message);
    throw e;
  }
}

/** One `--<input>` option per input of any registered task (e.g. `--sex`). */
export function inputOptions(): Command['options'] {
  return Object.fromEntries(listTasks().flatMap((t) => t.inputs.map((i) => [i.name, { type: 'string' as const }])));
}

/** The usage lines describing the inputs options. */
export function inputUsage(): string {
  return listTasks()
    .flatMap((t) => t.inputs.map((i) => `--${i.name}: ${i.description} (${t.name}); else the manifest column '${i.name}', else DICOM`))
    .join('\n');
}

/**
 * The task's inputs given on the command line, parsed strictly.
 * @param task - the task
 * @param args - parsed arguments
 */
export function cliInputs(task: Task, args: ParsedArgs): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const spec of task.inputs) {
    const raw = stringOption(args, spec.name);
    if (raw !== undefined) out[spec.name] = spec.parse(raw, `--${spec.name}`);
  }
  // the command accepts every registered task's inputs; one that is not this task's is a mistake, not ignored
  const own = new Set(task.inputs.map((i) => i.name));
  for (const name of Object.keys(inputOptions())) {
    if (!own.has(name) && args.values[name] !== undefined) {
      throw new UsageError(`--${name} is not an input of ${task.name} (its inputs: ${[...own].join(', ') || 'none'})`);
    }
  }
  return out;
}

/** The options every command that analyses films takes for the suitability gate. */
export const GATE_OPTIONS: Command['options'] = { gate: { type: 'string' }, 'no-gate': { type: 'boolean' } };

/** The usage lines of {@link GATE_OPTIONS}. */
export const GATE_USAGE =
  '--gate DIR: the suitability gate bundle every film passes first (default models/suitability); --no-gate skips it,\n' +
  'and every result then says that the film was not checked.';

/** The shipped suitability gate, relative to the package root. */
export const DEFAULT_GATE = 'models/suitability';

/** The shipped suitability gate's folder. */
export function defaultGateDir(): string {
  return `${PACKAGE_ROOT}${DEFAULT_GATE}`;
}

/**
 * Open the gate a command's films pass (`--gate`, else the shipped one), or none with `--no-gate` (said in every
 * result), or none for a task that needs none (the gate's own).
 * @param args - parsed arguments
 * @param task - the task the films are analysed for
 * @param backend - the runtime of the task's model (`onnx`: the gate uses its graph where it has one)
 */
export async function gateFromArgs(args: ParsedArgs, task: Task, backend: 'auto' | 'onnx' | 'torch'): Promise<{ gate: suitability.Gate | null; gateSkipped?: string }> {
  if (task.accepts === undefined) return { gate: null };
  const given = stringOption(args, 'gate');
  if (args.values['no-gate'] === true) {
    if (given !== undefined) throw new UsageError('give --gate DIR or --no-gate, not both');
    return { gate: null, gateSkipped: `--no-gate: nothing checked that the film is ${task.accepts.describe}` };
  }
  const dir = given ?? defaultGateDir();
  if (given === undefined && !existsSync(dir)) throw new UsageError(`the default suitability gate ${DEFAULT_GATE} is missing; give --gate DIR (or --no-gate)`);
  // --backend names the runtime of the task's model; the gate answers on ONNX Runtime only where its bundle ships a
  // graph (the shipped one does not), and on libtorch otherwise
  return { gate: await suitability.openGate(dir, { backend: backend === 'onnx' ? 'auto' : backend }) };
}

/** The task named by a bundle or composite folder's card. @param dir - the folder */
function taskOfFolder(dir: string): string {
  return isCompositeDir(dir) ? loadComposite(dir).manifest.task : loadBundle(dir).card.task;
}

/**
 * Open the models a command runs: `--bundle` (its task must match `--task` when both are given), else the task's
 * shipped default; says which on stderr.
 * @param args - parsed arguments
 * @param out - the output (for the note naming the default model)
 * @param bundleDir - a positional bundle (evaluate), taking the place of `--bundle`
 */
export async function openModelsFromArgs(args: ParsedArgs, out: Output, bundleDir?: string): Promise<TaskModels> {
  const dir = bundleDir ?? stringOption(args, 'bundle');
  const taskName = stringOption(args, 'task');
  const backend = stringOption(args, 'backend') ?? 'auto';
  if (backend !== 'auto' && backend !== 'onnx' && backend !== 'torch') throw new UsageError(`--backend must be auto, onnx or torch, got '${backend}'`);
  if (dir !== undefined) {
    const task = taskByName(taskName ?? taskOfFolder(dir));
    return openGated(task, dir, args, backend);
  }
  const task = taskByName(taskName ?? DEFAULT_TASK);
  if (task.defaultModel === undefined) throw new UsageError(`${task.name} ships no default model; give --bundle`);
  const models = await openGated(task, `${PACKAGE_ROOT}${task.defaultModel}`, args, backend);
  const m = models.set.members[0]?.bundle.card;
  out.warn(`no --bundle: using the default ${task.name} model ${task.defaultModel} (${m?.id ?? '?'}, weights sha256 ${m?.files.weights.sha256.slice(0, 12) ?? '?'}…)`);
  return models;
}

/** Open a task's models with the gate its films pass; the models own the gate (closeTaskModels closes it). */
async function openGated(task: Task, dir: string, args: ParsedArgs, backend: 'auto' | 'onnx' | 'torch'): Promise<TaskModels> {
  const g = await gateFromArgs(args, task, backend);
  try {
    return openTaskModels(task, dir, { backend, gate: g.gate, ...(g.gateSkipped === undefined ? {} : { gateSkipped: g.gateSkipped }) });
  } catch (e) {
    if (g.gate !== null) await suitability.closeGate(g.gate);
    throw e;
  }
}

/**
 * Print one film's result: the task's line for an answer, `rejected:` with the reason, or `error:` with the name;
 * warnings on their own lines.
 * @param task - the task
 * @param r - the result
 * @param out - the output
 */
export function printResult(task: Task, r: FilmResult, out: Output): void {
  const line = r.answer !== undefined ? task.format(r) : r.rejected ? `${r.file}: rejected: ${r.rejected.reason}` : `${r.file}: error: ${r.error?.name ?? 'Error'}: ${r.error?.message ?? ''}`;
  out.result(r, [escapeForTerminal(line), ...(r.warnings ?? []).map((w) => `  warning: ${escapeForTerminal(w)}`)].join('\n'));
}

/** The package root, where shipped models live (the default gate's folder is there). */
export const packageRoot = (): string => defaultGateDir().slice(0, -DEFAULT_GATE.length);

/** `--bundle task=dir` pairs, each task once. */
export function bundleOptions(args: ParsedArgs): Map<string, string> {
  const raw = args.values['bundle'];
  const given = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out = new Map<string, string>();
  for (const v of given) {
    const m = typeof v === 'string' ? /^([^=]+)=(.+)$/.exec(v) : null;
    if (m === null) throw new UsageError(`--bundle takes task=dir, got '${String(v)}'`);
    const [, name = '', dir = ''] = m;
    const task = taskByName(name.trim()).name;
    if (out.has(task)) throw new UsageError(`--bundle names ${task} twice`);
    out.set(task, dir);
  }
  return out;
}

/**
 * The tasks to run and their model folders: `--tasks` (each needs a shipped default model or a `--bundle`), else every
 * task that ships a default model and every task given a `--bundle`; never the gate's own task.
 */
export function plannedTasks(args: ParsedArgs): { task: Task; dir: string }[] {
  const bundles = bundleOptions(args);
  const named = stringOption(args, 'tasks');
  const tasks = named !== undefined
    ? [...new Set(named.split(',').map((s) => s.trim()).filter((s) => s !== ''))].map(taskByName)
    : listTasks().filter((t) => t.accepts !== undefined && (t.defaultModel !== undefined || bundles.has(t.name)));
  for (const name of bundles.keys()) {
    if (!tasks.some((t) => t.name === name)) throw new UsageError(`--bundle ${name}=… names a task that --tasks leaves out`);
  }
  if (tasks.length === 0) throw new UsageError('no task to run: give --tasks and --bundle task=dir');
  return tasks.map((task) => {
    if (task.accepts === undefined) throw new UsageError(`${task.name} is the suitability gate itself; give it with --gate, not as a task`);
    const dir = bundles.get(task.name) ?? (task.defaultModel === undefined ? undefined : `${packageRoot()}${task.defaultModel}`);
    if (dir === undefined) throw new UsageError(`${task.name} ships no default model; give --bundle ${task.name}=DIR`);
    return { task, dir };
  });
}

/** The de-identification key: `--key-file` (created when absent), else PHYSIS_DEID_KEY. */
export function deidKey(args: ParsedArgs, warn: (line: string) => void): { key: string; file?: string } {
  const file = stringOption(args, 'key-file');
  if (file !== undefined) {
    const k = readOrCreateKey(file);
    if (k.created) warn(`created the de-identification key ${file} (keep it private, and use it for every run into this registry)`);
    return { key: k.key, file };
  }
  const env = process.env['PHYSIS_DEID_KEY'];
  if (env !== undefined && env.trim().length >= 16) return { key: env.trim() };
  throw new UsageError('give --key-file FILE (created when absent) or set PHYSIS_DEID_KEY (16 characters or more): pseudonyms, UIDs and date shifts are keyed');
}

/** A duration for a progress line (`42s`, `3m07s`, `2h05m`); `?` when unknown. @param s - seconds */
export function durationText(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '?';
  const t = Math.round(s);
  return t < 60 ? `${t}s` : t < 3600 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s` : `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}

/** One human line for what ingestion made of a film (`physis ingest` and `physis worker` word it alike). */
export function ingestFilmLine(f: IngestFilmOutcome): string {
  if (f.status === 'quarantined') return `${f.file}: quarantined: ${f.reason ?? ''}`;
  if (f.status === 'duplicate') return `${f.file}: duplicate of instance #${f.instanceId ?? '?'}`;
  if (f.status === 'skipped') return `${f.file}: already ingested (file #${f.fileId ?? '?'})`;
  if (f.status === 'failed') return `${f.file}: not recorded: ${f.reason ?? ''}`;
  const tasks = (f.tasks ?? []).map((t) =>
    t.outcome === 'answered' ? `${t.task}: ${t.label ?? 'answered (no single value: an input is unknown)'}` : `${t.task}: ${t.outcome === 'refused' ? 'refused' : 'error'} (${t.reason ?? ''})`,
  );
  return `${f.file}: stored (instance #${f.instanceId ?? '?'})${tasks.length > 0 ? `; ${tasks.join('; ')}` : ''}`;
}
