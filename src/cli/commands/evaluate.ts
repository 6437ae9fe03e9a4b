/**
 * `physis evaluate <bundle> --data <labels.csv | dir> [--split name] [--out dir]`: run a bundle or composite over
 * labelled radiographs through the same suitability check as predict, and write the task's HTML and JSON report
 * (outside the bundle unless --out says otherwise). Rows the model was trained or early-stopped on are flagged.
 *
 * @example
 * $ physis evaluate models/hand-bone-age --data ../shared/data/rsna-hand --split dev --out eval/
 * 177 images (177 scored, 0 refused): devMaeMonths 13.80, devRmseMonths 16.96, devBiasMonths -1.46; report eval/report.html
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parsePublishedResults } from '../../eval/index.js';
import { closeTaskModels, evaluateModels, labelsPath } from '../../tasks/index.js';
import { intOption, stringOption, UsageError, type Command } from '../command.js';
import { GATE_OPTIONS, GATE_USAGE, openModelsFromArgs } from '../task-args.js';

/** A fresh report folder in the working directory: evaluation-<bundle>, then -2, -3… */
function defaultOutDir(bundleDir: string): string {
  const base = `evaluation-${basename(resolve(bundleDir))}`;
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

/** The `physis evaluate` command (see the module comment for an example). */
export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'evaluate a model bundle on labelled radiographs (HTML + JSON report)',
  usage: [
    'usage: physis evaluate <bundle> --data <labels.csv | dir> [--split name] [--out dir] [--published results.json] [--workers N] [--json]',
    '',
    '--split keeps rows of that split (e.g. dev); default every row. Films the suitability check refuses are counted',
    'and listed, not scored. --out defaults to ./evaluation-<bundle folder name> (a new folder, never the bundle).',
    '<bundle> may be a composite folder: an ensemble is scored on the mean of its members, a routed composite on each',
    "row's member. Rows a member was trained or early-stopped on are flagged (warning and report).",
    '--published: published results to show beside the task\'s own (bone-age reports): a JSON array of',
    '{"label", "citation", "data", "mae": months or null, "within": {"6": share, "12": share, …}} (shares 0–1 within k',
    'months, e.g. the paper a group compares against); each is checked, and a wrong field is named.',
    GATE_USAGE,
    'A film the gate refuses is counted and listed; a film it corrects (turned, inverted, mirrored) is scored as corrected.',
    '',
    'example:',
    '  $ physis evaluate models/hand-bone-age --data ../shared/data/rsna-hand --split dev --out eval/',
  ].join('\n'),
  options: {
    data: { type: 'string' },
    split: { type: 'string' },
    published: { type: 'string' },
    out: { type: 'string', short: 'o' },
    workers: { type: 'string' },
    ...GATE_OPTIONS,
  },
  allowPositionals: true,
  async run(args, out) {
    const bundleDir = args.positionals[0];
    if (bundleDir === undefined || args.positionals.length > 1) throw new UsageError('name one bundle folder');
    const models = await openModelsFromArgs(args, out, bundleDir);
    try {
      const { task } = models;
      const csv = labelsPath(stringOption(args, 'data', true));
      const split = stringOption(args, 'split');
      const all = task.readLabels(csv);
      const rows = split === undefined ? all : all.filter((r) => task.splitOf(r) === split);
      if (rows.length === 0) throw new UsageError(`${csv}: no rows${split === undefined ? '' : ` with split '${split}'`}`);
      if (models.set.kind === 'ensemble') {
        out.warn(`${bundleDir} is a fold ensemble: every row of the labels.csv it was trained on trained some member; its out-of-fold numbers are in composite.json`);
      }
      const outDir = stringOption(args, 'out') ?? defaultOutDir(bundleDir);
      const publishedFile = stringOption(args, 'published');
      const r = await evaluateModels(models, rows, {
        outDir,
        workers: intOption(args, 'workers', 1, 0, 64),
        dataSummary: `${csv}${split === undefined ? '' : ` (split ${split})`}: ${rows.length} images`,
        ...(publishedFile === undefined ? {} : { published: parsePublishedResults(readFileSync(publishedFile, 'utf8'), publishedFile) }),
      });
      for (const o of r.overlap) out.warn(`${o.train} training and ${o.dev} dev rows of ${o.member} are among these rows: their numbers are in-sample`);
      for (const id of r.unchecked) out.warn(`${id} does not list its training rows; overlap with these rows was not checked`);
      for (const x of r.refused.slice(0, 5)) out.warn(`refused ${x.id}: ${x.reason}`);
      const metrics = Object.entries(r.metrics).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
      out.result(
        { bundle: bundleDir, images: rows.length, scored: r.accepted, refused: r.refused, metrics: r.metrics, overlap: r.overlap, report: r.reportHtml, json: r.reportJson },
        r.reportHtml === null
          ? `${rows.length} images, all refused by the suitability check: nothing to score, no report`
          : `${rows.length} images (${r.accepted} scored, ${r.refused.length} refused): ${metrics}; report ${r.reportHtml}`,
      );
      return r.reportHtml === null ? 1 : 0;
    } finally {
      await closeTaskModels(models);
    }
  },
};
