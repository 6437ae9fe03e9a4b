/**
 * The frame every HTML report shares: the page head with its style sheet and title, the table of facts, and the
 * report's JSON embedded as an inert block at the end. Why one frame: the regression, classification and ordinal
 * reports are read side by side (one per task), so they look alike, and the embedded JSON is escaped
 * the same way in each (a `</script>` inside a string must not end the block).
 */
import { escapeXml } from './svg-plots.js';

const STYLE = `body{font-family:sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
thead th{background:#f3f3f3}
tbody th{text-align:left}
.plots{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.note{color:#666;font-size:12px}
.lead{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px}
figure{margin:0;max-width:360px}
figure img{max-width:100%}
figcaption{font-size:12px;color:#444}`;

/**
 * The start of a report page, up to and including its heading and its lead notes.
 * @param title - the page title and heading (plain text)
 * @param notes - sentences shown highlighted under the heading (plain text)
 */
export function reportPageStart(title: string, notes: readonly string[] = []): string {
  const lead = notes.map((n) => `<p class="lead">${escapeXml(n)}</p>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
${STYLE}
</style></head>
<body>
<h1>${escapeXml(title)}</h1>
${lead}`;
}

/**
 * The facts of a report (model, data, settings) as a two-column table; empty when there are none.
 * @param facts - name → value (plain text)
 */
export function factsTable(facts: Readonly<Record<string, string>>): string {
  const rows = Object.entries(facts)
    .map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`)
    .join('');
  return rows === '' ? '' : `<table>${rows}</table>`;
}

/**
 * The end of a report page: the report as JSON in an inert script block (no `<` left in it, so no string can close
 * the block), then the closing tags.
 * @param report - the report object
 */
export function reportPageEnd(report: unknown): string {
  return `<script type="application/json" id="report-data">${JSON.stringify(report).replace(/</g, '\\u003c')}</script>
</body></html>
`;
}
