/**
 * `physis predict <files… | --manifest list.csv> [--task t] [--bundle dir] [--<input> v] [--heatmap dir]`: the
 * task's answer for each film (a JSON line with `--json`, else one human line), through the one pipeline: the film is
 * read, preprocessed as the bundle's card says, its inputs resolved (never defaulted), checked, answered with an
 * interval, and optionally explained with a Grad-CAM heat map. A film that cannot be read, or that is refused, gets
 * its own line and the batch goes on; the exit status is 0 only when every film got an answer.
 *
 * @example
 * $ physis predict samples/hand-0.png --heatmap out/
 * samples/hand-0.png: bone age 42.7 months [90% 0.0-96.1] if male, 41.2 months [90% 0.0-94.5] if female (sex unknown); heat map out/hand-0.heat.png
 */
import { mkdirSync } from 'node:fs';
import { planOutputPaths } from '../../radiograph/index.js';
import { analyseFilm, closeTaskModels, readManifest } from '../../tasks/index.js';
import { stringOption, UsageError, type Command } from '../command.js';
import { cliInputs, inputOptions, inputUsage, openModelsFromArgs, GATE_OPTIONS, GATE_USAGE, printResult } from '../task-args.js';

/** The `physis predict` command (see the module comment for an example). */
export const predictCommand: Command = {
  name: 'predict',
  summary: 'answer a task for radiographs (bone age with interval and heat map; refusals with the reason)',
  usage: [
    'usage: physis predict <files… | --manifest list.csv> [--task name] [--bundle dir] [--<input> value] [--heatmap dir]',
    '                      [--backend auto|onnx|torch] [--json]',
    '',
    'Without --bundle the task\'s shipped default model is used (--task, default hand-bone-age) and named on stderr.',
    'A manifest is a CSV with a `file` column (relative to the CSV) and optionally one column per task input.',
    inputUsage(),
    GATE_USAGE,
    '--bundle may be a composite folder (composite.json): a fold ensemble (mean of its members) or a routed composite',
    '(one member per value of an input, e.g. per sex; with the value unknown, every member answers for its own value).',
    '--backend auto (default) answers on ONNX Runtime where a bundle ships a graph (`physis bundle add-onnx`), else on',
    'libtorch; every answer names its backend. Heat maps are always computed by libtorch (they need gradients). The gate',
    'follows --backend torch; with --backend onnx it uses its own graph where its bundle ships one, libtorch otherwise.',
    'Exit status 0 when every film got an answer, 1 when any was refused or failed (each has its own line).',
    '',
    'example:',
    '  $ physis predict samples/hand-0.png --sex F --heatmap heat/',
  ].join('\n'),
  options: {
    task: { type: 'string' },
    bundle: { type: 'string' },
    ...GATE_OPTIONS,
    backend: { type: 'string' },
    manifest: { type: 'string' },
    heatmap: { type: 'string' },
    ...inputOptions(),
  },
  allowPositionals: true,
  async run(args, out) {
    const manifest = stringOption(args, 'manifest');
    if (manifest !== undefined && args.positionals.length > 0) throw new UsageError('give radiograph files or --manifest, not both');
    const entries = manifest ? readManifest(manifest) : args.positionals.map((p) => ({ file: p, path: p, columns: {}, source: p }));
    if (entries.length === 0) throw new UsageError('give radiograph files or --manifest');
    const models = await openModelsFromArgs(args, out);
    try {
      const { task } = models;
      const cli = cliInputs(task, args);
      for (const m of models.set.members) for (const w of task.memberWarnings?.(models.states.get(m), m) ?? []) out.warn(w);
      const heatDir = stringOption(args, 'heatmap');
      if (heatDir !== undefined) mkdirSync(heatDir, { recursive: true });
      const heatPaths = heatDir === undefined ? undefined : planOutputPaths(entries.map((e) => e.path), heatDir, '.heat.png');
      const counts = { answered: 0, rejected: 0, failed: 0 };
      for (const [i, e] of entries.entries()) {
        const heatmapPath = heatPaths?.[i];
        const r = await analyseFilm(models, e.path, { given: { cli, manifest: e.columns }, source: e.source, ...(heatmapPath === undefined ? {} : { heatmapPath }) });
        printResult(task, { ...r, file: e.file }, out);
        if (r.answer !== undefined) counts.answered++;
        else if (r.rejected) counts.rejected++;
        else counts.failed++;
      }
      if (entries.length > 1) out.warn(`${entries.length} films: ${counts.answered} answered, ${counts.rejected} rejected, ${counts.failed} failed`);
      return counts.answered === entries.length ? 0 : 1;
    } finally {
      await closeTaskModels(models);
    }
  },
};
