/**
 * Inference: model bundles (weights + ONNX graph + model card, hash-verified) and predictors over them that
 * run on ONNX Runtime or libtorch behind one interface.
 */
export {
  BundleIncompleteError,
  BundleIntegrityError,
  CompositeError,
  CompositeMemberError,
  ModelCardError,
  PredictorError,
} from './errors.js';
export {
  MODEL_CARD_SCHEMA_VERSION,
  validateModelCard,
  type CardExtraInput,
  type CardArtifact,
  type CardFile,
  type CardMetric,
  type CardOutput,
  type ModelCard,
} from './model-card.js';
export {
  ARTIFACT_FILE_PATTERN,
  BUNDLE_FILES,
  loadBundle,
  physisVersion,
  saveBundle,
  sha256Hex,
  type ArtifactContents,
  type BundleArtifact,
  type BundleContents,
  type ModelBundle,
  type ModelCardDraft,
} from './bundle.js';
export {
  ONNX_EXTRA_NAME,
  ONNX_INPUT_NAME,
  type DenseArray,
  type PredictionProvenance,
  type PredictionResult,
  type Predictor,
  type PredictorBackend,
} from './predictor.js';
export { createOnnxPredictor } from './onnx-predictor.js';
export type { OrtSessionOptions } from './ort-adapter.js';
export { createTorchPredictor, loadBundleModel, type TorchPredictorOptions } from './torch-predictor.js';
export { createPredictor, type CreatePredictorOptions } from './create-predictor.js';
export {
  addOnnxToBundle,
  DEFAULT_FEATURE_MAP_OUTPUT,
  exportZooModelOnnx,
  saveModelBundle,
  type SaveModelBundleOptions,
  type ZooCardDraft,
  type ZooExportOptions,
} from './model-bundle.js';
export {
  COMPOSITE_FILE,
  COMPOSITE_SCHEMA_VERSION,
  isCompositeDir,
  loadComposite,
  saveComposite,
  validateComposite,
  type CompositeBundle,
  type CompositeDraft,
  type CompositeInterval,
  type CompositeKind,
  type CompositeManifest,
  type CompositeMember,
} from './composite.js';
export { createMemberRunner, forwardVariants, type MemberRunner, type VariantOutputs } from './member-runner.js';
export { openModelSet, disposeModelSet, membersFor, subsetRefusal, type ModelSet, type ModelSetMember } from './model-set.js';
