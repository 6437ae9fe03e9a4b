/**
 * Saliency: Grad-CAM for every zoo architecture, CAM for GAP + linear heads, and PNG overlays.
 *
 * @example
 * const map = gradCam(model, x, { extra: sex });          // x: [1, 1, 256, 256]
 * writeFileSync('heat.png', encodeRgbaPng(overlayHeatmap(image, map), 256, 256));
 */
export { SaliencyError, SaliencyStageError } from './errors.js';
export { gradCam, classActivationMap, stageBeforeLast, type SaliencyMap, type SaliencyMethod, type SaliencyOptions, type SaliencyRegion } from './grad-cam.js';
export { overlayHeatmap, encodeRgbaPng, heatColor, type GrayImage01 } from './overlay.js';
export {
  saliencyInMask,
  summariseSaliencyInMask,
  type SaliencyInMask,
  type SaliencyInMaskOptions,
  type SaliencyInMaskSummary,
} from './saliency-in-mask.js';
export { maskInInput } from './mask-in-input.js';
export { saliencyOnFilm, heatmapOnFilm, pictureGrid, displayOnGrid } from './saliency-on-film.js';
