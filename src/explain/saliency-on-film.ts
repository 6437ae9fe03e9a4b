/**
 * A saliency map computed on a model input brought back onto the film it was made from: the inverse of the
 * preprocessing's crop, mirror and letterbox, so the map can be laid over the film a person looks at.
 */
import type { PreprocessResult } from '../preprocess/index.js';

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
