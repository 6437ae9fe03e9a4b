/**
 * Preprocessing: pure functions from a Radiograph to a model-ready float tensor (plain Float32Array data;
 * conversion to engine tensors happens above). Steps: VOI/inversion, crop, laterality, normalise, CLAHE, resize.
 */
export {
  type GrayImage,
  type FloatTensor,
  type Box,
  PreprocessError,
  grayImage,
  cropImage,
  flipHorizontal,
} from './image.js';
export { percentiles, normalizePercentiles, type PercentileOptions } from './normalize.js';
export { clahe, type ClaheOptions } from './clahe.js';
export { foregroundBox, stripUniformBorders, otsuThreshold, type CropOptions } from './crop.js';
export { resize, resizeToSquare, type LetterboxTransform } from './resize.js';
export { normalizeLaterality } from './laterality.js';
export { reorientImage, reorientRadiograph, inverseReorientation, IDENTITY_REORIENTATION, type Reorientation } from './reorient.js';
export { preprocess, displayImage, type PreprocessOptions, type PreprocessResult } from './pipeline.js';
export {
  augment,
  NO_AUGMENTATION,
  applyAugmentation,
  sampleAugmentation,
  validateAugmentation,
  augmentationInverseMatrix,
  warpAffine,
  adjustIntensity,
  randomCrop,
  identityParams,
  AugmentationError,
  type RandomSource,
  type AffineMatrix,
  type AugmentationConfig,
  type AugmentationParams,
} from './augment.js';
