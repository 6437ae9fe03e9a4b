/**
 * A table of measurements a task adds to its report beside the generic sections (e.g. how much of the saliency falls
 * on the anatomy that carries the signal): a title, column heads and rows of cells already formatted, with an
 * optional note. Why a generic shape: the report writers stay task-free, and the same numbers reach the HTML page
 * and its JSON.
 */
import { MetricInputError } from './errors.js';
import { escapeXml } from './svg-plots.js';

/** One table of a report. */
export interface ReportTable {
  readonly title: string;
  readonly columns: readonly string[];
  /** One array of cells per row, as many as columns; the first cell heads the row. */
  readonly rows: readonly (readonly string[])[];
  /** A sentence shown under the table (what was measured, on which films). */
  readonly note?: string;
}

/**
 * Refuse a table whose rows do not match its columns.
 * @param t - the table
 */
export function checkReportTable(t: ReportTable): void {
  if (t.columns.length === 0) throw new MetricInputError(`report table '${t.title}' has no columns`);
  const bad = t.rows.findIndex((r) => r.length !== t.columns.length);
  if (bad >= 0) throw new MetricInputError(`report table '${t.title}': row ${bad + 1} has ${t.rows[bad]?.length} cells for ${t.columns.length} columns`);
}

/**
 * The tables as HTML sections (every cell escaped), or '' for none.
 * @param tables - the tables, checked
 */
export function reportTablesHtml(tables: readonly ReportTable[]): string {
  return tables
    .map((t) => {
      const head = t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join('');
      const body = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${escapeXml(c)}</th>` : `<td>${escapeXml(c)}</td>`)).join('')}</tr>`).join('');
      return `<h2>${escapeXml(t.title)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${t.note === undefined ? '' : `\n<p class="note">${escapeXml(t.note)}</p>`}`;
    })
    .join('\n');
}
