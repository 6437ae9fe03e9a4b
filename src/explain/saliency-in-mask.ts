/**
 * How much of a saliency map falls inside a region mask: energy share, area share, their ratio, and the pointing game.
 *
 * Why: a map is only evidence that a model uses the anatomy that carries the signal if its mass lies there more than
 * chance would put it. The pointing game (Zhang et al., "Top-down neural attention by excitation backprop", IJCV 2018)
 * scores a hit when the map's maximum lies inside the annotated region, allowing a tolerance of a few pixels (15 px in
 * the paper); the energy-based pointing game (Wang et al., "Score-CAM", CVPR Workshops 2020) uses the share of the
 * map's total inside the region, which rewards a map for being concentrated and not only for its peak. The energy
 * share alone rises with the region's size (a mask of the whole image scores 1), so the area share and their ratio,
 * the enrichment (1 = no better than a uniform map), are reported beside it.
 *
 * Resampling: the map is resampled to the mask's size, bilinearly with half-pixel centres (PyTorch `F.interpolate`
 * with `align_corners=False`, the same resampling Grad-CAM uses to bring the feature map to the input). The map is
 * continuous, so interpolating it is what its own upsampling already does; the mask is binary, and resampling it
 * would need a threshold or nearest-neighbour rule that moves its border by up to half a source pixel and changes its
 * area, which is the denominator of the chance level. Masks are expected at the map's resolution or finer; a mask
 * much coarser than the map samples the map at a few points (bilinear downsampling does not average).
 */
import { SaliencyError } from './errors.js';

/** Where a saliency map's mass and peak lie relative to a region mask. */
export interface SaliencyInMask {
  /** Σ saliency inside the mask / Σ saliency, 0–1 (energy-based pointing game). */
  readonly energyShare: number;
  /** Mask pixels / all pixels, 0–1: the energy share of a uniform map. */
  readonly areaShare: number;
  /** energyShare / areaShare; 1 = chance, above 1 = the map concentrates on the region. */
  readonly enrichment: number;
  /** The map's maximum lies inside the mask (dilated by `tolerancePx`). */
  readonly pointingHit: boolean;
}

/** Mean of {@link SaliencyInMask} over a set of images. */
export interface SaliencyInMaskSummary {
  readonly n: number;
  readonly meanEnergyShare: number;
  readonly meanAreaShare: number;
  readonly meanEnrichment: number;
  /** Share of images whose maximum hit the region (Zhang et al.'s pointing accuracy). */
  readonly pointingHitRate: number;
}

/** Options of {@link saliencyInMask}. */
export interface SaliencyInMaskOptions {
  /** Radius, in mask pixels, by which the mask is dilated for the pointing game (Zhang et al. use 15); default 0. */
  readonly tolerancePx?: number;
}

function checkImage(what: string, img: { width: number; height: number; data: ArrayLike<number> }): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new SaliencyError(
      `${what} size ${img.width}x${img.height} is not a positive whole number of pixels`,
    );
  }
  if (img.data.length !== img.width * img.height) {
    throw new SaliencyError(
      `${what} has ${img.data.length} values, expected ${img.width}x${img.height} = ${img.width * img.height}`,
    );
  }
}

/**
 * Source index pairs and weights of 1-D bilinear resampling with half-pixel centres (align_corners=False),
 * source coordinates below 0 clamped to 0 as PyTorch does.
 */
function axisWeights(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w1 = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = Math.max(0, (d + 0.5) * scale - 0.5);
    const lo = Math.min(Math.floor(src), inSize - 1);
    i0[d] = lo;
    i1[d] = Math.min(lo + 1, inSize - 1);
    w1[d] = src - lo;
  }
  return { i0, i1, w1 };
}

function resampleBilinear(
  map: { width: number; height: number; data: Float32Array },
  width: number,
  height: number,
): Float64Array {
  const out = new Float64Array(width * height);
  if (map.width === width && map.height === height) {
    out.set(map.data);
    return out;
  }
  const xs = axisWeights(map.width, width);
  const ys = axisWeights(map.height, height);
  for (let y = 0; y < height; y++) {
    const r0 = (ys.i0[y] as number) * map.width;
    const r1 = (ys.i1[y] as number) * map.width;
    const wy = ys.w1[y] as number;
    for (let x = 0; x < width; x++) {
      const c0 = xs.i0[x] as number;
      const c1 = xs.i1[x] as number;
      const wx = xs.w1[x] as number;
      const top = (map.data[r0 + c0] as number) * (1 - wx) + (map.data[r0 + c1] as number) * wx;
      const bottom = (map.data[r1 + c0] as number) * (1 - wx) + (map.data[r1 + c1] as number) * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}

/** Whether any mask pixel lies within `radiusPx` (Euclidean) of (px, py): a hit on the mask dilated by a disk. */
function nearMask(
  mask: { width: number; height: number; data: Uint8Array },
  px: number,
  py: number,
  radiusPx: number,
): boolean {
  const r = Math.floor(radiusPx);
  const r2 = radiusPx * radiusPx;
  for (let y = Math.max(0, py - r); y <= Math.min(mask.height - 1, py + r); y++) {
    for (let x = Math.max(0, px - r); x <= Math.min(mask.width - 1, px + r); x++) {
      if ((x - px) * (x - px) + (y - py) * (y - py) <= r2 && mask.data[y * mask.width + x] !== 0) return true;
    }
  }
  return false;
}

/**
 * Score one saliency map against one region mask (any non-zero mask pixel is inside). The map is resampled to the
 * mask's size (see the file comment); both must cover the same field of view, so their sizes must differ by one scale
 * factor, up to one pixel of rounding.
 * Throws SaliencyError for an empty mask, a map with a negative or non-finite value or no positive value, a data
 * length that does not match the size, or sizes of different aspect.
 * @param map - saliency values ≥ 0, row-major (a `SaliencyMap` fits)
 * @param mask - region mask, row-major, non-zero inside
 * @param o - pointing-game tolerance
 */
export function saliencyInMask(
  map: { width: number; height: number; data: Float32Array },
  mask: { width: number; height: number; data: Uint8Array },
  o: SaliencyInMaskOptions = {},
): SaliencyInMask {
  checkImage('saliency map', map);
  checkImage('mask', mask);
  const tolerancePx = o.tolerancePx ?? 0;
  if (!Number.isFinite(tolerancePx) || tolerancePx < 0)
    throw new SaliencyError(`tolerancePx ${tolerancePx} must be a finite number >= 0`);
  // Same aspect up to one pixel of rounding in either image: |map.h·mask.w − mask.h·map.w| divided by map.w is the
  // rounding in mask rows, divided by mask.w the rounding in map rows (likewise for columns). A 7x7 map passes against
  // a 224x225 mask (a resize that rounded), not against a 224x300 one (a different crop).
  const cross = Math.abs(map.height * mask.width - mask.height * map.width);
  if (cross > Math.max(map.width, mask.width, map.height, mask.height)) {
    throw new SaliencyError(
      `saliency map ${map.width}x${map.height} and mask ${mask.width}x${mask.height} have different aspect ratios; they cannot cover the same field of view`,
    );
  }
  let positive = false;
  for (let i = 0; i < map.data.length; i++) {
    const v = map.data[i] as number;
    // A signed map (raw Grad-CAM before its ReLU, a gradient) has no "share"; rectify or min–max scale it first.
    if (!Number.isFinite(v) || v < 0) {
      throw new SaliencyError(
        `saliency map value ${v} at pixel ${i % map.width},${Math.floor(i / map.width)} is not a finite number >= 0`,
      );
    }
    if (v > 0) positive = true;
  }
  if (!positive)
    throw new SaliencyError('saliency map is zero everywhere; its share inside a region is undefined');
  let maskPixels = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i] !== 0) maskPixels++;
  if (maskPixels === 0)
    throw new SaliencyError(
      `mask ${mask.width}x${mask.height} is empty; there is no region to score against`,
    );

  const values = resampleBilinear(map, mask.width, mask.height);
  let total = 0;
  let inside = 0;
  let argMax = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    total += v;
    if (mask.data[i] !== 0) inside += v;
    // First maximum in row-major order, as argmax in NumPy and PyTorch: deterministic when the peak is a plateau.
    if (v > (values[argMax] as number)) argMax = i;
  }
  const energyShare = inside / total;
  const areaShare = maskPixels / mask.data.length;
  const px = argMax % mask.width;
  const py = Math.floor(argMax / mask.width);
  const pointingHit = mask.data[argMax] !== 0 || (tolerancePx > 0 && nearMask(mask, px, py, tolerancePx));
  return { energyShare, areaShare, enrichment: energyShare / areaShare, pointingHit };
}

/**
 * Means over a set of images, and the pointing accuracy (hits / images) of Zhang et al. 2018.
 * The enrichment is averaged as is (the mean of ratios), so each image weighs the same whatever the size of its region.
 * @param rows - one {@link saliencyInMask} result per image (at least one)
 */
export function summariseSaliencyInMask(rows: readonly SaliencyInMask[]): SaliencyInMaskSummary {
  if (rows.length === 0) throw new SaliencyError('no saliency scores to summarise');
  const avg = (f: (r: SaliencyInMask) => number): number => rows.reduce((a, r) => a + f(r), 0) / rows.length;
  return {
    n: rows.length,
    meanEnergyShare: avg((r) => r.energyShare),
    meanAreaShare: avg((r) => r.areaShare),
    meanEnrichment: avg((r) => r.enrichment),
    pointingHitRate: avg((r) => (r.pointingHit ? 1 : 0)),
  };
}
