/**
 * The frame every HTML report shares: the page head with its style sheet and title, the table of facts, and the
 * report's JSON embedded as an inert block at the end. Why one frame: the regression, classification and ordinal
 * reports are read side by side (one per task), so they look alike, and the embedded JSON is escaped
 * the same way in each (a `</script>` inside a string must not end the block).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricInputError } from './errors.js';
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

/** An image shown in a report (e.g. a saliency example), written next to the HTML. */
export interface ReportPageImage {
  /** Plain file name (letters, digits, `.`, `_`, `-`), written into the report's folder. */
  readonly file: string;
  readonly caption: string;
  readonly bytes: Uint8Array;
}

const SAFE_FILE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Refuse image names that are not plain, distinct file names.
 * @param images - the report's images (names only are read)
 */
export function checkImageFiles(images: readonly { readonly file: string }[]): void {
  const seen = new Set<string>();
  for (const image of images) {
    // A name with a slash or `..` would write outside the report's folder, and one with a scheme or space would
    // not resolve as a relative <img src>; report images are files beside the HTML and nothing else.
    if (!SAFE_FILE.test(image.file)) {
      throw new MetricInputError(`image file '${image.file}' must be a plain file name (letters, digits, '.', '_', '-')`);
    }
    if (seen.has(image.file)) throw new MetricInputError(`image file '${image.file}' is given twice`);
    seen.add(image.file);
  }
}

/**
 * The images of a report as captioned figures (by relative file name); empty when there are none.
 * @param images - names and captions
 */
export function imagesSection(images: readonly { readonly file: string; readonly caption: string }[]): string {
  if (images.length === 0) return '';
  const figures = images
    .map((i) => `<figure><img src="${escapeXml(i.file)}" alt="${escapeXml(i.caption)}"><figcaption>${escapeXml(i.caption)}</figcaption></figure>`)
    .join('\n');
  return `<h2>Images</h2>\n<div class="plots">${figures}</div>`;
}

/**
 * Write a report's image files into its folder (created if missing), after checking their names.
 * @param dir - the report's folder
 * @param images - names and bytes
 */
export function writeReportImages(dir: string, images: readonly ReportPageImage[]): void {
  checkImageFiles(images);
  mkdirSync(dir, { recursive: true });
  for (const image of images) writeFileSync(join(dir, image.file), image.bytes);
}
