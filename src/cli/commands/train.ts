/**
 * `physis train <task> --data <labels.csv | dir>`: train a registered task's model and write its bundle (every
 * answer-changing file hashed in the card), JSONL log and dev report; `--folds K` runs stratified K-fold
 * cross-validation, `--ensemble` also writes the fold ensemble. The recipe is data: the task's defaults, then
 * `--config recipe.json`, then `--set key.path=value` (and the shorthands below). Thin: the work is in src/tasks and
 * src/train.
 *
 * @example
 * $ physis train hand-bone-age --data ../shared/data/rsna-hand --size 64 --epochs 2 --limit 40 --batch 8 --out /tmp/tiny
 * epoch 1/2: train loss 46.78, devMaeMonths 38.72 (9.6 s)
 * epoch 2/2: train loss 42.14, devMaeMonths 38.53 (3.7 s)
 * bundle /tmp/tiny: best devMaeMonths 38.53 (epoch 2 of 2), report /tmp/tiny/report/report.html
 */
import {
  applyRecipe,
  distributedEnv,
  formatProgress,
  launchWorkers,
  NO_AUGMENTATION_KEYS,
  recipeDiff,
  threadsPerWorker,
  visibleGpus,
  type DistributedEnv,
  type ProgressEvent,
  type TrainRecipe,
} from '../../train/index.js';
import { cudaDeviceCount, initProcessGroup, type DistributedBackend, type ProcessGroup } from '../../torch/index.js';
import { listTasks, trainTask } from '../../tasks/index.js';
import { intOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js';
import type { Output } from '../output.js';
import { taskByName } from '../task-args.js';

/** Shorthand options and the recipe keys they set. */
export const TRAIN_SHORTHANDS: Readonly<Record<string, string>> = {
  arch: 'arch',
  size: 'inputSize',
  epochs: 'epochs',
  batch: 'batchSize',
  lr: 'optimizer.lr',
  'weight-decay': 'optimizer.weightDecay',
  patience: 'earlyStopping.patience',
  seed: 'seed',
};

/** Options of the launcher and the rendezvous: where and how many processes, not what they compute. */
const LAUNCH_OPTIONS = new Set(['nproc-per-node', 'nnodes', 'node-rank', 'master-addr', 'dist-timeout', 'dist-backend']);

/**
 * The command line that reproduces a run: the given options minus those that change how, not what, it computes
 * (--resume continues the same run; --force, --json only change what is allowed or printed; the rendezvous options).
 * A data-parallel worker adds its process counts (batch norm sees each rank's batch, so they change the result).
 */
function reproduceCommand(task: string, args: ParsedArgs, dist: DistributedEnv | null): string {
  const parts = ['physis', 'train', task];
  for (const [name, value] of Object.entries(args.values)) {
    if (name === 'resume' || name === 'force' || name === 'json' || LAUNCH_OPTIONS.has(name) || value === undefined || value === false) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) parts.push(v === true ? `--${name}` : `--${name} ${String(v)}`);
  }
  if (dist !== null && dist.worldSize > 1) {
    parts.push(`--nproc-per-node ${dist.localWorldSize}`);
    if (dist.worldSize !== dist.localWorldSize) parts.push(`--nnodes ${dist.worldSize / dist.localWorldSize}`);
  }
  return parts.join(' ');
}

/** The arguments a worker runs with: this command's, less the launcher's own options. */
function workerArgv(task: string, args: ParsedArgs): string[] {
  const argv = ['train', task];
  for (const [name, value] of Object.entries(args.values)) {
    if (LAUNCH_OPTIONS.has(name) || value === undefined || value === false) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === true) argv.push(`--${name}`);
      else argv.push(`--${name}`, String(v));
    }
  }
  return argv;
}

function parseMasterAddr(v: string): { addr: string; port: number } {
  const colon = v.lastIndexOf(':');
  const port = Number(v.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--master-addr ${v}: expected host:port (e.g. 10.0.0.1:29500)`);
  return { addr: v.slice(0, colon), port };
}

/** An Output that prints nothing: ranks other than 0 of a data-parallel run stay quiet (their errors still throw). */
const QUIET: Output = { json: false, result: () => undefined, info: () => undefined, warn: () => undefined, progress: () => undefined };

/** Progress lines at most every `everyMs`, and always at the end of an epoch. */
function progressPrinter(out: Output, everyMs = 2000): (e: ProgressEvent) => void {
  let last = 0;
  return (e) => {
    const now = Date.now();
    if (now - last >= everyMs || e.step === e.stepsPerEpoch) {
      last = now;
      out.progress(formatProgress(e));
    }
  };
}

function parseSubset(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new UsageError(`--subset ${v}: expected name=value (e.g. sex=M)`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The options of every task's own training step (e.g. a manifest to pair), declared once for the parser. */
function taskTrainOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries(listTasks().flatMap((t) => Object.keys(t.trainOptions ?? {}).map((k) => [k, { type: 'string' as const }])));
}

/** Usage lines of the tasks' own training options. */
function taskTrainUsage(): string[] {
  return listTasks().flatMap((t) =>
    Object.keys(t.trainOptions ?? {}).length === 0 ? [] : [`${t.name} also takes:`, ...Object.entries(t.trainOptions ?? {}).map(([k, v]) => `  --${k}: ${v}`)],
  );
}

/** The `physis train` command (see the module comment for an example). */
export const trainCommand: Command = {
  name: 'train',
  summary: 'train a model for a task on a labelled folder (bundle, JSONL log, dev report)',
  usage: [
    'usage: physis train <task> --data <labels.csv | dir> [--out dir] [--recipe name] [--config recipe.json] [--set key=value]…',
    '                    [--arch name] [--size N] [--epochs N] [--batch N] [--lr X] [--weight-decay X] [--patience N] [--seed N]',
    '                    [--folds K [--ensemble]] [--subset input=value] [--workers N] [--threads N] [--device cpu|cuda]',
    '                    [--augment-on batch|loader]',
    '                    [--limit N] [--resume] [--force] [--no-augment] [--init bundle|file.safetensors] [--freeze-epochs N]',
    '                    [--weights-dtype float32|float16] [--json]',
    '                    [--nproc-per-node N [--nnodes M --node-rank R --master-addr host:port] [--dist-timeout S] [--dist-backend gloo|nccl]]',
    '',
    `tasks: ${listTasks().map((t) => t.name).join(', ')}`,
    'Rows of split train and dev are used; rows of any other split (test, holdout…) are excluded and named. Only a file',
    'with no split column at all gets a seeded stratified 80/20 split, and says so.',
    'The recipe is the task\'s default (or --recipe <name>, one the task offers), then --config (JSON), then --set',
    'key.path=value (e.g. --set optimizer.lr=5e-4);',
    '--arch --size --epochs --batch --lr --weight-decay --patience --seed are shorthands for --set.',
    '--out is locked while a run writes it; a finished bundle there is refused unless --force; --resume needs its checkpoint.',
    '--subset sex=M trains on one value of an input (the card records it); pair such bundles with `physis bundle compose`.',
    '--folds K --ensemble writes <out>/fold-1..K and <out>/composite.json (usable as --bundle).',
    '--weights-dtype float16 ships half-size weights; the card\'s metrics are measured with the rounded weights.',
    '--augment-on batch (default) augments each whole batch in the engine, on the training device; loader augments film',
    'by film in the loader workers. Same parameters, same images to float32 rounding; a recipe with a crop uses the loader.',
    '--nproc-per-node N trains data-parallel in N worker processes (torchrun-style; workers read RANK, WORLD_SIZE,',
    'MASTER_ADDR, MASTER_PORT): --batch is the global batch, each rank loads batch/N of its shard, gradients are averaged',
    'every step (c10d Gloo; NCCL with --device cuda, each rank on a GPU of its own: CUDA_VISIBLE_DEVICES is set per rank),',
    'batch norm uses each rank\'s own batch; rank 0 alone writes. A failed rank stops the others',
    '(at once if it died, after --dist-timeout seconds, default 1800, if it stalled); the launcher names it and exits 1.',
    ...taskTrainUsage(),
    '',
    'example:',
    '  $ physis train hand-bone-age --data ../shared/data/rsna-hand --size 64 --epochs 2 --limit 40 --out /tmp/tiny',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    out: { type: 'string', short: 'o' },
    config: { type: 'string' },
    recipe: { type: 'string' },
    set: { type: 'string', multiple: true },
    arch: { type: 'string' },
    size: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
    folds: { type: 'string' },
    workers: { type: 'string' },
    'augment-on': { type: 'string' },
    threads: { type: 'string' },
    device: { type: 'string' },
    limit: { type: 'string' },
    resume: { type: 'boolean' },
    force: { type: 'boolean' },
    'no-augment': { type: 'boolean' },
    init: { type: 'string' },
    'weights-dtype': { type: 'string' },
    'freeze-epochs': { type: 'string' },
    subset: { type: 'string', multiple: true },
    ensemble: { type: 'boolean' },
    'nproc-per-node': { type: 'string' },
    nnodes: { type: 'string' },
    'node-rank': { type: 'string' },
    'master-addr': { type: 'string' },
    'dist-timeout': { type: 'string' },
    'dist-backend': { type: 'string' },
    ...taskTrainOptions(),
  },
  allowPositionals: true,
  async run(args, stdOut) {
    const name = args.positionals[0];
    if (name === undefined || args.positionals.length > 1) throw new UsageError(`name one task: ${listTasks().map((t) => t.name).join(', ')}`);
    const task = taskByName(name);
    const dist = distributedEnv();
    const nproc = stringOption(args, 'nproc-per-node');
    if (nproc !== undefined && intOption(args, 'folds', 1, 1, 20) > 1) {
      throw new UsageError('--folds: cross-validation is not distributed; train one split with --nproc-per-node');
    }
    if (nproc !== undefined && dist === null) {
      // the launcher: this process only starts the workers (each runs this command with its rank) and waits
      const master = stringOption(args, 'master-addr');
      const m = master === undefined ? undefined : parseMasterAddr(master);
      const here = import.meta.url;
      const onGpus = stringOption(args, 'device') === 'cuda';
      await launchWorkers({
        ...(onGpus ? { gpuPerRank: visibleGpus(process.env, cudaDeviceCount()) } : {}),
        nprocPerNode: intOption(args, 'nproc-per-node', 1, 1, 256),
        nnodes: intOption(args, 'nnodes', 1, 1, 4096),
        nodeRank: intOption(args, 'node-rank', 0, 0, 4095),
        ...(m === undefined ? {} : { masterAddr: m.addr, masterPort: m.port }),
        entry: { moduleUrl: new URL(here.endsWith('.ts') ? '../main.ts' : '../main.js', here).href, argv: workerArgv(name, args) },
        onNote: (line) => stdOut.warn(line),
      });
      return 0;
    }
    const out = dist === null || dist.rank === 0 ? stdOut : QUIET;
    const sets = [...((args.values['set'] as string[] | undefined) ?? [])];
    for (const [option, key] of Object.entries(TRAIN_SHORTHANDS)) {
      const v = stringOption(args, option);
      if (v !== undefined) sets.push(`${key}=${v}`);
    }
    if (args.values['no-augment'] === true) sets.push(...NO_AUGMENTATION_KEYS);
    const config = stringOption(args, 'config');
    const recipeName = stringOption(args, 'recipe');
    const named = task.namedRecipes ?? {};
    const chosen = recipeName === undefined ? undefined : named[recipeName];
    if (recipeName !== undefined && chosen === undefined) {
      const names = Object.keys(named);
      throw new UsageError(`${task.name} has no recipe '${recipeName}'; ${names.length > 0 ? `its named recipes: ${names.join(', ')}` : 'it has only its default recipe'}`);
    }
    const base: TrainRecipe = chosen?.recipe ?? task.recipe;
    const recipe: TrainRecipe = applyRecipe(base, { ...(config === undefined ? {} : { file: config }), set: sets });
    const folds = intOption(args, 'folds', 1, 1, 20);
    if (dist !== null && folds > 1) throw new UsageError('--folds: cross-validation is not distributed; train one split with --nproc-per-node');
    const ensemble = args.values['ensemble'] === true;
    if (ensemble && folds < 2) throw new UsageError('--ensemble combines fold models: give --folds K (K >= 2)');
    const threadsRaw = stringOption(args, 'threads');
    const dtype = stringOption(args, 'weights-dtype') ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float16') throw new UsageError(`--weights-dtype must be float32 or float16, got '${dtype}'`);
    const device = stringOption(args, 'device') ?? 'cpu';
    if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be cpu or cuda, got '${device}'`);
    const init = stringOption(args, 'init');
    if (chosen?.continues !== undefined && init === undefined) {
      throw new UsageError(`recipe ${recipeName} goes on from a trained model of recipe ${chosen.continues}: give --init <its bundle>`);
    }
    const outDir = stringOption(args, 'out') ?? `${name}-bundle`;
    const changed = recipeDiff(base, recipe);
    const baseName = recipeName === undefined ? `${task.name} defaults` : `${task.name} recipe ${recipeName}`;
    if (changed.length > 0) out.info(`recipe: ${baseName} with ${changed.join(', ')}`);
    else if (recipeName !== undefined) out.info(`recipe: ${baseName}`);
    // the task's own training step (e.g. pairing and teacher labels) makes the labels file that --data would give
    const own = Object.keys(task.trainOptions ?? {});
    for (const k of Object.keys(taskTrainOptions())) {
      if (!own.includes(k) && stringOption(args, k) !== undefined) throw new UsageError(`${task.name} takes no --${k}`);
    }
    const given = Object.fromEntries(own.flatMap((k) => {
      const v = stringOption(args, k);
      return v === undefined ? [] : [[k, v]];
    }));
    let data = stringOption(args, 'data');
    let dataNote: string | undefined;
    if (Object.keys(given).length > 0 && task.prepareTraining !== undefined) {
      if (data !== undefined) throw new UsageError(`give --data or ${own.map((k) => `--${k}`).join('/')}, not both`);
      const prepared = await task.prepareTraining(given, { outDir, force: args.values['force'] === true, resume: args.values['resume'] === true, onNote: (line) => out.warn(line) });
      data = prepared.data;
      dataNote = prepared.summary;
    }
    if (data === undefined) throw new UsageError(`missing --data${task.prepareTraining === undefined ? '' : ` (or ${own.map((k) => `--${k}`).join(', ')})`}`);
    let group: ProcessGroup | undefined;
    if (dist !== null) {
      const backend = stringOption(args, 'dist-backend') ?? (device === 'cuda' ? 'nccl' : 'gloo');
      if (backend !== 'gloo' && backend !== 'nccl') throw new UsageError(`--dist-backend must be gloo or nccl, got '${backend}'`);
      group = await initProcessGroup({
        rank: dist.rank,
        worldSize: dist.worldSize,
        masterAddr: dist.masterAddr,
        masterPort: dist.masterPort,
        backend: backend as DistributedBackend,
        timeoutMs: intOption(args, 'dist-timeout', 1800, 1, 86_400) * 1000,
      });
    }
    const workers = intOption(args, 'workers', 1, 0, 64);
    const augmentOn = stringOption(args, 'augment-on') ?? 'batch';
    if (augmentOn !== 'batch' && augmentOn !== 'loader') throw new UsageError(`--augment-on must be batch or loader, got '${augmentOn}'`);
    let r;
    try {
    r = await trainTask(task, {
      data,
      ...(dataNote === undefined ? {} : { dataNote }),
      outDir,
      recipe,
      subset: parseSubset((args.values['subset'] as string[] | undefined) ?? []),
      folds,
      ensemble,
      limit: intOption(args, 'limit', 0, 0, 10_000_000),
      workers,
      augmentOn,
      ...(threadsRaw !== undefined
        ? { threads: intOption(args, 'threads', 1, 1, 256) }
        : dist !== null
          ? { threads: threadsPerWorker(dist.localWorldSize, workers) }
          : {}),
      device,
      resume: args.values['resume'] === true,
      force: args.values['force'] === true,
      ...(init === undefined ? {} : { init }),
      freezeBackboneEpochs: intOption(args, 'freeze-epochs', 0, 0, 10000),
      weightsDType: dtype,
      command: reproduceCommand(name, args, dist),
      ...(group === undefined ? {} : { distributed: { group } }),
      onProgress: progressPrinter(out),
      onNote: (line) => out.warn(line),
      onEpoch: (e) =>
        out.info(
          `epoch ${e.epoch + 1}/${recipe.epochs}: train loss ${e.trainLoss.toFixed(2)}, ` +
            `${Object.entries(e.dev).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} (${e.seconds.toFixed(1)} s)`,
        ),
    });
    } finally {
      group?.destroy();
    }
    if (r.kind === 'worker') return 0;
    if (r.kind === 'single') {
      const res = r.result;
      const sel = task.selection.metric;
      out.result(
        {
          bundle: res.bundle.dir,
          bestEpoch: res.bestEpoch,
          dev: res.evaluation.metrics,
          epochsRun: res.epochsRun,
          stoppedEarly: res.stoppedEarly,
          seconds: res.seconds,
          ...(res.init ? { initLoaded: res.init.loaded.length, initSkipped: res.init.skipped } : {}),
          ...(res.averaged ? { averaged: res.averaged } : {}),
          report: res.reportHtml,
        },
        res.averaged === undefined
          ? `bundle ${res.bundle.dir}: best ${sel} ${res.evaluation.metrics[sel]?.toFixed(2)} (epoch ${res.bestEpoch + 1}; ${res.epochsRun} epochs run), report ${res.reportHtml}`
          : `bundle ${res.bundle.dir}: ${sel} ${res.evaluation.metrics[sel]?.toFixed(2)} with the mean of ${res.averaged.snapshots} snapshots ` +
              `(epochs ${res.averaged.fromEpoch}–${res.averaged.toEpoch}; ${res.epochsRun} epochs run), report ${res.reportHtml}`,
      );
      return 0;
    }
    const cv = r.result;
    const sel = task.selection.metric;
    const agg = cv.aggregate[sel];
    out.result(
      { folds, aggregate: cv.aggregate, report: cv.reportHtml, json: cv.reportJson, ...(cv.composite ? { composite: cv.composite.dir } : {}) },
      `${folds}-fold CV: ${sel} ${agg?.mean.toFixed(2)} ± ${agg?.sd.toFixed(2)}; report ${cv.reportHtml}` +
        (cv.composite ? `; ensemble ${cv.composite.dir} (use it as --bundle)` : ''),
    );
    return 0;
  },
};
