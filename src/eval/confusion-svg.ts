/**
 * A confusion matrix as an inline-SVG heat map: counts in the cells, shading by the share of the reference row.
 *
 * Why: a table of k × k counts hides where the errors go; shading each cell by its share of the reference row
 * (the row-normalised matrix, i.e. the per-class recall on the diagonal, as scikit-learn's
 * `ConfusionMatrixDisplay` with `normalize='true'`) makes a class with few cases as readable as a common one,
 * while the printed counts keep the absolute numbers. Rows are the reference class and columns the predicted one,
 * the layout of scikit-learn and of most classification papers. For ordinal classes the cells counted correct by
 * a tolerance ("corrected accuracy") are outlined, so the band the headline figure forgives is visible.
 * Plain SVG with no script, for the same reason as the other plots (the report must open offline from one file).
 */
import { MetricInputError } from './errors.js';
import { escapeXml } from './svg-plots.js';

/** Options of {@link confusionSvg}. */
export interface ConfusionSvgOptions {
  readonly title: string;
  /** Class names in index order (row and column labels). */
  readonly classNames: readonly string[];
  /** `confusion[r][p]`: cases of reference class r predicted as p (as from `confusionMatrix`). */
  readonly confusion: readonly (readonly number[])[];
  /** Outline the off-diagonal cells with |r − p| ≤ tolerance (ordinal classes); default 0 (none). */
  readonly tolerance?: number;
  /** Axis titles; default `reference` (rows) and `predicted` (columns). */
  readonly referenceLabel?: string;
  readonly predictedLabel?: string;
}

/** Approximate width of one character of 11-px sans-serif text, for laying out labels without a renderer. */
const CHAR_WIDTH_PX = 6.5;

/**
 * Render a confusion matrix as an SVG heat map; each cell is a `<rect class="cell">` with its count as text.
 * @param o - matrix, class names, title and tolerance band
 */
export function confusionSvg(o: ConfusionSvgOptions): string {
  const k = o.classNames.length;
  if (k === 0) throw new MetricInputError('a confusion heat map needs at least one class');
  if (o.confusion.length !== k || o.confusion.some((row) => row.length !== k)) {
    throw new MetricInputError(`confusion matrix is not ${k} x ${k} (one row and column per class name)`);
  }
  const tolerance = o.tolerance ?? 0;
  const cellPx = Math.max(18, Math.min(44, Math.round(420 / k)));
  const labelPx = Math.max(...o.classNames.map((c) => c.length)) * CHAR_WIDTH_PX;
  // Column labels that do not fit under their cell are turned 45° (many ordinal classes with long names).
  const rotate = labelPx > cellPx - 4;
  const left = 34 + labelPx + 8;
  const top = 36;
  const gridPx = cellPx * k;
  const bottom = 22 + (rotate ? labelPx * Math.SQRT1_2 + 14 : 16);
  const right = 44;
  const width = Math.ceil(left + gridPx + right);
  const height = Math.ceil(top + gridPx + bottom);
  const countFontPx = Math.min(11, Math.max(8, Math.round(cellPx * 0.38)));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="confusion" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`,
  ];
  o.confusion.forEach((row, r) => {
    const rowTotal = row.reduce((a, b) => a + b, 0);
    const y = top + r * cellPx;
    row.forEach((count, p) => {
      const share = rowTotal === 0 ? 0 : count / rowTotal;
      const x = left + p * cellPx;
      const band = r !== p && Math.abs(r - p) <= tolerance;
      const stroke =
        r === p
          ? ' stroke="#222" stroke-width="1.5"'
          : band
            ? ' stroke="#888" stroke-dasharray="3 2"'
            : ' stroke="#ddd"';
      parts.push(
        `<rect class="cell" x="${x}" y="${y}" width="${cellPx}" height="${cellPx}" fill="#1f77b4" fill-opacity="${share.toFixed(3)}"${stroke}>` +
          `<title>${escapeXml(`${o.classNames[r] ?? r} → ${o.classNames[p] ?? p}: ${count} (${(share * 100).toFixed(1)}% of row)`)}</title></rect>`,
      );
      const ink = count === 0 ? '#bbb' : share > 0.55 ? '#fff' : '#222';
      parts.push(
        `<text x="${x + cellPx / 2}" y="${y + cellPx / 2}" text-anchor="middle" dominant-baseline="middle" font-size="${countFontPx}" fill="${ink}">${count}</text>`,
      );
    });
    parts.push(
      `<text x="${left - 6}" y="${y + cellPx / 2}" text-anchor="end" dominant-baseline="middle">${escapeXml(o.classNames[r] ?? String(r))}</text>`,
    );
    parts.push(
      `<text x="${left + gridPx + 6}" y="${y + cellPx / 2}" dominant-baseline="middle" fill="#666">${rowTotal}</text>`,
    );
  });
  o.classNames.forEach((name, p) => {
    const x = left + p * cellPx + cellPx / 2;
    const y = top + gridPx + 14;
    parts.push(
      rotate
        ? `<text x="${x}" y="${y}" text-anchor="end" transform="rotate(-45 ${x} ${y})">${escapeXml(name)}</text>`
        : `<text x="${x}" y="${y}" text-anchor="middle">${escapeXml(name)}</text>`,
    );
  });
  parts.push(`<text x="${left + gridPx + 6}" y="${top - 6}" fill="#666">n</text>`);
  parts.push(
    `<text x="${left + gridPx / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(o.predictedLabel ?? 'predicted')}</text>`,
  );
  parts.push(
    `<text x="14" y="${top + gridPx / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + gridPx / 2})">${escapeXml(o.referenceLabel ?? 'reference')}</text>`,
  );
  parts.push('</svg>');
  return parts.join('\n');
}
