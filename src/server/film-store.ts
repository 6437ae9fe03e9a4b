/**
 * What the server keeps of a film beside the registry, in its data folder, named by the film's sha256 (never by a
 * patient): the film's pixels as analysed (no header, so nothing of the DICOM's identifiers), each task's heat map
 * on the same grid, and the overlay picture with the answer burned in. Written atomically (a temporary file renamed),
 * so a reader never sees half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRgbaPng, heatColor } from '../explain/index.js';
import type { Radiograph } from '../radiograph/index.js';

/** A film reduced for the viewer: rows × columns uint16, bright = dense, with its default window in those units. */
export interface FilmPreview {
  readonly rows: number;
  readonly columns: number;
  readonly windowCenter: number;
  readonly windowWidth: number;
  readonly data: Uint16Array;
}

/** The size of a preview, stored beside its pixels, and (a task's preview) how its heat map was made. */
export type FilmPreviewInfo = Omit<FilmPreview, 'data'> & { readonly heatmapMethod?: string };

const U16_MAX = 65535;

/**
 * The film's modality values reduced to at most `maxSide` pixels on the long side (box average) and mapped linearly
 * onto uint16 over their range; MONOCHROME1 inverted (PS3.3 C.7.6.3.1.2) so that bright is always dense; the default
 * window is the file's first VOI window (PS3.3 C.11.2.1.2) mapped into the same units, else the whole range.
 * @param r - the film
 * @param maxSide - the long side's limit in pixels
 */
export function filmPreview(r: Radiograph, maxSide = 1024): FilmPreview {
  const factor = Math.max(1, Math.max(r.rows, r.columns) / maxSide);
  const rows = Math.max(1, Math.round(r.rows / factor));
  const columns = Math.max(1, Math.round(r.columns / factor));
  const values = new Float32Array(rows * columns);
  for (let y = 0; y < rows; y++) {
    const y0 = Math.floor((y * r.rows) / rows);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * r.rows) / rows));
    for (let x = 0; x < columns; x++) {
      const x0 = Math.floor((x * r.columns) / columns);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * r.columns) / columns));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += r.pixels[yy * r.columns + xx] as number;
      values[y * columns + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max > min ? max - min : 1;
  const invert = r.photometric === 'MONOCHROME1';
  const data = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const u = Math.round((((values[i] as number) - min) / span) * U16_MAX);
    data[i] = invert ? U16_MAX - u : u;
  }
  let windowCenter = U16_MAX / 2;
  let windowWidth = U16_MAX;
  const w = r.voi.kind === 'window' ? r.voi.windows[0] : undefined;
  if (w !== undefined && w.width > 0) {
    const c = ((w.center - min) / span) * U16_MAX;
    windowCenter = invert ? U16_MAX - c : c;
    windowWidth = (w.width / span) * U16_MAX;
  }
  return { rows, columns, windowCenter: Math.round(windowCenter * 10) / 10, windowWidth: Math.round(windowWidth * 10) / 10, data };
}

/** Saliency below this is drawn fully transparent: Grad-CAM is rarely exactly 0, and a faint tint over the whole film hides it. */
const HEAT_FLOOR = 0.15;

/**
 * A saliency map as an RGBA picture: the heat colour of each value with alpha rising from 0 at {@link HEAT_FLOOR} to 1
 * at the map's maximum, so that laid over the film at any opacity the film shows through where the model did not look.
 * @param map - values in [0, 1], row-major
 * @param width - columns
 * @param height - rows
 */
export function heatmapRgbaPng(map: Float32Array, width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < map.length; i++) {
    const m = Math.min(1, Math.max(0, map[i] as number));
    const [r, g, b] = heatColor(m);
    rgba[i * 4] = r;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = b;
    rgba[i * 4 + 3] = Math.round(Math.max(0, (m - HEAT_FLOOR) / (1 - HEAT_FLOOR)) * 255);
  }
  return encodeRgbaPng(rgba, width, height);
}

/** The server's data folder: where previews, heat maps and overlays of analysed films are kept. */
export class FilmStore {
  constructor(readonly dir: string) {
    for (const sub of ['films', 'heatmaps', 'overlays']) mkdirSync(join(dir, sub), { recursive: true });
  }

  private write(path: string, data: Uint8Array | string): void {
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  }

  private static key(sha256: string, task: string | null): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RangeError('a film is named by its sha256');
    if (task !== null && !/^[a-z0-9-]+$/.test(task)) throw new RangeError(`not a task name: ${task}`);
    return task === null ? sha256 : `${sha256}.${task}`;
  }

  /** Keep a film's preview: the film as read (`task` null) or as a task analysed it (after the gate's corrections). */
  putFilm(sha256: string, task: string | null, p: FilmPreview, heatmapMethod?: string): void {
    const k = FilmStore.key(sha256, task);
    const { data, ...size } = p;
    const info: FilmPreviewInfo = heatmapMethod === undefined ? size : { ...size, heatmapMethod };
    this.write(join(this.dir, 'films', `${k}.u16`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.write(join(this.dir, 'films', `${k}.json`), JSON.stringify(info));
  }

  /** A kept preview's size and window, or null. */
  filmInfo(sha256: string, task: string | null): FilmPreviewInfo | null {
    const path = join(this.dir, 'films', `${FilmStore.key(sha256, task)}.json`);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as FilmPreviewInfo) : null;
  }

  /** A kept preview's pixels (little-endian uint16), or null. */
  filmPixels(sha256: string, task: string | null): Buffer | null {
    const path = join(this.dir, 'films', `${FilmStore.key(sha256, task)}.u16`);
    return existsSync(path) ? readFileSync(path) : null;
  }

  putHeatmap(sha256: string, task: string, png: Uint8Array): void {
    this.write(join(this.dir, 'heatmaps', `${FilmStore.key(sha256, task)}.png`), png);
  }

  heatmap(sha256: string, task: string): Buffer | null {
    const path = join(this.dir, 'heatmaps', `${FilmStore.key(sha256, task)}.png`);
    return existsSync(path) ? readFileSync(path) : null;
  }

  putOverlay(sha256: string, task: string, png: Uint8Array): void {
    this.write(join(this.dir, 'overlays', `${FilmStore.key(sha256, task)}.png`), png);
  }

  overlay(sha256: string, task: string): Buffer | null {
    const path = join(this.dir, 'overlays', `${FilmStore.key(sha256, task)}.png`);
    return existsSync(path) ? readFileSync(path) : null;
  }
}
