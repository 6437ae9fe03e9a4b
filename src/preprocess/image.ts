/** The plain image and tensor types preprocessing works on (no engine dependency; a later step converts). */

/** A single-channel float image, row-major. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** A model-ready tensor as plain data: `shape` is [channels, height, width]. */
export interface FloatTensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** A rectangle in pixel coordinates (x = column, y = row), half-open. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** A typed error for invalid preprocessing arguments (sizes, percentiles, boxes). */
export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

/**
 * Make a GrayImage, checking that the data length matches the shape.
 * @param width - columns
 * @param height - rows
 * @param data - row-major values (taken, not copied)
 */
export function grayImage(width: number, height: number, data: Float32Array): GrayImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new PreprocessError(`image shape ${width}x${height} is not positive integers`);
  }
  if (data.length !== width * height) {
    throw new PreprocessError(`image ${width}x${height} needs ${width * height} values, got ${data.length}`);
  }
  return { width, height, data };
}

/**
 * Copy out a sub-rectangle.
 * @param image - source
 * @param box - inside the image
 */
export function cropImage(image: GrayImage, box: Box): GrayImage {
  if (
    box.x < 0 ||
    box.y < 0 ||
    box.width < 1 ||
    box.height < 1 ||
    box.x + box.width > image.width ||
    box.y + box.height > image.height
  ) {
    throw new PreprocessError(
      `crop box ${JSON.stringify(box)} is outside the ${image.width}x${image.height} image`,
    );
  }
  const out = new Float32Array(box.width * box.height);
  for (let r = 0; r < box.height; r++) {
    const start = (box.y + r) * image.width + box.x;
    out.set(image.data.subarray(start, start + box.width), r * box.width);
  }
  return { width: box.width, height: box.height, data: out };
}

/**
 * Mirror left-right (columns reversed).
 * @param image - source
 */
export function flipHorizontal(image: GrayImage): GrayImage {
  const { width, height } = image;
  const out = new Float32Array(width * height);
  for (let r = 0; r < height; r++) {
    const row = r * width;
    for (let c = 0; c < width; c++) out[row + c] = image.data[row + width - 1 - c] ?? 0;
  }
  return { width, height, data: out };
}
