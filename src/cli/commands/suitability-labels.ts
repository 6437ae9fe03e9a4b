/**
 * `physis suitability-labels --out <labels.csv> [--anatomy dir] [--hands dir] [--more-hands dir] [--spine dir]`: write
 * the suitability gate's labels file from the shared data folders, with each film's split written out (paths relative
 * to the file). Thin: the work is in src/tasks/suitability.
 *
 * @example
 * $ physis suitability-labels --anatomy ../shared/data/anatomy --hands ../shared/data/rsna-hand --out runs/gate.csv
 * runs/gate.csv: 3123 films (2507 train, 616 dev) in 10 categories
 */
import { suitability } from '../../tasks/index.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';

export const suitabilityLabelsCommand: Command = {
  name: 'suitability-labels',
  summary: "write the suitability gate's labels file from data folders (split written out)",
  usage: [
    'usage: physis suitability-labels --out <labels.csv> [--base labels.csv] [--anatomy dir] [--hands dir] [--more-hands dir [--more-hands-limit N]]',
    '                                 [--spine dir] [--phantoms dir]… [--phantoms-limit N] [--exclude category]…',
    '                                 [--clean-sides-with gate [--side-confidence p]] [--json]',
    '',
    '--anatomy: a folder in the layout of ../shared/data/anatomy; --hands: left-hand PA films with a train/dev split',
    '(rsna-hand: its dev films stay dev); --more-hands: training hands of rsna-hand-lowres not in --hands (at most',
    '--more-hands-limit, default 1000); --spine: AP spine films with patient keys (aasce-spine; split by patient).',
    '--base: keep every row of an existing gate labels file as it is (its splits and cleaned sides) and add the sources.',
    '--phantoms: a folder written by physis phantoms (skull-infant-age, knee-bone-age or spine-view): its simulated',
    'films (at most --phantoms-limit each, default 400) join in categories of their own, split by patient.',
    '--exclude drops a category entirely (e.g. ultrasound) for leave-one-category-out experiments.',
    '--clean-sides-with <gate>: a training hand whose labelled side that gate gives p < --side-confidence (default 0.8)',
    'gets an unknown side (some RSNA films are stored mirrored); dev films are never changed.',
    '',
    'example:',
    '  $ physis suitability-labels --anatomy ../shared/data/anatomy --hands ../shared/data/rsna-hand \\',
    '      --more-hands ../shared/data/rsna-hand-lowres --spine ../shared/data/aasce-spine --out runs/gate.csv',
  ].join('\n'),
  options: {
    out: { type: 'string', short: 'o' },
    base: { type: 'string' },
    anatomy: { type: 'string' },
    hands: { type: 'string' },
    'more-hands': { type: 'string' },
    'more-hands-limit': { type: 'string' },
    spine: { type: 'string' },
    phantoms: { type: 'string', multiple: true },
    'phantoms-limit': { type: 'string' },
    exclude: { type: 'string', multiple: true },
    'clean-sides-with': { type: 'string' },
    'side-confidence': { type: 'string' },
  },
  allowPositionals: false,
  async run(args, out) {
    const csv = stringOption(args, 'out', true);
    const folders: Record<string, string> = {};
    for (const [option, key] of [['anatomy', 'anatomy'], ['hands', 'hands'], ['more-hands', 'moreHands'], ['spine', 'spine']] as const) {
      const dir = stringOption(args, option);
      if (dir !== undefined) folders[key] = dir;
    }
    const phantoms = (args.values['phantoms'] as string[] | undefined) ?? [];
    if (Object.keys(folders).length === 0 && phantoms.length === 0) throw new UsageError('give at least one source folder (--anatomy, --hands, --more-hands, --spine, --phantoms)');
    const basePath = stringOption(args, 'base');
    // read before anything is written: --out may name the same file
    const base = basePath === undefined ? [] : suitability.readSuitabilityLabels(basePath);
    const sources = {
      ...folders,
      phantoms,
      phantomsLimit: intOption(args, 'phantoms-limit', 400, 1, 1_000_000),
      moreHandsLimit: intOption(args, 'more-hands-limit', 1000, 0, 1_000_000),
      exclude: (args.values['exclude'] as string[] | undefined) ?? [],
    };
    let rows = suitability.collectSuitabilityRows(sources);
    const cleanWith = stringOption(args, 'clean-sides-with');
    let cleaned: string[] = [];
    if (cleanWith !== undefined) {
      const minP = Number(stringOption(args, 'side-confidence') ?? '0.8');
      if (!(minP > 0 && minP < 1)) throw new UsageError(`--side-confidence must be in (0, 1), got '${stringOption(args, 'side-confidence') ?? ''}'`);
      const gate = await suitability.openGate(cleanWith);
      try {
        ({ rows, cleaned } = await suitability.cleanSideLabels(rows, gate, minP));
      } finally {
        await suitability.closeGate(gate);
      }
      out.warn(`${cleaned.length} training films get an unknown side (${cleanWith} gives their labelled side p < ${minP})${cleaned.length > 0 ? `, e.g. ${cleaned.slice(0, 3).join(', ')}` : ''}`);
    }
    rows = suitability.mergeSuitabilityRows(base, rows);
    suitability.writeSuitabilityLabels(rows, csv);
    const byCategory: Record<string, number> = {};
    for (const r of rows) byCategory[r.category] = (byCategory[r.category] ?? 0) + 1;
    const train = rows.filter((r) => r.split === 'train').length;
    out.result(
      { labels: csv, films: rows.length, train, dev: rows.length - train, categories: byCategory, sidesCleaned: cleaned },
      `${csv}: ${rows.length} films (${train} train, ${rows.length - train} dev) in ${Object.keys(byCategory).length} categories: ` +
        Object.entries(byCategory).map(([c, n]) => `${c} ${n}`).join(', '),
    );
    return 0;
  },
};
