/**
 * The one adapter over @napi-rs/canvas: draw lines of text in a dark box onto RGB pixels, wrapping to the width.
 *
 * Why: burned-in text needs a font rasteriser, and a maintained library does it better than anything hand-written;
 * @napi-rs/canvas ships its Skia binary as an npm optional platform package (no system libraries, no build). It is
 * loaded lazily on first use, as the style asks of heavy dependencies. The font is DejaVu Sans (Debian
 * fonts-dejavu-core) where installed, so the pixels do not depend on which system fonts happen to be present.
 */
import { existsSync } from 'node:fs';

interface Ctx2d {
  font: string;
  fillStyle: string;
  textBaseline: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  measureText(text: string): { width: number };
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  putImageData(data: unknown, x: number, y: number): void;
  createImageData(w: number, h: number): { data: Uint8ClampedArray };
}
interface CanvasModule {
  createCanvas(width: number, height: number): { getContext(kind: '2d'): Ctx2d };
  GlobalFonts: { registerFromPath(path: string, alias?: string): unknown; has(family: string): boolean };
}

const DEJAVU_SANS = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const FAMILY = 'PhysisBurnIn';
let canvasModule: Promise<CanvasModule> | null = null;

async function loadCanvas(): Promise<CanvasModule> {
  const specifier = '@napi-rs/canvas';
  canvasModule ??= (import(specifier) as Promise<CanvasModule>).then((m) => {
    if (existsSync(DEJAVU_SANS) && !m.GlobalFonts.has(FAMILY)) m.GlobalFonts.registerFromPath(DEJAVU_SANS, FAMILY);
    return m;
  });
  return canvasModule;
}

/** Interleaved 8-bit RGB pixels, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/**
 * Burn text lines into an image: white text on a dark, opaque box at the top left, wrapped to the image width.
 * @param image - the pixels (not modified)
 * @param lines - the text, one paragraph per line
 * @param fontPx - the font size in pixels
 * @returns a new image with the text
 */
export async function burnInText(image: RgbImage, lines: readonly string[], fontPx: number): Promise<RgbImage> {
  const { createCanvas, GlobalFonts } = await loadCanvas();
  const { width, height } = image;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  const rgba = g.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    rgba.data[i * 4] = image.data[i * 3] as number;
    rgba.data[i * 4 + 1] = image.data[i * 3 + 1] as number;
    rgba.data[i * 4 + 2] = image.data[i * 3 + 2] as number;
    rgba.data[i * 4 + 3] = 255;
  }
  g.putImageData(rgba, 0, 0);
  g.font = `${fontPx}px ${GlobalFonts.has(FAMILY) ? FAMILY : 'sans-serif'}`;
  g.textBaseline = 'top';
  const pad = Math.max(2, Math.round(fontPx / 3));
  const maxWidth = width - 2 * pad;
  const wrapped = lines.flatMap((line) => wrap(line, maxWidth, (t) => g.measureText(t).width));
  const lineHeight = Math.round(fontPx * 1.25);
  const boxWidth = Math.min(width, Math.ceil(Math.max(0, ...wrapped.map((l) => g.measureText(l).width))) + 2 * pad);
  const boxHeight = Math.min(height, wrapped.length * lineHeight + 2 * pad);
  g.fillStyle = 'rgb(0, 0, 0)';
  g.fillRect(0, 0, boxWidth, boxHeight);
  g.fillStyle = 'rgb(255, 255, 255)';
  wrapped.forEach((l, i) => g.fillText(l, pad, pad + i * lineHeight));
  const out = g.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[i * 3] = out[i * 4] as number;
    data[i * 3 + 1] = out[i * 4 + 1] as number;
    data[i * 3 + 2] = out[i * 4 + 2] as number;
  }
  return { width, height, data };
}

/** Greedy word wrap; a word wider than the line stays on its own line (clipped by the image edge). */
function wrap(line: string, maxWidth: number, measure: (t: string) => number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of line.split(/\s+/).filter((w) => w.length > 0)) {
    const next = current === '' ? word : `${current} ${word}`;
    if (current !== '' && measure(next) > maxWidth) {
      out.push(current);
      current = word;
    } else current = next;
  }
  if (current !== '') out.push(current);
  return out.length === 0 ? [''] : out;
}
