/**
 * Self-contained HTML report (inline SVG plots, no scripts or external assets) and the same numbers as
 * JSON for a regression evaluation (an estimated age, a measurement).
 *
 * Why: a research group must be able to archive and e-mail one file that shows the agreement plots a
 * radiology paper would show: predicted vs reference with the identity line, Bland-Altman with the 95%
 * limits of agreement (Bland & Altman 1986), and error by age band; the JSON twin feeds scripts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeanSd } from './aggregate-folds.js';
import { MetricInputError } from './errors.js';
import {
  groupedRegressionMetrics,
  type GroupedMetricOptions,
  type GroupedRegressionMetrics,
  type RegressionSample,
} from './grouped-metrics.js';
import { checkImageFiles, factsTable, imagesSection, reportPageEnd, reportPageStart, writeReportImages, type ReportPageImage } from './report-page.js';
import { checkReportTable, reportTablesHtml, type ReportTable } from './report-table.js';
import type { RegressionMetrics } from './regression-metrics.js';
import { barSvg, escapeXml, scatterSvg } from './svg-plots.js';

/** Everything a regression report shows; this object is also the JSON file. */
export interface RegressionReport {
  readonly title: string;
  /** ISO 8601 time the report was made. */
  readonly createdAt: string;
  /** Unit of the target, e.g. `months`. */
  readonly unit: string;
  /** Free key/value facts shown at the top: model id, weight hash, data folder. */
  readonly facts: Readonly<Record<string, string>>;
  readonly metrics: GroupedRegressionMetrics;
  readonly samples: readonly RegressionSample[];
  /** Mean ± SD across cross-validation folds, when the evaluation had folds. */
  readonly folds?: Readonly<Record<string, MeanSd>>;
  /** Published results shown beside the model's own. */
  readonly published?: readonly PublishedResult[];
  /** What the scored cases are, in words. */
  readonly data?: string;
  /** The same cases scored against other references, or other estimators against the reference (overall metrics). */
  readonly comparisons?: readonly { readonly label: string; readonly metrics: RegressionMetrics }[];
  /** The task's own measurements (e.g. where saliency maps fall), shown after the plots. */
  readonly tables?: readonly ReportTable[];
  /** Images shown last (names and captions; the files lie beside the HTML). */
  readonly images?: readonly { readonly file: string; readonly caption: string }[];
}

/**
 * A published result shown beside the model's own numbers (not measured here): the share within each of the report's
 * thresholds where the publication states it (null where it does not), and its MAE.
 */
export interface PublishedResult {
  /** Who and what, e.g. `Lee et al. 2017, GoogLeNet, female test set`. */
  readonly label: string;
  /** The citation. */
  readonly citation: string;
  /** Its test set in words. */
  readonly data: string;
  readonly mae: number | null;
  /** Shares (0–1) by threshold, in the report's unit; a threshold the publication does not give is left out. */
  readonly within: Readonly<Record<string, number>>;
}

/**
 * Published results given as a JSON file (`physis evaluate --published`): an array of {@link PublishedResult}
 * objects, checked field by field. Why a file: the paper a group compares against (its own, or one not shipped here)
 * is data, not code; its figures go into the report beside the task's own list.
 * @param text - the file's contents
 * @param source - its path, for messages
 * @throws MetricInputError naming the file and the first field that is wrong
 */
export function parsePublishedResults(text: string, source: string): PublishedResult[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new MetricInputError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || v.length === 0) throw new MetricInputError(`${source}: expected a non-empty array of published results`);
  return v.map((x: unknown, i): PublishedResult => {
    const at = `${source}: result ${i + 1}`;
    if (x === null || typeof x !== 'object' || Array.isArray(x)) throw new MetricInputError(`${at} is not an object`);
    const r = x as Record<string, unknown>;
    for (const key of ['label', 'citation', 'data']) {
      if (typeof r[key] !== 'string' || (r[key] as string).trim() === '') throw new MetricInputError(`${at}: '${key}' must be a non-empty string`);
    }
    const mae = r['mae'] ?? null;
    if (mae !== null && !(typeof mae === 'number' && Number.isFinite(mae) && mae >= 0)) throw new MetricInputError(`${at}: 'mae' must be a number >= 0 or null`);
    const within = r['within'] ?? {};
    if (within === null || typeof within !== 'object' || Array.isArray(within)) throw new MetricInputError(`${at}: 'within' must be an object of threshold: share`);
    for (const [k, share] of Object.entries(within)) {
      if (!(Number(k) > 0)) throw new MetricInputError(`${at}: within threshold '${k}' is not a positive number`);
      if (!(typeof share === 'number' && share >= 0 && share <= 1)) throw new MetricInputError(`${at}: within['${k}'] must be a share in [0, 1]`);
    }
    for (const key of Object.keys(r)) {
      if (!['label', 'citation', 'data', 'mae', 'within'].includes(key)) throw new MetricInputError(`${at}: unknown field '${key}'`);
    }
    return { label: r['label'] as string, citation: r['citation'] as string, data: r['data'] as string, mae: mae as number | null, within: within as Record<string, number> };
  });
}

/** Options of {@link buildRegressionReport}. */
export interface RegressionReportOptions extends GroupedMetricOptions {
  /** Published results to show next to this model's (their own test sets, not these films). */
  readonly published?: readonly PublishedResult[];
  /** What the scored cases are, in words (e.g. `dev split, 177 images`). */
  readonly data?: string;
  readonly title: string;
  readonly unit: string;
  readonly facts?: Readonly<Record<string, string>>;
  readonly folds?: Readonly<Record<string, MeanSd>>;
  /** Creation time; default now (tests pass a fixed one). */
  readonly createdAt?: Date;
  /**
   * Rows beside the model's own on the same cases: the model against another reference (e.g. a second reader), or
   * another estimator against the same reference (e.g. a trivial baseline), each labelled in words.
   */
  readonly comparisons?: readonly { readonly label: string; readonly samples: readonly RegressionSample[] }[];
  /** The task's own measurements, shown after the plots. */
  readonly tables?: readonly ReportTable[];
  /** Images (e.g. saliency examples); their bytes are written by {@link writeRegressionReport}. */
  readonly images?: readonly ReportPageImage[];
}

/**
 * Score the samples and assemble a report object.
 * @param samples - predictions with references (and sex)
 * @param options - title, unit, facts, grouping and fold aggregates
 */
export function buildRegressionReport(
  samples: readonly RegressionSample[],
  options: RegressionReportOptions,
): RegressionReport {
  const images = (options.images ?? []).map((i) => ({ file: i.file, caption: i.caption }));
  checkImageFiles(images);
  for (const t of options.tables ?? []) checkReportTable(t);
  return {
    title: options.title,
    createdAt: (options.createdAt ?? new Date()).toISOString(),
    unit: options.unit,
    facts: options.facts ?? {},
    metrics: groupedRegressionMetrics(samples, options),
    samples,
    ...(options.folds ? { folds: options.folds } : {}),
    ...(options.published && options.published.length > 0 ? { published: options.published } : {}),
    ...(options.data === undefined ? {} : { data: options.data }),
    ...(options.comparisons && options.comparisons.length > 0
      ? { comparisons: options.comparisons.map((c) => ({ label: c.label, metrics: groupedRegressionMetrics(c.samples, options).overall })) }
      : {}),
    ...(options.tables && options.tables.length > 0 ? { tables: options.tables } : {}),
    ...(images.length > 0 ? { images } : {}),
  };
}

function num(v: number, digits = 2): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—';
}

function metricsRow(label: string, m: RegressionMetrics): string {
  const cells = [
    escapeXml(label),
    String(m.n),
    num(m.mae),
    num(m.rmse),
    num(m.bias),
    `${num(m.blandAltman.lowerLimit)} to ${num(m.blandAltman.upperLimit)}`,
    ...m.within.map((w) => pct(w.share)),
  ];
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
}

/**
 * The heading of a within-k column: `≤ 12 months (1 y)` where the unit is months and k a whole half-year, since the
 * published tables of age estimates give these shares in years (within 0.5, 1, 1.5 and 2 years).
 */
function withinHeading(threshold: number, unit: string): string {
  const years = unit === 'months' && threshold % 6 === 0 ? ` (${threshold / 12} y)` : '';
  return `≤ ${threshold} ${escapeXml(unit)}${years}`;
}

function metricsTable(rows: [string, RegressionMetrics][], unit: string): string {
  const first = rows[0]?.[1];
  const within = first ? first.within.map((w) => withinHeading(w.threshold, unit)) : [];
  const head = ['', 'n', 'MAE', 'RMSE', 'bias', '95% LoA', ...within].map((h) => `<th>${h}</th>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.map(([l, m]) => metricsRow(l, m)).join('')}</tbody></table>`;
}

/** This model's overall row beside the published ones, on the same within-k thresholds. */
function publishedTable(report: RegressionReport): string {
  const published = report.published ?? [];
  if (published.length === 0) return '';
  const m = report.metrics.overall;
  const head = ['', 'data', 'n', 'MAE', ...m.within.map((w) => withinHeading(w.threshold, report.unit))].map((h) => `<th>${h}</th>`).join('');
  const own = `<tr><th>this model</th><td>${escapeXml(report.data ?? 'these films')}</td><td>${m.n}</td><td>${num(m.mae)}</td>${m.within
    .map((w) => `<td>${pct(w.share)}</td>`)
    .join('')}</tr>`;
  const rows = published
    .map(
      (p) =>
        `<tr><th>${escapeXml(p.label)}</th><td>${escapeXml(p.data)}</td><td>—</td><td>${p.mae === null ? '—' : num(p.mae)}</td>${m.within
          .map((w) => {
            const share = p.within[String(w.threshold)];
            return `<td>${share === undefined ? '—' : pct(share)}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  const cites = published.map((p) => `<li>${escapeXml(p.label)}: ${escapeXml(p.citation)}</li>`).join('');
  return `<h2>Beside published results</h2>
<p class="note">Published numbers are on the publications' own test sets, not on these films; — where a publication
does not state the figure.</p>
<table><thead><tr>${head}</tr></thead><tbody>${own}${rows}</tbody></table><ul class="note">${cites}</ul>`;
}

/**
 * Render a report as one self-contained HTML document.
 * @param report - from {@link buildRegressionReport}
 */
export function renderRegressionReportHtml(report: RegressionReport): string {
  const { metrics, unit, samples } = report;
  const ba = metrics.overall.blandAltman;
  const scatter = scatterSvg({
    title: 'Predicted vs reference',
    xLabel: `reference (${unit})`,
    yLabel: `predicted (${unit})`,
    identityLine: true,
    points: samples.map((s) => ({ x: s.reference, y: s.predicted, ...(s.sex === undefined ? {} : { group: s.sex }) })),
  });
  const blandAltmanPlot = scatterSvg({
    title: 'Bland-Altman',
    xLabel: `mean of predicted and reference (${unit})`,
    yLabel: `predicted − reference (${unit})`,
    points: samples.map((s) => ({
      x: (s.predicted + s.reference) / 2,
      y: s.predicted - s.reference,
      ...(s.sex === undefined ? {} : { group: s.sex }),
    })),
    horizontalLines: [
      { y: ba.meanDifference, label: `mean ${num(ba.meanDifference)}` },
      { y: ba.upperLimit, label: `+1.96 SD ${num(ba.upperLimit)}`, dashed: true },
      { y: ba.lowerLimit, label: `−1.96 SD ${num(ba.lowerLimit)}`, dashed: true },
    ],
  });
  const bandPlot = barSvg({
    title: 'Mean absolute error by age band',
    yLabel: `MAE (${unit})`,
    bars: metrics.byAgeBand.map((b) => ({ label: b.band.label, value: b.metrics.mae, note: `n=${b.metrics.n}` })),
  });
  const folds = report.folds
    ? `<h2>Cross-validation (mean ± SD over folds)</h2><table><thead><tr><th>metric</th><th>mean</th><th>SD</th><th>folds</th></tr></thead><tbody>${Object.entries(
        report.folds,
      )
        .filter(([k]) => k.startsWith('overall.') || !k.includes('.'))
        .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${num(v.mean)}</td><td>${num(v.sd)}</td><td>${v.n}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return `${reportPageStart(report.title)}
<p class="note">Created ${escapeXml(report.createdAt)}. Errors are predicted − reference in ${escapeXml(unit)};
95% limits of agreement are mean difference ± 1.96 SD (Bland &amp; Altman 1986).</p>
${factsTable(report.facts)}
<h2>Overall</h2>
${metricsTable([['all', metrics.overall]], unit)}
${report.comparisons ? `<h2>On the same films</h2>\n${metricsTable([['this model', metrics.overall], ...report.comparisons.map((c): [string, RegressionMetrics] => [c.label, c.metrics])], unit)}` : ''}
${publishedTable(report)}
<h2>By sex</h2>
${metricsTable(Object.entries(metrics.bySex), unit)}
<h2>By age band (of the reference)</h2>
${metricsTable(metrics.byAgeBand.map((b) => [b.band.label, b.metrics]), unit)}
${folds}
<h2>Plots</h2>
<div class="plots">
${scatter}
${blandAltmanPlot}
${bandPlot}
</div>
${reportTablesHtml(report.tables ?? [])}
${imagesSection(report.images ?? [])}
${reportPageEnd(report)}`;
}

/**
 * Write `<name>.html` and `<name>.json` into a folder (created if missing).
 * @param dir - output folder
 * @param report - the report
 * @param name - base file name, default `report`
 * @param images - the image bytes to write beside the HTML (the list given to the report)
 */
export function writeRegressionReport(
  dir: string,
  report: RegressionReport,
  name = 'report',
  images: readonly ReportPageImage[] = [],
): { htmlPath: string; jsonPath: string } {
  writeReportImages(dir, images);
  mkdirSync(dir, { recursive: true });
  const htmlPath = join(dir, `${name}.html`);
  const jsonPath = join(dir, `${name}.json`);
  writeFileSync(htmlPath, renderRegressionReportHtml(report));
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  return { htmlPath, jsonPath };
}
