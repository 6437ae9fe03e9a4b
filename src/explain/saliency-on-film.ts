/**
 * A saliency map computed on a model input brought back onto the film it was made from: the inverse of the
 * preprocessing's crop, mirror and letterbox, so the map can be laid over the film a person looks at; and the
 * picture of that overlay, the film at its own shape (not the square, possibly squashed, model input).
 */
import { displayImage, type PreprocessResult } from '../preprocess/index.js';
import type { Radiograph } from '../radiograph/index.js';
import { overlayHeatmap } from './overlay.js';

/**
 * The input-space map sampled on a grid over the whole film (of any size: the film's own or a smaller preview of
 * it). A grid pixel takes the input pixel its centre falls in (nearest neighbour: the map is coarse already, and a
 * smoother resampling would invent structure between its cells); outside the crop, and on the letterbox padding,
 * the map is 0.
 * @param map - row-major, `pre.image.width` squared (the model input's grid)
 * @param pre - the film's preprocessing record
 * @param film - the film's size, in its own pixels (columns, rows)
 * @param grid - the output grid's size (default the film's)
 */
export function saliencyOnFilm(
  map: Float32Array,
  pre: PreprocessResult,
  film: { readonly width: number; readonly height: number },
  grid: { readonly width: number; readonly height: number } = film,
): Float32Array {
  const size = pre.image.width;
  if (map.length !== size * size) throw new RangeError(`saliency map has ${map.length} values for a ${size}×${size} input`);
  const { crop, letterbox: lb } = pre;
  const out = new Float32Array(grid.width * grid.height);
  const fx = film.width / grid.width;
  const fy = film.height / grid.height;
  // input pixels per film pixel inside the crop
  const sx = lb.contentWidth / crop.width;
  const sy = lb.contentHeight / crop.height;
  for (let gy = 0; gy < grid.height; gy++) {
    const y = (gy + 0.5) * fy - crop.y;
    if (y < 0 || y >= crop.height) continue;
    const v = Math.floor(lb.offsetY + y * sy);
    if (v < lb.offsetY || v >= Math.min(size, lb.offsetY + lb.contentHeight)) continue;
    for (let gx = 0; gx < grid.width; gx++) {
      let x = (gx + 0.5) * fx - crop.x;
      if (x < 0 || x >= crop.width) continue;
      if (pre.flipped) x = crop.width - x;
      const u = Math.floor(lb.offsetX + x * sx);
      if (u < lb.offsetX || u >= Math.min(size, lb.offsetX + lb.contentWidth)) continue;
      out[gy * grid.width + gx] = map[v * size + u] as number;
    }
  }
  return out;
}

/**
 * A grid no larger than `maxSidePx` on its longer side, with the film's aspect (never enlarged).
 * @param film - the film's size in its own pixels
 * @param maxSidePx - the longer side's limit
 */
export function pictureGrid(film: { readonly width: number; readonly height: number }, maxSidePx: number): { width: number; height: number } {
  const scale = Math.min(1, maxSidePx / Math.max(film.width, film.height));
  return { width: Math.max(1, Math.round(film.width * scale)), height: Math.max(1, Math.round(film.height * scale)) };
}

/**
 * The film's display values (its VOI applied, MONOCHROME1 inverted: preprocess's `displayImage`) sampled at the
 * grid's pixel centres as 8-bit grey.
 * @param radiograph - the film
 * @param grid - the output size (e.g. {@link pictureGrid})
 */
export function displayOnGrid(radiograph: Radiograph, grid: { readonly width: number; readonly height: number }): Uint8Array {
  const d = displayImage(radiograph);
  const out = new Uint8Array(grid.width * grid.height);
  const fx = d.width / grid.width;
  const fy = d.height / grid.height;
  for (let gy = 0; gy < grid.height; gy++) {
    const y = Math.min(d.height - 1, Math.floor((gy + 0.5) * fy));
    for (let gx = 0; gx < grid.width; gx++) {
      const x = Math.min(d.width - 1, Math.floor((gx + 0.5) * fx));
      out[gy * grid.width + gx] = Math.round(255 * Math.min(1, Math.max(0, d.data[y * d.width + x] ?? 0)));
    }
  }
  return out;
}

/**
 * The heat map laid over the film a reader looks at: the film's display at its own aspect, at most `maxSidePx` on
 * its longer side, with the input-space map brought back onto it ({@link saliencyOnFilm}) and blended in
 * ({@link overlayHeatmap}). Why: the model's input may be cropped, letterboxed or squashed to a square; a picture of
 * that input shows a distorted film, and a reader must find the map's places on the film itself.
 * @param map - the input-space map, `pre.image.width` squared
 * @param pre - the film's preprocessing record
 * @param radiograph - the film as analysed (after any correction of its orientation)
 * @param maxSidePx - the picture's longer side limit (default 1024)
 */
export function heatmapOnFilm(map: Float32Array, pre: PreprocessResult, radiograph: Radiograph, maxSidePx = 1024): { width: number; height: number; rgba: Uint8Array } {
  const film = { width: radiograph.columns, height: radiograph.rows };
  const grid = pictureGrid(film, maxSidePx);
  const grey = displayOnGrid(radiograph, grid);
  const display = { width: grid.width, height: grid.height, data: Float32Array.from(grey, (v) => v / 255) };
  const rgba = overlayHeatmap(display, { width: grid.width, height: grid.height, data: saliencyOnFilm(map, pre, film, grid) });
  return { width: grid.width, height: grid.height, rgba };
}
