/**
 * Laterality normalisation: mirror an image of the other side so a model sees one side only (bone-age models
 * are trained on left hands, per Greulich & Pyle; knees likewise by convention of the training set).
 */
import { flipHorizontal, type GrayImage } from './image.js';

/**
 * Mirror `image` when its laterality is the opposite of `target`; unknown (null, U, B) laterality is left as is.
 * @param image - source
 * @param laterality - the file's (Image) Laterality
 * @param target - the side the model expects
 */
export function normalizeLaterality(
  image: GrayImage,
  laterality: 'L' | 'R' | 'U' | 'B' | null,
  target: 'L' | 'R',
): { image: GrayImage; flipped: boolean } {
  if ((laterality === 'L' || laterality === 'R') && laterality !== target)
    return { image: flipHorizontal(image), flipped: true };
  return { image, flipped: false };
}
