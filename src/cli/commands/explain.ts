/**
 * `physis explain <file> --bundle <dir> -o heat.png`: a Grad-CAM heat map (Selvaraju et al. 2017) of a
 * bone-age prediction, overlaid on the radiograph as the model saw it (preprocessed, letterboxed).
 *
 * @example
 * $ physis explain samples/hand-0.png --bundle /tmp/run128 --sex F -o heat.png
 * samples/hand-0.png: bone age 99.6 months, sex F from cli; heat map heat.png
 */
import { requireSex } from '../../tasks/index.js';
import { disposeBoneAgeModels, openBoneAgeModels } from '../../train/index.js';
import { stringOption, UsageError, type Command } from '../command.js';
import { analyseRadiograph, compositeNote } from './predict.js';

/** The `physis explain` command (see the module comment for an example). */
export const explainCommand: Command = {
  name: 'explain',
  summary: 'Grad-CAM heat map of a prediction, overlaid on the preprocessed radiograph (PNG)',
  usage: [
    'usage: physis explain <file> --bundle <dir> -o heat.png [--sex M|F] [--json]',
    '',
    'Unknown sex (no --sex, no DICOM PatientSex): the map is the mean over both sexes.',
    '--bundle may be a composite folder: the map is the mean of the Grad-CAM maps of the members used',
    '(every fold model of an ensemble; the member of the resolved sex, or both, of a sex-specific pair).',
    '',
    'example:',
    '  $ physis explain samples/hand-0.png --bundle hand-bone-age-bundle --sex F -o heat.png',
  ].join('\n'),
  options: {
    bundle: { type: 'string' },
    out: { type: 'string', short: 'o' },
    sex: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const file = args.positionals[0];
    if (file === undefined || args.positionals.length > 1) throw new UsageError('give exactly one radiograph file');
    const heatmapPath = stringOption(args, 'out', true);
    const rawSex = stringOption(args, 'sex');
    const set = openBoneAgeModels(stringOption(args, 'bundle', true));
    try {
      const a = await analyseRadiograph(set, file, {
        cliSex: rawSex === undefined ? null : requireSex(rawSex, '--sex'),
        heatmapPath,
      });
      if (a.rejected) {
        out.result(a, `${file}: rejected: ${a.rejected.reason}`);
        return 1;
      }
      const age =
        a.boneAgeMonths !== undefined
          ? `bone age ${a.boneAgeMonths.toFixed(1)} months, sex ${a.sex} from ${a.sexSource}`
          : `sex unknown: ${a.boneAgeMonthsBySex?.M.toFixed(1)} months if male, ${a.boneAgeMonthsBySex?.F.toFixed(1)} if female`;
      out.result(a, `${file}: ${age}${compositeNote(a)}; heat map ${heatmapPath}${a.heatmapMethod ? ` (${a.heatmapMethod})` : ''}`);
    } finally {
      disposeBoneAgeModels(set);
    }
    return 0;
  },
};
