/**
 * Contrast Limited Adaptive Histogram Equalisation (Zuiderveld, "Contrast Limited Adaptive Histogram
 * Equalization", Graphics Gems IV, 1994): per-tile histograms clipped at `clipLimit` × the uniform bin height,
 * the excess redistributed evenly, and the tile mappings blended bilinearly between tile centres. Bone-age
 * pipelines use it to even out exposure across the hand (e.g. the RSNA 2017 challenge entries).
 */
import { PreprocessError, type GrayImage } from './image.js';

/** CLAHE parameters (defaults match OpenCV's createCLAHE: clip 2.0 relative to the uniform height, 8×8 tiles). */
export interface ClaheOptions {
  /** Tiles across and down (default 8). */
  readonly tiles?: number;
  /** Clip limit as a multiple of the uniform bin height (default 2; ≤ 1 disables clipping's effect). */
  readonly clipLimit?: number;
  /** Histogram bins (default 256). */
  readonly bins?: number;
}

/**
 * Apply CLAHE to an image with values in [0, 1] (values outside are clipped first); output in [0, 1].
 * @param image - source in [0, 1]
 * @param options - tiles, clip limit, bins
 */
export function clahe(image: GrayImage, options: ClaheOptions = {}): GrayImage {
  const tiles = options.tiles ?? 8;
  const clipLimit = options.clipLimit ?? 2;
  const bins = options.bins ?? 256;
  const { width, height, data } = image;
  if (!Number.isInteger(tiles) || tiles < 1 || tiles > Math.min(width, height)) {
    throw new PreprocessError(
      `CLAHE tiles ${tiles} must be an integer in [1, min(width, height) = ${Math.min(width, height)}]`,
    );
  }
  if (!Number.isInteger(bins) || bins < 2 || bins > 65536)
    throw new PreprocessError(`CLAHE bins ${bins} must be in [2, 65536]`);
  if (!(clipLimit > 0)) throw new PreprocessError(`CLAHE clipLimit ${clipLimit} must be > 0`);

  const binOf = new Uint32Array(width * height);
  for (let i = 0; i < binOf.length; i++) {
    const v = data[i] ?? 0;
    const b = Math.floor((v < 0 ? 0 : v > 1 ? 1 : v) * bins);
    binOf[i] = b >= bins ? bins - 1 : b;
  }
  // Tile t covers rows [floor(t*h/T), floor((t+1)*h/T)).
  const edgeY = Array.from({ length: tiles + 1 }, (_, t) => Math.floor((t * height) / tiles));
  const edgeX = Array.from({ length: tiles + 1 }, (_, t) => Math.floor((t * width) / tiles));
  const maps = new Float32Array(tiles * tiles * bins);
  const hist = new Float64Array(bins);
  for (let ty = 0; ty < tiles; ty++) {
    for (let tx = 0; tx < tiles; tx++) {
      hist.fill(0);
      const y0 = edgeY[ty] ?? 0;
      const y1 = edgeY[ty + 1] ?? height;
      const x0 = edgeX[tx] ?? 0;
      const x1 = edgeX[tx + 1] ?? width;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const b = binOf[y * width + x] ?? 0;
          hist[b] = (hist[b] ?? 0) + 1;
        }
      }
      const area = (y1 - y0) * (x1 - x0);
      const limit = Math.max(1, (clipLimit * area) / bins);
      let excess = 0;
      for (let b = 0; b < bins; b++) {
        const h = hist[b] ?? 0;
        if (h > limit) {
          excess += h - limit;
          hist[b] = limit;
        }
      }
      const add = excess / bins;
      let acc = 0;
      const base = (ty * tiles + tx) * bins;
      for (let b = 0; b < bins; b++) {
        acc += (hist[b] ?? 0) + add;
        maps[base + b] = area > 0 ? acc / area : 0;
      }
    }
  }
  const out = new Float32Array(width * height);
  // Bilinear blend between the mappings of the four nearest tile centres (clamped at the borders).
  const tileH = height / tiles;
  const tileW = width / tiles;
  for (let y = 0; y < height; y++) {
    const gy = (y + 0.5) / tileH - 0.5;
    const ty0 = Math.max(0, Math.min(tiles - 1, Math.floor(gy)));
    const ty1 = Math.min(tiles - 1, ty0 + 1);
    const wy = Math.max(0, Math.min(1, gy - ty0));
    for (let x = 0; x < width; x++) {
      const gx = (x + 0.5) / tileW - 0.5;
      const tx0 = Math.max(0, Math.min(tiles - 1, Math.floor(gx)));
      const tx1 = Math.min(tiles - 1, tx0 + 1);
      const wx = Math.max(0, Math.min(1, gx - tx0));
      const b = binOf[y * width + x] ?? 0;
      const m00 = maps[(ty0 * tiles + tx0) * bins + b] ?? 0;
      const m01 = maps[(ty0 * tiles + tx1) * bins + b] ?? 0;
      const m10 = maps[(ty1 * tiles + tx0) * bins + b] ?? 0;
      const m11 = maps[(ty1 * tiles + tx1) * bins + b] ?? 0;
      out[y * width + x] = (1 - wy) * ((1 - wx) * m00 + wx * m01) + wy * ((1 - wx) * m10 + wx * m11);
    }
  }
  return { width, height, data: out };
}
