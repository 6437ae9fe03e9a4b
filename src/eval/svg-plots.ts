/**
 * Minimal inline-SVG charts for self-contained reports: scatter (with identity and horizontal reference
 * lines) and bar charts.
 *
 * Why: the HTML report must open offline from a single file (no script, no CDN), so plots are plain SVG
 * written here; only what the regression report needs (predicted vs reference, Bland-Altman, error by band).
 */

/** One point of a scatter plot; `group` picks the colour and the legend entry. */
export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly group?: string;
}

/** A horizontal line across a scatter plot (Bland-Altman mean and limits). */
export interface HorizontalLine {
  readonly y: number;
  readonly label: string;
  readonly dashed?: boolean;
}

/** Options of {@link scatterSvg}. */
export interface ScatterOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ScatterPoint[];
  /** Draw y = x and use the same range on both axes. */
  readonly identityLine?: boolean;
  readonly horizontalLines?: readonly HorizontalLine[];
  readonly width?: number;
  readonly height?: number;
}

/** One bar, optionally with a second (signed) value drawn as a marker. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Extra annotation printed above the bar (e.g. `n=12`). */
  readonly note?: string;
}

/** Options of {@link barSvg}. */
export interface BarOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly bars: readonly Bar[];
  readonly width?: number;
  readonly height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const MARGIN = { left: 60, right: 20, top: 36, bottom: 48 };

/** Escape text for HTML/SVG content and attribute values. @param s - raw text */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * "Nice" tick values (1, 2 or 5 × 10^k steps) covering [min, max].
 * @param min - lower end of the data
 * @param max - upper end of the data
 * @param target - approximate number of ticks
 */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Number(v.toFixed(10)));
  }
  if ((ticks[ticks.length - 1] ?? max) < max) ticks.push(Number(((ticks[ticks.length - 1] ?? max) + step).toFixed(10)));
  return ticks;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 2 : 1);
}

interface Frame {
  readonly sx: (x: number) => number;
  readonly sy: (y: number) => number;
  readonly parts: string[];
}

function frame(
  title: string,
  xLabel: string,
  yLabel: string,
  xTicks: number[],
  yTicks: number[],
  width: number,
  height: number,
  showXTicks = true,
): Frame {
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks[xTicks.length - 1] ?? 1;
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks[yTicks.length - 1] ?? 1;
  const pw = width - MARGIN.left - MARGIN.right;
  const ph = height - MARGIN.top - MARGIN.bottom;
  const sx = (x: number): number => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * pw;
  const sy = (y: number): number => MARGIN.top + ph - ((y - y0) / (y1 - y0 || 1)) * ph;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
  ];
  for (const t of showXTicks ? xTicks : []) {
    const x = sx(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + ph + 14}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + pw / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text x="14" y="${MARGIN.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${MARGIN.top + ph / 2})">${escapeXml(yLabel)}</text>`,
  );
  return { sx, sy, parts };
}

/**
 * A scatter plot as an SVG string, with optional identity line and labelled horizontal lines.
 * @param o - points, labels and reference lines
 */
export function scatterSvg(o: ScatterOptions): string {
  const width = o.width ?? 520;
  const height = o.height ?? 420;
  const xs = o.points.map((p) => p.x);
  const ys = [...o.points.map((p) => p.y), ...(o.horizontalLines ?? []).map((l) => l.y)].filter(Number.isFinite);
  let xMin = Math.min(...xs);
  let xMax = Math.max(...xs);
  let yMin = Math.min(...ys);
  let yMax = Math.max(...ys);
  if (o.identityLine === true) {
    xMin = yMin = Math.min(xMin, yMin);
    xMax = yMax = Math.max(xMax, yMax);
  }
  const xTicks = niceTicks(xMin, xMax);
  const yTicks = o.identityLine === true ? xTicks : niceTicks(yMin, yMax);
  const f = frame(o.title, o.xLabel, o.yLabel, xTicks, yTicks, width, height);
  const lo = xTicks[0] ?? 0;
  const hi = xTicks[xTicks.length - 1] ?? 1;
  if (o.identityLine === true) {
    f.parts.push(
      `<line class="identity" x1="${f.sx(lo).toFixed(1)}" y1="${f.sy(lo).toFixed(1)}" x2="${f.sx(hi).toFixed(1)}" y2="${f.sy(hi).toFixed(1)}" stroke="#555" stroke-dasharray="4 3"/>`,
    );
  }
  for (const l of o.horizontalLines ?? []) {
    if (!Number.isFinite(l.y)) continue;
    const y = f.sy(l.y).toFixed(1);
    const dash = l.dashed === true ? ' stroke-dasharray="6 4"' : '';
    f.parts.push(`<line class="hline" x1="${f.sx(lo).toFixed(1)}" y1="${y}" x2="${f.sx(hi).toFixed(1)}" y2="${y}" stroke="#b00"${dash}/>`);
    f.parts.push(`<text x="${(f.sx(hi) - 4).toFixed(1)}" y="${(Number(y) - 4).toFixed(1)}" text-anchor="end" fill="#b00">${escapeXml(l.label)}</text>`);
  }
  const groups = [...new Set(o.points.map((p) => p.group ?? ''))].sort();
  const colour = (g: string): string => PALETTE[groups.indexOf(g) % PALETTE.length] ?? '#000';
  for (const p of o.points) {
    f.parts.push(
      `<circle cx="${f.sx(p.x).toFixed(1)}" cy="${f.sy(p.y).toFixed(1)}" r="2.6" fill="${colour(p.group ?? '')}" fill-opacity="0.6"/>`,
    );
  }
  groups
    .filter((g) => g !== '')
    .forEach((g, i) => {
      const y = MARGIN.top + 12 + i * 14;
      f.parts.push(`<circle cx="${MARGIN.left + 12}" cy="${y}" r="4" fill="${colour(g)}"/>`);
      f.parts.push(`<text x="${MARGIN.left + 20}" y="${y}" dominant-baseline="middle">${escapeXml(g)}</text>`);
    });
  f.parts.push('</svg>');
  return f.parts.join('\n');
}

/**
 * A bar chart as an SVG string (bars start at zero).
 * @param o - bars and labels
 */
export function barSvg(o: BarOptions): string {
  const width = o.width ?? 520;
  const height = o.height ?? 320;
  const maxV = Math.max(0, ...o.bars.map((b) => b.value).filter(Number.isFinite));
  const yTicks = niceTicks(0, maxV === 0 ? 1 : maxV * 1.1);
  const n = Math.max(1, o.bars.length);
  const f = frame(o.title, '', o.yLabel, [0, n], yTicks, width, height, false);
  const slot = (width - MARGIN.left - MARGIN.right) / n;
  o.bars.forEach((b, i) => {
    const x = MARGIN.left + i * slot + slot * 0.15;
    const y = f.sy(Math.max(0, b.value));
    const base = f.sy(0);
    f.parts.push(
      `<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${(base - y).toFixed(1)}" fill="#1f77b4"/>`,
    );
    const cx = (x + slot * 0.35).toFixed(1);
    f.parts.push(`<text x="${cx}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${fmt(Number(b.value.toFixed(1)))}${b.note ? ` (${escapeXml(b.note)})` : ''}</text>`);
    f.parts.push(`<text x="${cx}" y="${(base + 28).toFixed(1)}" text-anchor="middle">${escapeXml(b.label)}</text>`);
  });
  f.parts.push('</svg>');
  return f.parts.join('\n');
}
