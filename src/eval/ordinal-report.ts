/**
 * Metrics and a self-contained HTML/JSON report for models that predict an ordinal class and a continuous value per
 * case (a class of age and the age itself), sliced by categorical groups (e.g. the view of the film).
 *
 * Why: papers on ordinal age classes report exact accuracy, a "corrected accuracy" that also counts a prediction
 * within ±1 class of the reference as correct, the MAE of the continuous estimate, per-class precision/recall and
 * the confusion matrix, per group, and mean ± SD over repeated runs or folds. A model can only be set beside them on
 * the same figures, so this report computes exactly those, with the tolerance a parameter (0 gives exact accuracy,
 * 1 the usual corrected accuracy). Exact accuracy is blind to how far a wrong class is, which is why ordinal
 * evaluations add a distance-aware figure beside it (Gutiérrez et al., "Ordinal regression methods: survey and
 * experimental study", IEEE TKDE 2016, use the mean class distance: `classMae` here). Per-class precision of a class
 * never predicted is 0 (scikit-learn's zero_division=0), as in {@link classificationMetrics}. The HTML follows the
 * regression report: one file, inline SVG, no executable script, every text escaped; the JSON twin (the report
 * object) feeds scripts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeanSd } from './aggregate-folds.js';
import { classificationMetrics, type ClassMetrics } from './classification-metrics.js';
import { confusionSvg } from './confusion-svg.js';
import { MetricInputError } from './errors.js';
import { mean } from './stats.js';
import { checkImageFiles, factsTable, imagesSection, reportPageEnd, reportPageStart, writeReportImages, type ReportPageImage } from './report-page.js';
import { checkReportTable, reportTablesHtml, type ReportTable } from './report-table.js';
import { escapeXml, scatterSvg } from './svg-plots.js';

/** One scored case: its predicted and reference class, its predicted and reference value, and its groups. */
export interface OrdinalSample {
  readonly id: string;
  /** Predicted class index into the report's `classNames`. */
  readonly predictedClass: number;
  /** Reference class index. */
  readonly referenceClass: number;
  /** Continuous estimate, in the report's `unit`. */
  readonly predictedValue: number;
  /** Reference value, in the report's `unit`. */
  readonly referenceValue: number;
  /** Categorical attributes to slice by, e.g. `{ view: 'AP' }`. */
  readonly groups: Readonly<Record<string, string>>;
}

/** Metrics of one set of ordinal predictions; `confusion[r][p]` counts reference class r predicted as p. */
export interface OrdinalMetrics {
  readonly n: number;
  /** Share with the exact class. */
  readonly accuracy: number;
  /** Share within ±`tolerance` classes of the reference ("corrected accuracy"). */
  readonly correctedAccuracy: number;
  /** Mean |predicted − reference| of the continuous values, in the report's unit. */
  readonly mae: number;
  /** Mean |predicted − reference| class index, in classes. */
  readonly classMae: number;
  /** Mean predicted − reference value, in the report's unit (positive: over-estimates). */
  readonly bias: number;
  readonly perClass: readonly ClassMetrics[];
  readonly macroF1: number;
  readonly confusion: readonly (readonly number[])[];
}

/** The metrics of one value of one grouping key. */
export interface OrdinalGroupMetrics {
  readonly key: string;
  readonly value: string;
  /** `key=value`; lets `aggregateFolds` line up the same group across folds (`byGroup.view=AP.metrics.accuracy`). */
  readonly label: string;
  readonly metrics: OrdinalMetrics;
}

/**
 * A published result shown beside the model's own (not measured here; their own test sets). Shares are 0–1, MAE in
 * the report's unit; null where the publication does not state the figure.
 */
export interface PublishedOrdinalResult {
  /** Who and what, e.g. `Author et al. 2021, ResNet-50, AP films`. */
  readonly label: string;
  readonly citation: string;
  /** Its test set in words. */
  readonly data: string;
  /** The slice the figure is for, e.g. `{ view: 'AP' }`; none for all cases. */
  readonly group?: Readonly<Record<string, string>>;
  readonly accuracy: number | null;
  readonly correctedAccuracy: number | null;
  readonly correctedAccuracySd?: number | null;
  readonly mae: number | null;
}

/** An image shown in the report (e.g. a saliency example), written next to the HTML. */
export type OrdinalReportImage = ReportPageImage;

/** Options of {@link buildOrdinalReport}. */
export interface OrdinalReportOptions {
  readonly title: string;
  /** Unit of the continuous values, e.g. `months`. */
  readonly unit: string;
  /** Class names in index order. */
  readonly classNames: readonly string[];
  /** Classes counted correct on either side for the corrected accuracy; default 1. */
  readonly tolerance?: number;
  /** Keys of `groups` to slice by; each value gets its own metrics and confusion matrix. */
  readonly groupBy?: readonly string[];
  /** Free key/value facts shown at the top: model id, weight hash, data folder. */
  readonly facts?: Readonly<Record<string, string>>;
  /** What the scored cases are, in words. */
  readonly data?: string;
  /** Mean ± SD over runs or folds (from `aggregateFolds`). */
  readonly folds?: Readonly<Record<string, MeanSd>>;
  /** Published results shown beside (not measured here). */
  readonly published?: readonly PublishedOrdinalResult[];
  /** Images written next to the HTML and shown in it with their captions. */
  readonly images?: readonly OrdinalReportImage[];
  /** The task's own measurements (e.g. saliency against masks), shown before the images. */
  readonly tables?: readonly ReportTable[];
  /** Paragraphs shown at the top (e.g. what the model was trained on). */
  readonly notes?: readonly string[];
  /** Creation time; default now (tests pass a fixed one). */
  readonly createdAt?: Date;
}

/** Everything an ordinal report shows; this object is also the JSON file (images by name only). */
export interface OrdinalReport {
  readonly title: string;
  /** ISO 8601 time the report was made. */
  readonly createdAt: string;
  readonly unit: string;
  readonly classNames: readonly string[];
  readonly tolerance: number;
  readonly facts: Readonly<Record<string, string>>;
  readonly data?: string;
  readonly notes?: readonly string[];
  readonly overall: OrdinalMetrics;
  readonly byGroup: readonly OrdinalGroupMetrics[];
  readonly samples: readonly OrdinalSample[];
  readonly folds?: Readonly<Record<string, MeanSd>>;
  readonly published?: readonly PublishedOrdinalResult[];
  readonly images?: readonly { readonly file: string; readonly caption: string }[];
  readonly tables?: readonly ReportTable[];
}

/** Value under which a sample without a grouping key is sliced (it is kept, not dropped, so the group n add up). */
export const MISSING_GROUP = '(missing)';

function checkTolerance(tolerance: number): void {
  if (!Number.isInteger(tolerance) || tolerance < 0) {
    throw new MetricInputError(`tolerance ${tolerance} must be a whole number of classes >= 0`);
  }
}

function checkValues(samples: readonly OrdinalSample[]): void {
  samples.forEach((s, i) => {
    for (const field of ['predictedValue', 'referenceValue'] as const) {
      if (!Number.isFinite(s[field])) {
        throw new MetricInputError(
          `sample ${i} (${s.id}) has ${field} ${String(s[field])}; metrics need finite numbers`,
        );
      }
    }
  });
}

/**
 * Exact and corrected accuracy, value MAE and bias, class MAE, per-class precision/recall/F1 and the confusion matrix.
 * @param samples - scored cases (at least one)
 * @param classNames - class names in index order; their count is the number of classes
 * @param tolerance - classes on either side counted correct for `correctedAccuracy`; default 1
 */
export function ordinalMetrics(
  samples: readonly OrdinalSample[],
  classNames: readonly string[],
  tolerance = 1,
): OrdinalMetrics {
  if (samples.length === 0) throw new MetricInputError('no samples; nothing to score');
  if (classNames.length === 0)
    throw new MetricInputError('no class names; an ordinal report needs at least one class');
  checkTolerance(tolerance);
  checkValues(samples);
  // classificationMetrics checks that every class is an integer index in range and names the offending one.
  const c = classificationMetrics(
    samples.map((s) => s.predictedClass),
    samples.map((s) => s.referenceClass),
    { classNames },
  );
  const classDiffs = samples.map((s) => Math.abs(s.predictedClass - s.referenceClass));
  const errors = samples.map((s) => s.predictedValue - s.referenceValue);
  return {
    n: samples.length,
    accuracy: c.accuracy,
    correctedAccuracy: classDiffs.filter((d) => d <= tolerance).length / samples.length,
    mae: mean(errors.map(Math.abs)),
    classMae: mean(classDiffs),
    bias: mean(errors),
    perClass: c.perClass,
    macroF1: c.macroF1,
    confusion: c.confusion,
  };
}

function byNaturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * Score the samples overall and per group and assemble a report object.
 * Throws MetricInputError on no samples, a class index out of range, a non-finite value, a bad tolerance or an image
 * name that is not a plain file name.
 * @param samples - scored cases
 * @param o - title, unit, class names, tolerance, grouping, facts, folds, published results, images and notes
 */
export function buildOrdinalReport(
  samples: readonly OrdinalSample[],
  o: OrdinalReportOptions,
): OrdinalReport {
  const tolerance = o.tolerance ?? 1;
  const overall = ordinalMetrics(samples, o.classNames, tolerance);
  const byGroup: OrdinalGroupMetrics[] = [];
  for (const key of o.groupBy ?? []) {
    const slices = new Map<string, OrdinalSample[]>();
    for (const s of samples) {
      const value = s.groups[key] ?? MISSING_GROUP;
      const list = slices.get(value) ?? [];
      list.push(s);
      slices.set(value, list);
    }
    for (const value of [...slices.keys()].sort(byNaturalOrder)) {
      const slice = slices.get(value) ?? [];
      byGroup.push({
        key,
        value,
        label: `${key}=${value}`,
        metrics: ordinalMetrics(slice, o.classNames, tolerance),
      });
    }
  }
  const images = (o.images ?? []).map((i) => ({ file: i.file, caption: i.caption }));
  checkImageFiles(images);
  for (const t of o.tables ?? []) checkReportTable(t);
  return {
    title: o.title,
    createdAt: (o.createdAt ?? new Date()).toISOString(),
    unit: o.unit,
    classNames: o.classNames,
    tolerance,
    facts: o.facts ?? {},
    ...(o.data === undefined ? {} : { data: o.data }),
    ...(o.notes && o.notes.length > 0 ? { notes: o.notes } : {}),
    overall,
    byGroup,
    samples,
    ...(o.folds ? { folds: o.folds } : {}),
    ...(o.published && o.published.length > 0 ? { published: o.published } : {}),
    ...(images.length > 0 ? { images } : {}),
    ...(o.tables && o.tables.length > 0 ? { tables: o.tables } : {}),
  };
}

function num(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—';
}

function orDash(v: number | null | undefined, f: (x: number) => string): string {
  return v === null || v === undefined ? '—' : f(v);
}

function row(cells: readonly string[]): string {
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
}

function tableOf(head: readonly string[], rows: readonly string[], cls = ''): string {
  const h = head.map((x) => `<th>${x}</th>`).join('');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${h}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function toleranceLabel(tolerance: number): string {
  return tolerance === 0 ? 'exact class' : `±${tolerance} class${tolerance === 1 ? '' : 'es'}`;
}

function summaryTable(report: OrdinalReport): string {
  const unit = escapeXml(report.unit);
  const head = [
    '',
    'n',
    'accuracy',
    `corrected accuracy (${toleranceLabel(report.tolerance)})`,
    `MAE (${unit})`,
    'class MAE',
    `bias (${unit})`,
    'macro F1',
  ];
  const line = (label: string, m: OrdinalMetrics): string =>
    row([
      escapeXml(label),
      String(m.n),
      pct(m.accuracy),
      pct(m.correctedAccuracy),
      num(m.mae),
      num(m.classMae),
      num(m.bias),
      num(m.macroF1, 3),
    ]);
  const rows = [
    line('all', report.overall),
    ...report.byGroup.map((g) => line(`${g.key} = ${g.value}`, g.metrics)),
  ];
  return tableOf(head, rows, 'summary');
}

/** Metric names whose values are shares (shown as percentages). */
const SHARE_METRICS = new Set(['accuracy', 'correctedAccuracy', 'macroF1', 'precision', 'recall', 'f1']);

function foldsTable(folds: Readonly<Record<string, MeanSd>>): string {
  // Per-class and confusion-cell aggregates run to k² + 4k lines; the table keeps the headline figures.
  const entries = Object.entries(folds).filter(
    ([k]) => !k.split('.').some((part) => part === 'perClass' || part === 'confusion'),
  );
  if (entries.length === 0) return '';
  const rows = entries.map(([k, v]) => {
    const f = SHARE_METRICS.has(k.split('.').pop() ?? '') ? pct : (x: number): string => num(x);
    return row([escapeXml(k), f(v.mean), f(v.sd), String(v.n)]);
  });
  return `<h2>Over runs or folds (mean ± SD)</h2>
<p class="note">Sample SD (n − 1) over the runs or folds that reported each figure.</p>
${tableOf(['metric', 'mean', 'SD', 'runs'], rows, 'folds')}`;
}

function foldSd(report: OrdinalReport, metric: string): number | undefined {
  const folds = report.folds;
  if (!folds) return undefined;
  const v = folds[metric] ?? folds[`overall.${metric}`];
  return v === undefined || !Number.isFinite(v.sd) ? undefined : v.sd;
}

function groupText(group: Readonly<Record<string, string>> | undefined): string {
  if (!group || Object.keys(group).length === 0) return 'all';
  return Object.entries(group)
    .map(([k, v]) => `${k} = ${v}`)
    .join(', ');
}

function publishedTable(report: OrdinalReport): string {
  const published = report.published ?? [];
  if (published.length === 0) return '';
  const unit = escapeXml(report.unit);
  const head = [
    '',
    'data',
    'slice',
    'n',
    'accuracy',
    `corrected accuracy (${toleranceLabel(report.tolerance)})`,
    `MAE (${unit})`,
  ];
  const sd = foldSd(report, 'correctedAccuracy');
  const own = (slice: string, m: OrdinalMetrics, withSd: boolean): string =>
    row([
      'this model',
      escapeXml(report.data ?? 'these cases'),
      escapeXml(slice),
      String(m.n),
      pct(m.accuracy),
      `${pct(m.correctedAccuracy)}${withSd && sd !== undefined ? ` ± ${pct(sd)}` : ''}`,
      num(m.mae),
    ]);
  const rows = [
    own('all', report.overall, true),
    ...report.byGroup.map((g) => own(`${g.key} = ${g.value}`, g.metrics, false)),
    ...published.map((p) =>
      row([
        escapeXml(p.label),
        escapeXml(p.data),
        escapeXml(groupText(p.group)),
        '—',
        orDash(p.accuracy, pct),
        `${orDash(p.correctedAccuracy, pct)}${p.correctedAccuracySd === null || p.correctedAccuracySd === undefined ? '' : ` ± ${pct(p.correctedAccuracySd)}`}`,
        orDash(p.mae, (x) => num(x)),
      ]),
    ),
  ];
  const cites = published.map((p) => `<li>${escapeXml(p.label)}: ${escapeXml(p.citation)}</li>`).join('');
  return `<h2>Beside published results</h2>
<p class="note">Published numbers are not measured here: they are on the publications' own test sets, and their
corrected accuracy is taken to use the same tolerance; — where a publication does not state the figure.
This model's ± is the SD over runs or folds, when given.</p>
${tableOf(head, rows, 'published')}<ul class="note">${cites}</ul>`;
}

function perClassTable(m: OrdinalMetrics): string {
  const rows = m.perClass.map((c) =>
    row([escapeXml(c.label), num(c.precision, 3), num(c.recall, 3), num(c.f1, 3), String(c.support)]),
  );
  return tableOf(['class', 'precision', 'recall', 'F1', 'support'], rows, 'per-class');
}

function sliceSection(report: OrdinalReport, heading: string, m: OrdinalMetrics): string {
  const svg = confusionSvg({
    title: `Confusion: ${heading} (n=${m.n})`,
    classNames: report.classNames,
    confusion: m.confusion,
    tolerance: report.tolerance,
  });
  return `<section class="slice"><h3>${escapeXml(heading)}</h3>
<div class="plots">${svg}
${perClassTable(m)}</div></section>`;
}

/**
 * Render a report as one self-contained HTML document (inline SVG; images by relative file name; the report's JSON
 * embedded as an inert `application/json` block, as in the regression report).
 * @param report - from {@link buildOrdinalReport}
 */
export function renderOrdinalReportHtml(report: OrdinalReport): string {
  const { unit } = report;
  // Colour the scatter by the first grouping key, when there is one.
  const colourKey = report.byGroup[0]?.key;
  const scatter = scatterSvg({
    title: 'Predicted vs reference',
    xLabel: `reference (${unit})`,
    yLabel: `predicted (${unit})`,
    identityLine: true,
    points: report.samples.map((s) => ({
      x: s.referenceValue,
      y: s.predictedValue,
      ...(colourKey === undefined ? {} : { group: s.groups[colourKey] ?? MISSING_GROUP }),
    })),
  });
  const slices = [
    sliceSection(report, 'all', report.overall),
    ...report.byGroup.map((g) => sliceSection(report, `${g.key} = ${g.value}`, g.metrics)),
  ].join('\n');
  return `${reportPageStart(report.title, report.notes)}
<p class="note">Created ${escapeXml(report.createdAt)}. ${report.data === undefined ? '' : `Cases: ${escapeXml(report.data.replace(/\.$/, ''))}. `}Accuracy counts the exact class;
corrected accuracy counts a prediction within ${escapeXml(toleranceLabel(report.tolerance))} of the reference as correct.
MAE and bias are of the continuous values (predicted − reference) in ${escapeXml(unit)}; class MAE is the mean class distance.</p>
${factsTable(report.facts)}
<h2>Summary</h2>
${summaryTable(report)}
${report.folds ? foldsTable(report.folds) : ''}
${publishedTable(report)}
<h2>Confusion matrices and per-class metrics</h2>
<p class="note">Rows: reference class; columns: predicted class; counts in the cells, shading by the share of the
reference row; the diagonal is outlined, and dashed cells are the neighbours counted by the corrected accuracy.</p>
${slices}
<h2>Continuous estimate</h2>
<div class="plots">${scatter}</div>
${reportTablesHtml(report.tables ?? [])}
${imagesSection(report.images ?? [])}
${reportPageEnd(report)}`;
}

/**
 * Write `report.html`, `report.json` and the image files into a folder (created if missing).
 * @param dir - output folder
 * @param report - from {@link buildOrdinalReport}
 * @param images - the image bytes to write beside the HTML (usually the same list given to the report)
 */
export function writeOrdinalReport(
  dir: string,
  report: OrdinalReport,
  images?: OrdinalReportOptions['images'],
): { htmlPath: string; jsonPath: string } {
  writeReportImages(dir, images ?? []);
  const htmlPath = join(dir, 'report.html');
  const jsonPath = join(dir, 'report.json');
  writeFileSync(htmlPath, renderOrdinalReportHtml(report));
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  return { htmlPath, jsonPath };
}
