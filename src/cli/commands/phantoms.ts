/**
 * `physis phantoms skull-infant-age --out DIR`: write a seeded cohort of procedural infant skull radiograph phantoms
 * (AP and lateral, 0–12 months, DICOM or PNG) with their suture and fontanelle masks and a labels.csv that
 * `physis train skull-infant-age --data DIR` reads. `physis phantoms knee-bone-age --out DIR`: pair every real hand
 * of an RSNA hands folder with phantom AP knee films (a semi-synthetic paired cohort with manifest.csv). Thin: the
 * generators are in src/tasks/skull-infant-age/phantom and src/tasks/knee-bone-age/phantom. `physis phantoms spine-view
 * --out DIR`: real AASCE pre-operative AP spine films with simulated post-operative versions (fusion, growing rods;
 * src/tasks/spine-view/postop).
 *
 * Why a command: no public infant skull radiographs and no public paediatric knee films with bone age exist; a
 * research group validates the pipeline on a cohort whose anatomy and masks are known before it trains on its own
 * archive.
 *
 * @example
 * $ physis phantoms skull-infant-age --out /tmp/skulls --infants 40 --size 128
 * /tmp/skulls: 160 phantom films of 40 infants (dicom), labels /tmp/skulls/labels.csv
 * $ physis phantoms knee-bone-age --out /tmp/knees --hands ../shared/data/rsna-hand
 * /tmp/knees: 1054 patients, 1023 real hand films, 1120 simulated knee films (dicom), manifest /tmp/knees/manifest.csv
 * $ physis phantoms spine-view --out runs/spine-cohort
 * runs/spine-cohort: 1641 AP films of 416 patient keys (ap_preop 679, ap_postop_fusion 481, ap_postop_growing_rod 481; 962 simulated), labels runs/spine-cohort/labels.csv
 */
import { existsSync } from 'node:fs';
import { kneeBoneAge, skullInfantAge, spineViewPostop } from '../../tasks/index.js';
import type { Output } from '../output.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';

/** Where the anatomy set lives in a checkout beside the shared data (its spine AP films join the spine-view cohort). */
const DEFAULT_ANATOMY_DIR = '../shared/data/anatomy';

/** The `physis phantoms` command. */
export const phantomsCommand: Command = {
  name: 'phantoms',
  summary:
    'write a seeded cohort of simulated films (infant skulls; or knees paired with real hands) for pipeline validation',
  usage: [
    'usage: physis phantoms skull-infant-age --out DIR [--infants N] [--seed N] [--size PX] [--format dicom|png]',
    '                                        [--label-noise-days D] [--force] [--json]',
    '       physis phantoms knee-bone-age --out DIR [--hands DIR] [--seed N] [--size PX] [--format dicom|png]',
    '                                     [--force] [--json]',
    '       physis phantoms spine-view --out DIR [--aasce DIR] [--anatomy DIR] [--seed N] [--force] [--json]',
    '',
    'Procedural phantoms, not clinical films: anatomy follows published growth curves (head circumference, fontanelles,',
    'sutures, calvarial thickness), acquisition varies (exposure, positioning, collimation, scatter, noise). Each infant',
    'has 1-3 visits with an AP and a lateral film; splits train/dev/test are by infant. Defaults: 400 infants, seed 1,',
    '256 px, dicom.',
    '',
    'example:',
    '  $ physis phantoms skull-infant-age --out /tmp/skulls --infants 40 --size 128',
    '  /tmp/skulls: 160 phantom films of 40 infants (dicom), labels /tmp/skulls/labels.csv',
    '',
    'knee-bone-age: every real hand film of --hands (an RSNA folder with labels.csv; default ../shared/data/rsna-hand)',
    'is one patient, paired with simulated AP knee films at that child\'s skeletal age; manifest.csv has one row per',
    'film (hands referenced in place, never copied). Defaults: seed 1, 256 px, dicom.',
    '  $ physis phantoms knee-bone-age --out /tmp/knees',
    '  /tmp/knees: 1054 patients, 1023 real hand films, 1120 simulated knee films (dicom), manifest /tmp/knees/manifest.csv',
    '',
    'spine-view: every real AASCE film of --aasce (default ../shared/data/aasce-spine) as ap_preop, plus the same film',
    'with a simulated posterior spinal fusion (ap_postop_fusion) and with simulated dual growing rods',
    '(ap_postop_growing_rod), 8-bit PNG; the AP spine films of --anatomy (default ../shared/data/anatomy when present)',
    'join as ap_preop. labels.csv: file,class,patient_key,view,stage,simulated,source; COHORT.md says what is simulated.',
    '  $ physis phantoms spine-view --out runs/spine-cohort',
    '  runs/spine-cohort: 1641 AP films of 416 patient keys (ap_preop 679, ap_postop_fusion 481, ap_postop_growing_rod 481; 962 simulated), labels runs/spine-cohort/labels.csv',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o' },
    infants: { type: 'string' },
    seed: { type: 'string' },
    size: { type: 'string' },
    format: { type: 'string' },
    'label-noise-days': { type: 'string' },
    hands: { type: 'string' },
    aasce: { type: 'string' },
    anatomy: { type: 'string' },
    force: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(args, out) {
    const [task, ...rest] = args.positionals;
    if (task === 'spine-view' && rest.length === 0) {
      const outDir = stringOption(args, 'out', true);
      const anatomy = stringOption(args, 'anatomy') ?? (existsSync(DEFAULT_ANATOMY_DIR) ? DEFAULT_ANATOMY_DIR : undefined);
      const result = await spineViewPostop.writeSpineViewCohort(
        {
          aasceDir: stringOption(args, 'aasce') ?? '../shared/data/aasce-spine',
          ...(anatomy === undefined ? {} : { anatomyDir: anatomy }),
          outDir,
          seed: intOption(args, 'seed', 1, 0, 2 ** 31 - 1),
          force: args.values['force'] === true,
        },
        progressReporter(out),
      );
      const c = result.byClass;
      out.result(
        { ...result, outDir },
        `${outDir}: ${result.films} AP films of ${result.patients} patient keys (ap_preop ${c.ap_preop}, ap_postop_fusion ${c.ap_postop_fusion}, ap_postop_growing_rod ${c.ap_postop_growing_rod}; ${result.simulated} simulated), labels ${result.labelsCsv}\n` +
          '  post-operative films are real pre-operative films with simulated metal; no lateral films (see COHORT.md)',
      );
      return 0;
    }
    if (task === 'knee-bone-age' && rest.length === 0) {
      const outDir = stringOption(args, 'out', true);
      const format = stringOption(args, 'format') ?? 'dicom';
      if (format !== 'dicom' && format !== 'png') throw new UsageError(`--format must be dicom or png, got '${format}'`);
      const result = await kneeBoneAge.writeKneePhantomCohort(
        {
          handsDir: stringOption(args, 'hands') ?? '../shared/data/rsna-hand',
          outDir,
          seed: intOption(args, 'seed', 1, 0, 2 ** 31 - 1),
          size: intOption(args, 'size', 256, 32, 2048),
          format,
          force: args.values['force'] === true,
        },
        progressReporter(out),
      );
      out.result(
        { ...result, outDir, format },
        `${outDir}: ${result.patients} patients, ${result.handFilms} real hand films, ${result.kneeFilms} simulated knee films (${format}), manifest ${result.manifestCsv}\n` +
          '  knees are simulated phantoms paired with real hands, for validating the pipeline; not clinical data',
      );
      return 0;
    }
    if (task !== 'skull-infant-age' || rest.length > 0) throw new UsageError(`phantoms are made for three tasks: physis phantoms skull-infant-age|knee-bone-age|spine-view --out DIR${task === undefined ? '' : ` (got '${[task, ...rest].join(' ')}')`}`);
    const outDir = stringOption(args, 'out', true);
    const format = stringOption(args, 'format') ?? 'dicom';
    if (format !== 'dicom' && format !== 'png') throw new UsageError(`--format must be dicom or png, got '${format}'`);
    const noise = stringOption(args, 'label-noise-days');
    const labelNoiseSdDays = noise === undefined ? 0 : Number(noise);
    if (!Number.isFinite(labelNoiseSdDays) || labelNoiseSdDays < 0 || labelNoiseSdDays > 60) throw new UsageError(`--label-noise-days must be a number in [0, 60], got '${noise ?? ''}'`);
    const result = await skullInfantAge.writeSkullPhantomCohort(
      {
        outDir,
        infants: intOption(args, 'infants', 400, 1, 100_000),
        seed: intOption(args, 'seed', 1, 0, 2 ** 31 - 1),
        size: intOption(args, 'size', 256, 32, 2048),
        format,
        labelNoiseSdDays,
        force: args.values['force'] === true,
      },
      progressReporter(out),
    );
    out.result(
      { ...result, outDir, format },
      `${outDir}: ${result.films} phantom films of ${result.infants} infants (${format}), labels ${result.labelsCsv}\n` +
        '  simulated films for validating the pipeline, not clinical data',
    );
    return 0;
  },
};

/** Films/s and ETA on the progress line, from the first call's clock. */
function progressReporter(out: Output): (done: number, total: number) => void {
  const started = Date.now();
  return (done, total) => {
    const s = (Date.now() - started) / 1000;
    const rate = done / Math.max(s, 1e-3);
    out.progress(`phantoms ${done}/${total} films, ${rate.toFixed(1)} films/s, ETA ${Math.max(0, (total - done) / Math.max(rate, 1e-9)).toFixed(0)} s`);
  };
}
