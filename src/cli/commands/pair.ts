/**
 * `physis pair --manifest manifest.csv --out pairs.csv`: pair each knee film of a hand/knee manifest with the same
 * patient's hand film nearest in time within 3 months, write pairs.csv and print a summary of what was paired,
 * left unpaired (with the reason) and excluded. Thin: the pairing is src/tasks/knee-bone-age/pairing.ts.
 *
 * Why a command: knee bone age by transfer (doi 10.1177/23259671261424923) labels a knee film with the bone age of
 * a hand film taken within 3 months; a hospital checks what its export yields before any model is trained.
 *
 * @example
 * $ physis pair --manifest /tmp/knees/manifest.csv --out /tmp/knees/pairs.csv
 * /tmp/knees/pairs.csv: 1023 pairs (1023 knee films of 926 patients, 926 hand films); interval median 43 days, max 90 days
 * (window 92 days). Unpaired knees: 80 (beyond-interval 49, no-hand 31). Unused hands: 75 (beyond-interval 47, no-knee 28).
 * Excluded: 22 patients (47 films; physeal_trauma 7, endocrinopathy 6, genetic_disorder 5, skeletal_dysplasia 4).
 */
import { kneeBoneAge } from '../../tasks/index.js';
import { intOption, stringOption, type Command } from '../command.js';

/** The `physis pair` command. */
export const pairCommand: Command = {
  name: 'pair',
  summary: 'pair each knee film with the same patient\'s hand film within 3 months (knee bone age by transfer) and write pairs.csv',
  usage: [
    'usage: physis pair --manifest manifest.csv --out pairs.csv [--max-interval-days N] [--exclude-columns a,b]',
    '                   [--force] [--json]',
    '',
    'Reads a manifest with one row per film (patient_id, film, body_part hand|knee, study_date, birth_date, sex,',
    'bone_age_months, laterality, exclusion columns 0/1, split, simulated; empty dates, sex and side are read from',
    'the DICOM header, and a manifest value that contradicts the header is refused). Each knee is paired with the',
    'hand film of the same patient nearest in time; a hand may serve several knees. Patients flagged in any',
    'exclusion column are left out.',
    '',
    `  --max-interval-days N   the pairing window (default ${kneeBoneAge.PAIRING_WINDOW_DAYS}: the paper's 3 months, at most 92 calendar days)`,
    `  --exclude-columns a,b   0/1 columns that exclude a patient (default: ${kneeBoneAge.DEFAULT_EXCLUSION_COLUMNS.join(', ')}, those present; '' for none)`,
    '  --force                 overwrite an existing --out',
    '',
    'example:',
    '  $ physis pair --manifest /tmp/knees/manifest.csv --out /tmp/knees/pairs.csv',
    '  /tmp/knees/pairs.csv: 1023 pairs (1023 knee films of 926 patients, 926 hand films); interval median 43 days, max 90 days',
    '  (window 92 days). Unpaired knees: 80 (beyond-interval 49, no-hand 31). Unused hands: 75 (beyond-interval 47, no-knee 28).',
    '  Excluded: 22 patients (47 films; physeal_trauma 7, endocrinopathy 6, genetic_disorder 5, skeletal_dysplasia 4).',
    '  (the phantom cohort of `physis phantoms knee-bone-age --out /tmp/knees`: 1023 real RSNA hands, 1128 phantom knees)',
  ].join('\n'),
  options: {
    manifest: { type: 'string', short: 'm' },
    out: { type: 'string', short: 'o' },
    'max-interval-days': { type: 'string' },
    'exclude-columns': { type: 'string' },
    force: { type: 'boolean' },
  },
  allowPositionals: false,
  async run(args, out) {
    const manifest = stringOption(args, 'manifest', true);
    const pairsCsv = stringOption(args, 'out', true);
    const maxIntervalDays = intOption(args, 'max-interval-days', kneeBoneAge.PAIRING_WINDOW_DAYS, 0, 3660);
    const exclude = stringOption(args, 'exclude-columns');
    const exclusionColumns = exclude?.split(',').map((c) => c.trim()).filter((c) => c !== '');
    const films = await kneeBoneAge.readFilmManifest(manifest, exclusionColumns === undefined ? {} : { exclusionColumns });
    const result = kneeBoneAge.pairKneesWithHands(films, { maxIntervalDays });
    await kneeBoneAge.writePairsCsv(pairsCsv, result, { force: args.values['force'] === true });
    const unpairedKnees = result.unpairedKnees.map((u) => ({ film: u.film.film, cause: u.cause, reason: u.reason }));
    const unusedHands = result.unusedHands.map((u) => ({ film: u.film.film, cause: u.cause, reason: u.reason }));
    out.result(
      { pairsCsv, ...kneeBoneAge.countPairing(result), unpairedKneeFilms: unpairedKnees, unusedHandFilms: unusedHands, excluded: result.excluded },
      `${pairsCsv}: ${kneeBoneAge.summarisePairing(result)}`,
    );
    return 0;
  },
};
