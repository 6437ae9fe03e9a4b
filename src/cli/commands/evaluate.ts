/**
 * `physis evaluate <bundle> --data <labels.csv | dir>`: run a bundle over labelled radiographs and write
 * the HTML report (predicted vs reference, Bland-Altman, error by age band) and the same numbers as JSON.
 *
 * @example
 * $ physis evaluate /tmp/tiny --data ../shared/data/rsna-hand --split dev --out /tmp/tiny-eval
 * 177 images: MAE 38.53 months, RMSE 45.76, bias -19.20; report /tmp/tiny-eval/report.html
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isCompositeDir, loadBundle, loadComposite } from '../../infer/index.js';
import { labelsInSplit, readBoneAgeLabels } from '../../tasks/index.js';
import { evaluateBoneAgeModels } from '../../train/index.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';
import { labelsPath, toItem } from './train.js';

/** The `physis evaluate` command (see the module comment for an example). */
export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'evaluate a model bundle on labelled radiographs (HTML + JSON report)',
  usage: [
    'usage: physis evaluate <bundle> --data <labels.csv | dir> [--split name] [--out dir] [--workers N] [--json]',
    '',
    '--split keeps rows of that split (e.g. dev); default every row.',
    '<bundle> may be a composite folder (composite.json): an ensemble is scored on the mean of its members, a',
    'sex-specific pair on each row\'s member of the row\'s sex. A fold ensemble trained on every row of a labels.csv',
    'has no untouched rows there: its honest numbers are the out-of-fold ones in composite.json and <dir>/cv/.',
    '',
    'example:',
    '  $ physis evaluate hand-bone-age-bundle --data ../shared/data/rsna-hand --split dev --out eval/',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    out: { type: 'string', short: 'o' },
    workers: { type: 'string' },
  },
  allowPositionals: true,
  async run(args, out) {
    const bundleDir = args.positionals[0];
    if (bundleDir === undefined) throw new UsageError('name the bundle folder');
    const composite = isCompositeDir(bundleDir) ? loadComposite(bundleDir).manifest : null;
    const task = composite ? composite.task : loadBundle(bundleDir).card.task;
    if (composite?.kind === 'ensemble') {
      out.warn(
        `${bundleDir} is a fold ensemble: rows of the labels.csv it was trained on trained some member (in-sample); ` +
          `its out-of-fold numbers are in composite.json`,
      );
    }
    if (task !== 'hand-bone-age') throw new UsageError(`${bundleDir}: task '${task}' has no evaluator yet`);
    const csv = labelsPath(stringOption(args, 'data', true));
    const split = stringOption(args, 'split');
    const all = readBoneAgeLabels(csv);
    const rows = split === undefined ? all : labelsInSplit(all, split);
    if (rows.length === 0) throw new UsageError(`${csv}: no rows with split '${split}'`);
    const outDir = stringOption(args, 'out') ?? join(bundleDir, 'evaluation');
    const r = await evaluateBoneAgeModels(bundleDir, rows.map(toItem), {
      outDir,
      workers: intOption(args, 'workers', 1, 0, 64),
      dataSummary: `${csv}${split === undefined ? '' : ` (split ${split})`}: ${rows.length} images`,
    });
    const m = (JSON.parse(readFileSync(r.reportJson, 'utf8')) as { metrics: { overall: { mae: number; rmse: number; bias: number } } }).metrics.overall;
    out.result(
      { bundle: bundleDir, images: rows.length, maeMonths: m.mae, rmseMonths: m.rmse, biasMonths: m.bias, report: r.reportHtml, json: r.reportJson },
      `${rows.length} images: MAE ${m.mae.toFixed(2)} months, RMSE ${m.rmse.toFixed(2)}, bias ${m.bias.toFixed(2)}; report ${r.reportHtml}`,
    );
    return 0;
  },
};
