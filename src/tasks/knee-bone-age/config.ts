/**
 * The knee-bone-age task's recipes, age range, report groups and the published results, as data.
 *
 * Why these choices: the published system (knee bone age by transfer from a hand model, doi
 * 10.1177/23259671261424923) fine-tuned a ConvNeXt with sex, skeletal age and chronological age as inputs; on a CPU
 * the default starts instead from the shipped hand model's ResNet-18 backbone (same architecture and input size, so
 * every backbone weight transfers) and fine-tunes it with a lower learning rate, the head learning the knee from the
 * hand's features plus sex and chronological age.
 */
import type { AgeBand, PublishedResult } from '../../eval/index.js';
import type { TrainRecipe } from '../../train/index.js';

/** Patients up to 18 years, as the published cohort (≤ 18 y); chronological ages beyond are outside the model's range. */
export const KNEE_MAX_AGE_MONTHS = 216;

/** Chronological age enters the network in units of 100 months, so its input is of the order of the sex input's. */
export const AGE_INPUT_SCALE_MONTHS = 100;

/**
 * The network's extra inputs: sex (1 = M, 0 = F, as the hand model's) and chronological age in units of 100 months.
 * @param sex - M or F
 * @param chronologicalAgeMonths - age at the study
 */
export function kneeExtraInputs(sex: 'M' | 'F', chronologicalAgeMonths: number): number[] {
  return [sex === 'M' ? 1 : 0, chronologicalAgeMonths / AGE_INPUT_SCALE_MONTHS];
}

/**
 * The default recipe (CPU): the hand model's architecture at its input size, so `--init models/hand-bone-age`
 * transfers every backbone weight and the head's columns; 15 epochs at lr 1e-3 with a one-epoch warm-up (at 3e-4 the
 * dev MAE was 8.58 after 6 epochs against 8.86 for the chronological age alone, on the phantom cohort), batch 32, mild affine and intensity
 * augmentation (no flips: right knees are mirrored to left ones by laterality before augmentation). Films are
 * letterboxed without the foreground crop: a knee film is already cropped to the joint.
 */
export const KNEE_BONE_AGE_RECIPE: TrainRecipe = Object.freeze({
  arch: 'resnet18',
  inputSize: 128,
  epochs: 15,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 15 }),
  averaging: Object.freeze({ fromEpoch: 0, perEpoch: 1 }),
  augmentation: Object.freeze({
    rotationDeg: 8,
    scale: [0.92, 1.08] as const,
    translate: 0.05,
    brightness: 0.05,
    contrast: [0.85, 1.18] as const,
    gamma: [0.8, 1.25] as const,
    cropSize: null,
    flipLeftRightProbability: 0,
    fill: 0,
  }),
  seed: 1,
  preprocessing: Object.freeze({ fit: 'letterbox', stretchVia: 0, crop: false }),
}) as TrainRecipe;

/**
 * The published recipe, for a GPU: ConvNeXt-Tiny (Liu et al., CVPR 2022) at 224 px with sex and chronological age as
 * inputs, 50 epochs, AdamW; it starts from ImageNet in the paper, here from scratch or from a hand bundle of the same
 * architecture (`--init`).
 */
export const KNEE_CONVNEXT_RECIPE: TrainRecipe = Object.freeze({
  ...KNEE_BONE_AGE_RECIPE,
  arch: 'convnext_tiny',
  inputSize: 224,
  epochs: 50,
  optimizer: Object.freeze({ lr: 1e-4, weightDecay: 0.05 }),
}) as TrainRecipe;

/** Report age bands (of the reference bone age), in months. */
export const KNEE_AGE_BANDS_MONTHS: readonly AgeBand[] = Object.freeze([
  { label: '0-5 y', minInclusive: 0, maxExclusive: 60 },
  { label: '5-10 y', minInclusive: 60, maxExclusive: 120 },
  { label: '10-13 y', minInclusive: 120, maxExclusive: 156 },
  { label: '13-16 y', minInclusive: 156, maxExclusive: 192 },
  { label: '16+ y', minInclusive: 192, maxExclusive: Number.POSITIVE_INFINITY },
]);

/** Within-k thresholds of the report, in months (as bone-age reports give them). */
export const KNEE_WITHIN_THRESHOLDS_MONTHS: readonly number[] = Object.freeze([6, 12, 18, 24]);

const PAPER = 'Knee bone age estimation by transfer from a hand bone-age model; Orthop J Sports Med 2026, doi:10.1177/23259671261424923';

/** The published system's numbers (its own 2,374 knees; not these films). */
export const KNEE_PUBLISHED_RESULTS: readonly PublishedResult[] = Object.freeze<PublishedResult[]>([
  { label: 'ConvNeXt knee model vs ground-truth bone age', citation: PAPER, data: '2,374 cropped knee radiographs ≤ 18 y, test split', mae: 5.02, within: {} },
  { label: 'ConvNeXt knee model vs the hand model\'s pseudo-labels', citation: PAPER, data: 'the same test split', mae: 3.43, within: {} },
  { label: 'abbreviated Fels method (knee) vs ground truth', citation: PAPER, data: 'the same test split', mae: 9.59, within: {} },
]);

/** Said in every card, report and answer of a model trained on the semi-synthetic cohort. */
export const KNEE_PHANTOM_NOTICE =
  'the knee films were simulated (procedural phantoms rendered at each child\'s skeletal age) and paired with real hand films; ' +
  'no model trained on real paediatric knees ships, because no such films with bone ages are public: this validates the pipeline, not a clinical model';
