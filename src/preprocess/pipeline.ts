/**
 * The whole preprocessing chain from a Radiograph to a model-ready [1, N, N] float tensor:
 * VOI + MONOCHROME1 inversion (display values, bone bright) -> foreground crop -> laterality mirror ->
 * robust percentile normalisation -> optional CLAHE -> aspect-preserving resize with padding.
 * Each step is a pure function exported on its own; this composes them and records what it did.
 */
import { toDisplay, type DisplayOptions, type Radiograph } from '../radiograph/index.js';
import { clahe, type ClaheOptions } from './clahe.js';
import { foregroundBox, type CropOptions } from './crop.js';
import { cropImage, type Box, type FloatTensor, type GrayImage } from './image.js';
import { normalizeLaterality } from './laterality.js';
import { normalizePercentiles, type PercentileOptions } from './normalize.js';
import { resizeToSquare, type LetterboxTransform } from './resize.js';

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
  const { image: square, transform } = resizeToSquare(image, size, options.padValue ?? 0);
  return {
    tensor: { data: square.data, shape: [1, size, size] },
    image: square,
    crop,
    flipped,
    letterbox: transform,
  };
}
