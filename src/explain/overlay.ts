/**
 * Heat-map overlays: a saliency map blended over the preprocessed radiograph, as RGBA pixels or a PNG.
 *
 * Why: a map is only interpretable on the anatomy it explains; blending with opacity proportional to
 * the map keeps the radiograph visible where the model did not look. The colour scale is a
 * perceptually ordered blue → cyan → yellow → red ramp (a "jet"-like map), where red is most salient.
 */
import { PNG } from 'pngjs';
import { SaliencyError } from './errors.js';

/** A grayscale image in [0, 1], row-major. */
export interface GrayImage01 {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** RGB of the heat colour at t in [0, 1], each channel 0–255. @param t - map value */
export function heatColor(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t));
  const stops: [number, [number, number, number]][] = [
    [0, [0, 0, 255]],
    [0.33, [0, 255, 255]],
    [0.66, [255, 255, 0]],
    [1, [255, 0, 0]],
  ];
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i] as [number, [number, number, number]];
    const [t0, c0] = stops[i - 1] as [number, [number, number, number]];
    if (v <= t1) {
      const f = (v - t0) / (t1 - t0);
      return [0, 1, 2].map((j) => Math.round((c0[j] as number) + f * ((c1[j] as number) - (c0[j] as number)))) as [number, number, number];
    }
  }
  return [255, 0, 0];
}

/**
 * Blend a [0, 1] map over a [0, 1] image: per pixel, colour weight alpha × map value.
 * @param image - the radiograph as the model saw it
 * @param map - saliency, same size, in [0, 1]
 * @param alpha - opacity at map value 1 (default 0.5)
 */
export function overlayHeatmap(image: GrayImage01, map: { width: number; height: number; data: Float32Array }, alpha = 0.5): Uint8Array {
  if (image.width !== map.width || image.height !== map.height) {
    throw new SaliencyError(`map ${map.width}x${map.height} does not match the image ${image.width}x${image.height}`);
  }
  const n = image.width * image.height;
  const rgba = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const g = Math.min(1, Math.max(0, image.data[i] as number)) * 255;
    const m = Math.min(1, Math.max(0, map.data[i] as number));
    const a = alpha * m;
    const c = heatColor(m);
    rgba[i * 4] = Math.round((1 - a) * g + a * c[0]);
    rgba[i * 4 + 1] = Math.round((1 - a) * g + a * c[1]);
    rgba[i * 4 + 2] = Math.round((1 - a) * g + a * c[2]);
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/**
 * Encode RGBA pixels as a PNG file's bytes.
 * @param rgba - `width * height * 4` bytes
 * @param width - pixels
 * @param height - pixels
 */
export function encodeRgbaPng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) throw new SaliencyError(`RGBA has ${rgba.length} bytes, expected ${width}x${height}x4`);
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}
