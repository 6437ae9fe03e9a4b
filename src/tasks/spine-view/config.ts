/**
 * The spine-view task's recipes, default class scheme, reject target and published results, as data.
 *
 * Why these choices: the reproduced study (Spine Deformity 2024;12(6):1607, doi 10.1007/s43390-024-00933-9) sorted AP
 * and lateral spine radiographs of pediatric scoliosis patients into 10 categories — for each view two pre-operative
 * and three post-operative ones — with an EfficientNet-B6 tuned on a validation set, for an imaging registry. A
 * registry files films without a person, so Physis adds a reject option: below a confidence threshold chosen on the
 * validation films (so that the films it answers reach {@link SPINE_TARGET_ACCURACY}), a film goes to human review
 * with its probabilities, never to a silent class.
 */
import type { TrainRecipe } from '../../train/index.js';

/**
 * The paper's 10-class scheme as Physis names it. The paper's own category names are not public here, so these
 * names say only what is known: the view (`ap`, `lateral`), the stage (`preop`, `postop`) and the category's number
 * within that view and stage, in the paper's order (pre-operative 1–2, post-operative 1–3). Any other scheme works
 * without code changes: the classes are whatever labels.csv names (see labels.ts), and the bundle stores them.
 */
export const SPINE_VIEW_DEFAULT_CLASSES: readonly string[] = Object.freeze(
  ['ap', 'lateral'].flatMap((view) => [
    ...[1, 2].map((k) => `${view}_preop_${k}`),
    ...[1, 2, 3].map((k) => `${view}_postop_${k}`),
  ]),
);

/** The accuracy the reject threshold aims the answered validation films at. */
export const SPINE_TARGET_ACCURACY = 0.99;

/** The recipe fields this task adds. */
export interface SpineViewRecipe extends TrainRecipe {
  /**
   * Logits of the network's head. A labels file names K ≤ this many classes; logit k is the k-th class of the bundle's
   * `classes.json` and logits from K on are unused (masked out of the loss and of every answer). Default 10, the
   * paper's scheme; a scheme with more classes sets it (`--set headClasses=N`).
   */
  readonly headClasses: number;
  /** Accuracy the films answered above the reject threshold must reach on the validation (dev) films. */
  readonly targetAccuracy: number;
}

/**
 * The CPU default: a half-width ResNet-18 (`resnet18_w32`) at 160 px, 8 epochs, the film cropped to its foreground and
 * letterboxed (spine films are about twice as tall as wide: a stretch to a square would halve the vertebrae's width).
 * Why 160 px: the classes differ by metal (rods 5–6 mm thick and tens of centimetres long, screw heads of about a
 * centimetre) and by projection; at 160 px a 50–90-cm film gives about 3–6 mm per pixel, so rods are lines and screw
 * heads a few pixels, and a 2-core CPU trains the 1,100-film semi-synthetic cohort in about 20 minutes (measured:
 * about 5 films/s on the first, decoding epoch at 192 px). The paper's recipe (below) is for a GPU. No left-right flips: the preprocessing
 * guards flips for films not brought to one side first, and a registry's films keep their side markers and the
 * heart on the left; small rotations and exposure changes model positioning and technique.
 */
export const SPINE_VIEW_RECIPE: SpineViewRecipe = Object.freeze({
  arch: 'resnet18_w32',
  inputSize: 160,
  epochs: 8,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 8 }),
  averaging: Object.freeze({ fromEpoch: 0, perEpoch: 1 }),
  augmentation: Object.freeze({
    rotationDeg: 6,
    scale: [0.92, 1.08] as const,
    translate: 0.04,
    brightness: 0.05,
    contrast: [0.85, 1.18] as const,
    gamma: [0.8, 1.25] as const,
    cropSize: null,
    flipLeftRightProbability: 0,
    fill: 0,
  }),
  seed: 1,
  preprocessing: Object.freeze({ fit: 'letterbox', stretchVia: 0, crop: true }),
  headClasses: SPINE_VIEW_DEFAULT_CLASSES.length,
  targetAccuracy: SPINE_TARGET_ACCURACY,
}) as SpineViewRecipe;

/**
 * The paper's EfficientNet-B6, for a GPU (`--device cuda`), at 528 px: torchvision's evaluation size for B6 (the size
 * its ImageNet weights were trained at, Tan & Le 2019's compound scaling); the paper's own input size is not restated
 * here. From scratch (no pretrained weights can be fetched), so more epochs than a fine-tune would need.
 */
export const SPINE_VIEW_EFFICIENTNET_RECIPE: SpineViewRecipe = Object.freeze({
  ...SPINE_VIEW_RECIPE,
  arch: 'efficientnet_b6',
  inputSize: 528,
  epochs: 60,
  batchSize: 16,
  earlyStopping: Object.freeze({ patience: 15 }),
}) as SpineViewRecipe;

/** The citation of the reproduced study. */
export const SPINE_VIEW_PAPER = 'Spine Deformity 2024;12(6):1607. doi:10.1007/s43390-024-00933-9 (EfficientNet-B6 classification of pediatric scoliosis spine radiographs for a registry)';

/** Their published results, per view (their clinical test films, not these). */
export const SPINE_VIEW_PUBLISHED_RESULTS = [
  { label: 'Spine Deformity 2024, EfficientNet-B6, AP films', data: '1,166 AP test films (5 classes)', accuracy: 1.0, macroF1: null, note: 'precision 0.98–1.00 per class; weaker on classes with < 100 films' },
  { label: 'Spine Deformity 2024, EfficientNet-B6, lateral films', data: '843 lateral test films (5 classes)', accuracy: 1.0, macroF1: null, note: 'precision 0.91–1.00 per class; weaker on classes with < 100 films' },
] as const;

/** Said wherever a model trained on simulated post-operative films is described. */
export const SIMULATED_NOTICE =
  'Post-operative films of this model\'s training data were simulated (metal drawn onto real pre-operative films); ' +
  'it has not been validated on real post-operative radiographs and is not a clinical model.';
