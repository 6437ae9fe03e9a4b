/**
 * Masks drawn on a film (in its own pixels) brought into a model input's geometry, so a saliency map computed on the
 * input can be measured against them.
 */
import type { PreprocessResult } from '../preprocess/index.js';

/**
 * A film-space mask (union of the given mask files) brought into the model input's geometry: the crop, the mirror
 * and the letterbox of its preprocessing; an input pixel is inside when any film pixel under it is (a structure a
 * few film pixels wide, a suture or a physis, must not vanish when the film is shrunk). 0 on the padding.
 * @param masks - 8-bit mask images of the film's size (non-zero: inside)
 * @param pre - the film's preprocessing record
 */
export function maskInInput(masks: readonly { width: number; height: number; data: Float32Array }[], pre: PreprocessResult): Uint8Array {
  const size = pre.image.width;
  const out = new Uint8Array(size * size);
  const { crop, letterbox: lb } = pre;
  const sx = crop.width / lb.contentWidth;
  const sy = crop.height / lb.contentHeight;
  // film pixels [lo, hi) under input pixels [a, a + 1) along one axis, within the crop
  const span = (a: number, offset: number, scale: number, extent: number): [number, number] => [
    Math.max(0, Math.floor((a - offset) * scale)),
    Math.min(extent, Math.ceil((a + 1 - offset) * scale)),
  ];
  const inside = (x: number, y: number): boolean => masks.some((m) => (m.data[y * m.width + x] as number) > 0);
  for (let v = 0; v < size; v++) {
    const [y0, y1] = span(v, lb.offsetY, sy, crop.height);
    if (y0 >= y1) continue;
    for (let u = 0; u < size; u++) {
      let [x0, x1] = span(u, lb.offsetX, sx, crop.width);
      if (x0 >= x1) continue;
      if (pre.flipped) [x0, x1] = [crop.width - x1, crop.width - x0];
      let hit = false;
      for (let y = y0; y < y1 && !hit; y++) for (let x = x0; x < x1 && !hit; x++) hit = inside(crop.x + x, crop.y + y);
      if (hit) out[v * size + u] = 1;
    }
  }
  return out;
}

