/**
 * The whole preprocessing chain from a Radiograph to a model-ready [1, N, N] float tensor:
 * VOI + MONOCHROME1 inversion (display values, bone bright) -> foreground crop -> laterality mirror ->
 * robust percentile normalisation -> optional CLAHE -> aspect-preserving resize with padding, or (`fit: 'stretch'`) the
 * whole film resized to the square without keeping its aspect, as some published sets were made.
 * Each step is a pure function exported on its own; this composes them and records what it did.
 */
import { toDisplay, type DisplayOptions, type Radiograph } from '../radiograph/index.js';
import { clahe, type ClaheOptions } from './clahe.js';
import { foregroundBox, type CropOptions } from './crop.js';
import { cropImage, PreprocessError, type Box, type FloatTensor, type GrayImage } from './image.js';
import { normalizeLaterality } from './laterality.js';
import { normalizePercentiles, type PercentileOptions } from './normalize.js';
import { resize, resizeToSquare, type LetterboxTransform } from './resize.js';

/** Options for `preprocess`; every step can be tuned or switched off. */
export interface PreprocessOptions {
  /** Output side N (default 512). */
  readonly size?: number;
  /** Which VOI to apply (default the file's first window/LUT). */
  readonly display?: DisplayOptions;
  /** Foreground crop (default on). */
  readonly crop?: boolean | CropOptions;
  /** Mirror images of the other side to this one (default 'L'); null keeps every image as acquired. */
  readonly lateralityTarget?: 'L' | 'R' | null;
  /** Percentile normalisation (default 0.5 / 99.5); false keeps display values. */
  readonly normalize?: false | PercentileOptions;
  /** CLAHE (default off). */
  readonly clahe?: boolean | ClaheOptions;
  /** Padding value after normalisation (default 0). */
  readonly padValue?: number;
  /**
   * `letterbox` (default): the long side to `size`, centred and padded. `stretch`: the image resized to size × size
   * without keeping its aspect (each film squashed or stretched to a square), for models trained on a set made that
   * way (RSNA bone-age films at 100 × 100 px, PIL's default filter).
   */
  readonly fit?: 'letterbox' | 'stretch';
  /**
   * With `fit: 'stretch'`: first resize to stretchVia × stretchVia with `stretchFilter`, the side and the filter the
   * training set was made with, then to `size`; so a full-resolution film carries the detail (and the aliasing) the
   * training films had, and a film already at that side passes unchanged.
   */
  readonly stretchVia?: number;
  /**
   * The filter of the `stretchVia` step: `cubic` (default; PIL's BICUBIC, antialiased, Pillow's default since 7.0) or
   * `nearest` (PIL's NEAREST, Pillow's default before 7.0).
   */
  readonly stretchFilter?: 'cubic' | 'nearest';
}

/** A model-ready tensor plus the record of each step, to map predictions and saliency back to the source. */
export interface PreprocessResult {
  /** [1, N, N], values in [0, 1] (after normalisation), bone bright. */
  readonly tensor: FloatTensor;
  /** The same data as an image. */
  readonly image: GrayImage;
  /** Crop box in source pixel coordinates (the full image when crop is off). */
  readonly crop: Box;
  /** Whether the image was mirrored for laterality. */
  readonly flipped: boolean;
  readonly letterbox: LetterboxTransform;
}

/**
 * The radiograph in display values as a GrayImage (VOI applied, MONOCHROME1 inverted once).
 * @param radiograph - decoded image
 * @param display - VOI choice
 */
export function displayImage(radiograph: Radiograph, display: DisplayOptions = {}): GrayImage {
  return { width: radiograph.columns, height: radiograph.rows, data: toDisplay(radiograph, display) };
}

/**
 * Preprocess a radiograph for a model.
 * @param radiograph - decoded image
 * @param options - step options
 *
 * @example
 * const image = await readRadiograph('samples/hand-0.png');
 * const { tensor } = preprocess(image, { size: 384 });
 * // tensor.shape -> [1, 384, 384]
 */
export function preprocess(radiograph: Radiograph, options: PreprocessOptions = {}): PreprocessResult {
  const size = options.size ?? 512;
  let image = displayImage(radiograph, options.display);
  let crop: Box = { x: 0, y: 0, width: image.width, height: image.height };
  if (options.crop !== false) {
    crop = foregroundBox(image, typeof options.crop === 'object' ? options.crop : {});
    image = cropImage(image, crop);
  }
  let flipped = false;
  const target = options.lateralityTarget === undefined ? 'L' : options.lateralityTarget;
  if (target) {
    const result = normalizeLaterality(image, radiograph.metadata.laterality, target);
    image = result.image;
    flipped = result.flipped;
  }
  // Display values are in [0, 1] by construction, so the percentile histogram needs no min/max pass.
  // The display image (and any crop/mirror copy of it) belongs to this call, so normalisation may overwrite it.
  if (options.normalize !== false) {
    image = normalizePercentiles(image, {
      range: { min: 0, max: 1 },
      inPlace: true,
      ...(options.normalize ?? {}),
    });
  }
  if (options.clahe) image = clahe(image, typeof options.clahe === 'object' ? options.clahe : {});
  const { image: square, transform } = options.fit === 'stretch' ? stretchToSquare(image, size, options.stretchVia, options.stretchFilter ?? 'cubic') : resizeToSquare(image, size, options.padValue ?? 0);
  return {
    tensor: { data: square.data, shape: [1, size, size] },
    image: square,
    crop,
    flipped,
    letterbox: transform,
  };
}

/**
 * The whole image resized to size × size (aspect not kept), optionally through a square of side `via` first (with
 * `viaFilter`); values are clipped to [0, 1] after that step, as PIL clips to the 8-bit range.
 */
function stretchToSquare(
  image: GrayImage,
  size: number,
  via: number | undefined,
  viaFilter: 'cubic' | 'nearest',
): { image: GrayImage; transform: LetterboxTransform } {
  if (!Number.isInteger(size) || size < 1 || size > 16384) throw new PreprocessError(`square size ${size} must be an integer in [1, 16384]`);
  let out = image;
  if (via !== undefined) {
    if (!Number.isInteger(via) || via < 1 || via > 16384) throw new PreprocessError(`stretchVia ${via} must be an integer in [1, 16384]`);
    if (viaFilter !== 'cubic' && viaFilter !== 'nearest') throw new PreprocessError(`stretchFilter ${String(viaFilter)} must be cubic or nearest`);
    out = resize(out, via, via, viaFilter);
    if (out !== image) out = { ...out, data: out.data.map((v) => Math.min(1, Math.max(0, v))) };
  }
  out = resize(out, size, size);
  return {
    image: out === image ? { width: size, height: size, data: Float32Array.from(image.data) } : out,
    transform: { scale: size / Math.max(image.width, image.height), offsetX: 0, offsetY: 0, contentWidth: size, contentHeight: size },
  };
}
