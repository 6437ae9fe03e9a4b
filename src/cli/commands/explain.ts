/**
 * `physis explain <file> [--task t] [--bundle dir] -o heat.png`: the task's answer for one film with its Grad-CAM heat
 * map (Selvaraju et al. 2017) overlaid on the radiograph as the model saw it (preprocessed, letterboxed). With an input
 * unknown the map is the mean over its values; for a composite, the mean over the members that answered.
 *
 * @example
 * $ physis explain samples/hand-0.png --sex F -o heat.png
 * samples/hand-0.png: bone age 41.2 months (3.4 y), sex F from cli [90% 0.0-94.5]; heat map heat.png
 */
import { isSameFile } from '../../radiograph/index.js';
import { analyseFilm, closeTaskModels } from '../../tasks/index.js';
import { stringOption, UsageError, type Command } from '../command.js';
import { cliInputs, inputOptions, inputUsage, openModelsFromArgs, GATE_OPTIONS, GATE_USAGE, printResult } from '../task-args.js';

/** The `physis explain` command (see the module comment for an example). */
export const explainCommand: Command = {
  name: 'explain',
  summary: "the task's heat map of a prediction (Grad-CAM, or HiResCAM for hand bone age), laid over the film (PNG)",
  usage: [
    'usage: physis explain <file> [--task name] [--bundle dir] -o heat.png [--<input> value] [--backend auto|onnx|torch] [--json]',
    '',
    inputUsage(),
    GATE_USAGE,
    'With an input unknown the map is the mean over its values; a composite shows the mean of its members\' maps.',
    '',
    'example:',
    '  $ physis explain samples/hand-0.png --sex F -o heat.png',
  ].join('\n'),
  options: {
    task: { type: 'string' },
    bundle: { type: 'string' },
    ...GATE_OPTIONS,
    backend: { type: 'string' },
    out: { type: 'string', short: 'o' },
    ...inputOptions(),
  },
  allowPositionals: true,
  async run(args, out) {
    const file = args.positionals[0];
    if (file === undefined || args.positionals.length > 1) throw new UsageError('give exactly one radiograph file');
    const heatmapPath = stringOption(args, 'out', true);
    if (isSameFile(file, heatmapPath)) throw new UsageError(`-o ${heatmapPath} is the input film itself; choose another output`);
    const models = await openModelsFromArgs(args, out);
    try {
      const r = await analyseFilm(models, file, { given: { cli: cliInputs(models.task, args) }, heatmapPath });
      printResult(models.task, r, out);
      return r.answer !== undefined ? 0 : 1;
    } finally {
      await closeTaskModels(models);
    }
  },
};
