/**
 * The gate's view of a film: the display image (VOI and MONOCHROME1 applied, as a person would see it), reduced to at
 * most twice the network's input side, optionally re-oriented, then the standard preprocessing (foreground crop,
 * percentile normalisation, letterbox) with no laterality mirror.
 *
 * Why no mirror: the gate must see the film as it is stored, to say which side it shows. Why the reduction first: the
 * training films are cached at that size, so training and inference prepare films the same way.
 */
import {
  displayImage,
  preprocess,
  reorientImage,
  resize,
  IDENTITY_REORIENTATION,
  type GrayImage,
  type PreprocessResult,
  type Reorientation,
} from '../../preprocess/index.js';
import { EMPTY_METADATA, type Radiograph } from '../../radiograph/index.js';

/**
 * The display image reduced so its long side is at most `2 × size` (never enlarged).
 * @param radiograph - the decoded film
 * @param size - the network's input side
 */
export function gateDisplay(radiograph: Radiograph, size: number): GrayImage {
  const image = displayImage(radiograph);
  const long = Math.max(image.width, image.height);
  const limit = 2 * size;
  if (long <= limit) return image;
  const f = limit / long;
  return resize(image, Math.max(1, Math.round(image.width * f)), Math.max(1, Math.round(image.height * f)));
}

/**
 * Prepare a reduced display image for the gate.
 * @param display - from {@link gateDisplay}
 * @param size - the network's input side
 * @param o - a reorientation to apply first (training transforms)
 */
export function gateInput(display: GrayImage, size: number, o: Reorientation = IDENTITY_REORIENTATION): PreprocessResult {
  const image = reorientImage(display, o);
  const film: Radiograph = {
    source: 'gate',
    format: 'png',
    rows: image.height,
    columns: image.width,
    pixels: image.data,
    photometric: 'MONOCHROME2',
    voi: { kind: 'range', min: 0, max: 1 },
    metadata: EMPTY_METADATA,
    transferSyntaxUid: null,
    numberOfFrames: 1,
    warnings: [],
  };
  return preprocess(film, { size, lateralityTarget: null });
}
