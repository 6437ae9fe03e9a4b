/**
 * The skull-infant-age task's recipes, classes and published results, as data.
 *
 * Why these choices: Lee et al. (Sci Rep 2024;14:16600) estimated the postnatal age of infants under 12 months from
 * plain AP and lateral skull radiographs with DenseNet-121 and EfficientNet-V2-M, as twelve monthly classes, and
 * reported the "corrected accuracy" that counts a prediction one month off as correct. Physis trains one network for
 * both views with the view as an input and one head per view (the views show different anatomy: the metopic and
 * sagittal sutures face the beam in AP, the lambdoid suture and the vault's profile in lateral), and gives two
 * answers per film: the age in months (a regression output, L1) and the monthly class (twelve logits, cross-entropy).
 */
import type { TrainRecipe } from '../../train/index.js';

/** Monthly age classes: class k holds ages in [k, k + 1) months; the task covers 0 to 12 months. */
export const AGE_CLASS_COUNT = 12;

/** The oldest age in months the task accepts as a label or answers for (exclusive). */
export const MAX_AGE_MONTHS = 12;

/** Class names as the reports show them. */
export const AGE_CLASS_NAMES: readonly string[] = Array.from({ length: AGE_CLASS_COUNT }, (_, k) => `${k} mo`);

/** The views, as the labels file and `--view` spell them; the network's view input codes AP 0 and LATERAL 1. */
export const SKULL_VIEWS = ['AP', 'LATERAL'] as const;
export type SkullView = (typeof SKULL_VIEWS)[number];

/** The monthly class of an age: floor(months), within 0 … 11. @param ageMonths - postnatal age in months */
export function ageClassOf(ageMonths: number): number {
  return Math.min(AGE_CLASS_COUNT - 1, Math.max(0, Math.floor(ageMonths)));
}

/** Weight of the class head's cross-entropy beside the regression output's L1 (months) in the training loss. */
export const CLASS_LOSS_WEIGHT = 1;

/** The recipe fields this task adds: one linear head per view on the shared features. */
export interface SkullRecipe extends TrainRecipe {
  /** One linear head per view (else one head, view only concatenated to the features). */
  readonly viewSpecificHeads: boolean;
}

/**
 * The CPU default: a half-width ResNet-18 (`resnet18_w32`) at 160 px, both views in one network with per-view heads.
 * Why 160 px: the sutures and fontanelles that carry the age are a few millimetres wide; at 128 px a 15-cm head
 * leaves about a millimetre per pixel, at 160 px about 0.8. No horizontal flips: a flipped AP film is still an AP film,
 * but a flipped lateral puts the face on the other side, which real lateral films (left side to the detector) do not.
 */
export const SKULL_INFANT_AGE_RECIPE: SkullRecipe = Object.freeze({
  arch: 'resnet18_w32',
  inputSize: 160,
  epochs: 40,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 40 }),
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
  preprocessing: Object.freeze({ fit: 'letterbox', stretchVia: 0, crop: true }),
  viewSpecificHeads: true,
}) as SkullRecipe;

/**
 * Lee et al.'s DenseNet-121, for a GPU (`--device cuda`), at 224 px (torchvision's evaluation size for the
 * architecture; the paper's own resize is not restated here), from scratch (no pretrained weights can be fetched).
 */
export const SKULL_DENSENET_RECIPE: SkullRecipe = Object.freeze({
  ...SKULL_INFANT_AGE_RECIPE,
  arch: 'densenet121',
  inputSize: 224,
  epochs: 60,
  batchSize: 32,
  earlyStopping: Object.freeze({ patience: 20 }),
}) as SkullRecipe;

/** Lee et al.'s EfficientNet-V2-M, for a GPU, at 480 px (torchvision's evaluation size for the architecture). */
export const SKULL_EFFICIENTNET_RECIPE: SkullRecipe = Object.freeze({
  ...SKULL_INFANT_AGE_RECIPE,
  arch: 'efficientnet_v2_m',
  inputSize: 480,
  epochs: 60,
  batchSize: 16,
  earlyStopping: Object.freeze({ patience: 20 }),
}) as SkullRecipe;

/** A published result the report shows beside its own (their clinical test set, not these films). */
export interface PublishedSkullResult {
  readonly label: string;
  readonly view: SkullView;
  /** Best run's corrected accuracy (±1 month), 0–1. */
  readonly correctedAccuracyMax: number;
  /** Mean and SD over the paper's repeated runs, 0–1. */
  readonly correctedAccuracyMean: number;
  readonly correctedAccuracySd: number;
}

/** Lee et al., Sci Rep 2024;14:16600 (abstract): corrected accuracy allowing ±1 month, per view and network. */
export const SKULL_PUBLISHED_RESULTS: readonly PublishedSkullResult[] = [
  { label: 'Lee et al. 2024, DenseNet-121', view: 'AP', correctedAccuracyMax: 0.794, correctedAccuracyMean: 0.78, correctedAccuracySd: 0.015 },
  { label: 'Lee et al. 2024, DenseNet-121', view: 'LATERAL', correctedAccuracyMax: 0.842, correctedAccuracyMean: 0.811, correctedAccuracySd: 0.029 },
  { label: 'Lee et al. 2024, EfficientNet-V2-M', view: 'AP', correctedAccuracyMax: 0.791, correctedAccuracyMean: 0.77, correctedAccuracySd: 0.023 },
  { label: 'Lee et al. 2024, EfficientNet-V2-M', view: 'LATERAL', correctedAccuracyMax: 0.873, correctedAccuracyMean: 0.851, correctedAccuracySd: 0.025 },
];

/** The citation of the published results. */
export const SKULL_PAPER = 'Lee HS, Kang J, Kim SE, Kim JH, Cho BJ. Estimating infant age from skull X-ray images using deep learning. Sci Rep 2024;14:16600. doi:10.1038/s41598-024-64489-4';

/** Their test set in words. */
export const SKULL_PAPER_DATA = '4,933 skull radiographs of 1,343 infants under 12 months (one hospital, head-trauma work-up 2010–2021)';

/** Said wherever a model trained on this task's phantom cohort is described. */
export const PHANTOM_NOTICE =
  'No public infant skull radiographs exist; a model trained on Physis\'s procedural phantoms validates the pipeline ' +
  '(data in, training, metrics, saliency) and is not a clinical model: its numbers say nothing about real infants.';
