/**
 * The hand-bone-age task's default recipe, as data.
 *
 * Why: the CLI, the trainer and the model card read the same object, so `physis train hand-bone-age` with no
 * options trains the CPU recipe, `--recipe gpu --device cuda` reproduces the shipped model; `--config recipe.json` and `--set key=value` override it field by field.
 * The recipe follows the PyTorch baseline of the hand paper (ResNet-18 with a 1-channel stem, sex concatenated
 * before the head, L1 loss, AdamW 1e-3 with warm-up and cosine decay, light affine/intensity augmentation, no flips;
 * Larson et al., Radiology 2018).
 */
import type { AgeBand, PublishedResult } from '../../eval/index.js';
import type { TrainRecipe } from '../../train/index.js';

/** The hand recipe: the trainer's fields, and whether each sex has its own linear head. */
export interface HandRecipe extends TrainRecipe {
  /** One linear head per sex on the shared features (else one head, sex only concatenated). */
  readonly sexSpecificHeads: boolean;
}

/**
 * The default recipe of the hand-bone-age model, for a CPU: about 75 minutes on 2 cores, dev MAE 9.48 months (the
 * shipped bundle is its GPU variant below; its card records the command).
 *
 * Why these numbers: the RSNA training films at 100 × 100 px (12,257 films, ../shared/data/rsna-hand-lowres) are
 * fourteen times the 846 films at up to 512 px, and more data is what every published bone-age system had; at 100 px
 * the film is what the set holds (each film squashed to a square with old Pillow's default filter, NEAREST: the set's
 * films have the aliasing of a nearest-neighbour squash, not the smoothness of an antialiased one, measured on the films
 * both sets hold), so a full-resolution film is squashed the same way first (`stretchVia`, `stretchFilter`), then
 * both are resampled to 128 px so the last feature map is 4 × 4 rather than 3 × 3 (measured below). A half-width ResNet-18 (`resnet18_w32`, 87 images/s here against 28 for
 * the full width at 128 px) buys three times the epochs of the full network on a 2-core budget. Sex gets its own
 * linear head (sex-specific heads; the hand paper trained one model per sex). AdamW with weight decay 0.05, warm-up
 * and cosine decay as the PyTorch reference of the low-res set; batch 32.
 */
export const HAND_BONE_AGE_RECIPE: HandRecipe = Object.freeze({
  arch: 'resnet18_w32',
  inputSize: 128,
  epochs: 50,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 40 }),
  averaging: Object.freeze({ fromEpoch: 0, perEpoch: 1 }),
  augmentation: Object.freeze({
    rotationDeg: 15,
    scale: [0.9, 1.1] as const,
    translate: 0.06,
    brightness: 0.05,
    contrast: [0.85, 1.18] as const,
    gamma: [0.8, 1.25] as const,
    cropSize: null,
    flipLeftRightProbability: 0,
    fill: 0,
  }),
  seed: 1,
  preprocessing: Object.freeze({ fit: 'stretch', stretchVia: 100, stretchFilter: 'nearest', crop: false }),
  sexSpecificHeads: true,
}) as HandRecipe;

/**
 * The recipe of the shipped default model, for a GPU (`--recipe gpu --device cuda`): the default recipe with the
 * full-width ResNet-18 and 95 epochs. Why: on the dev films it beat the CPU recipe on every measure but the interval
 * width (MAE 9.20 against 9.48 months, within 12 months 74.6% against 69.5%, held-out interval coverage 0.887 against
 * 0.835), and it trained in about 8 minutes on one H200, where this network would need about 11 hours of a 2-core CPU
 * (28 images/s at 128 px). 95 epochs is what a probe of the epoch time left room for in that GPU session. Why 128 px
 * and not more: at 160 and 224 px (34 epochs each, a later GPU session) the models fitted the 100-px dev films as well
 * or better but lost on the same films at ≤512 px squashed through 100 px (MAE 8.64–8.82 against 8.55; README,
 * "Larger inputs").
 */
export const HAND_GPU_RECIPE: HandRecipe = Object.freeze({
  ...HAND_BONE_AGE_RECIPE,
  arch: 'resnet18',
  epochs: 95,
}) as HandRecipe;

/**
 * Weight averaging after the GPU recipe, on a CPU (`--recipe gpu-swa --init <a bundle of recipe gpu>`): eight more
 * epochs at a constant learning rate of 1e-4, the shipped weights the mean of four snapshots an epoch (SWA,
 * Izmailov et al. 2018), batch norm recomputed over the training films. Why: the GPU model ends at a training loss
 * under its dev error (overfitting plus label noise), and the mean of weights along a flat stretch of the loss
 * generalises better than any one of them; about 40 minutes of this 2-core machine. Measured from the GPU model on
 * the 177 dev films: the answer `predict` gives (the mean of 8 TTA views) 8.99 months against 9.07, one forward 9.27
 * against 9.20 (its best epoch, chosen on dev), the 90% interval's median width 38.3 against 39.7 months at held-out
 * coverage 0.892; at 3e-4 the snapshots wandered further (dev MAE 9.5–10.4 each) and their mean lost (9.34, TTA 9.16).
 */
export const HAND_SWA_RECIPE: HandRecipe = Object.freeze({
  ...HAND_GPU_RECIPE,
  epochs: 8,
  optimizer: Object.freeze({ lr: 1e-4, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 0, minLrFactor: 1 }),
  averaging: Object.freeze({ fromEpoch: 1, perEpoch: 4 }),
}) as HandRecipe;

/**
 * The hand paper's recipe, for a GPU: Inception-ResNet-v2 (Szegedy et al. 2017) from scratch, global average pooling
 * and one ReLU output neuron, trained as one model per sex (train twice with `--subset sex=M` and `--subset sex=F`,
 * then `physis bundle compose --by sex M=… F=…`). Films letterboxed at 299 px after the foreground crop, as the
 * architecture's native input. A 54-million-parameter network at 299 px is for a GPU (`--device cuda`), not a laptop.
 */
export const HAND_SEED_PAPER_RECIPE: HandRecipe = Object.freeze({
  ...HAND_BONE_AGE_RECIPE,
  arch: 'inception_resnet_v2',
  inputSize: 299,
  epochs: 60,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  preprocessing: Object.freeze({ fit: 'letterbox', stretchVia: 0, crop: true }),
  sexSpecificHeads: false,
}) as HandRecipe;

/** Sex coded for the model's extra input. @param sex - M or F */
export function sexInput(sex: 'M' | 'F'): number {
  return sex === 'M' ? 1 : 0;
}

/**
 * "Within k months" thresholds of bone-age reporting: the share of readings within 6/12/18/24 months of the
 * reference (Halabi et al., Radiology 2019, RSNA Pediatric Bone Age Challenge; the BoneXpert validations).
 */
export const HAND_WITHIN_THRESHOLDS_MONTHS: readonly number[] = Object.freeze([6, 12, 18, 24]);

/** Age bands of the report, in months: infancy, early childhood, childhood, peri-puberty, puberty, late adolescence. */
export const HAND_AGE_BANDS_MONTHS: readonly AgeBand[] = Object.freeze([
  { label: '0-2 y', minInclusive: 0, maxExclusive: 24 },
  { label: '2-5 y', minInclusive: 24, maxExclusive: 60 },
  { label: '5-10 y', minInclusive: 60, maxExclusive: 120 },
  { label: '10-13 y', minInclusive: 120, maxExclusive: 156 },
  { label: '13-16 y', minInclusive: 156, maxExclusive: 192 },
  { label: '16+ y', minInclusive: 192, maxExclusive: Number.POSITIVE_INFINITY },
]);

/**
 * Published hand bone-age results the report shows beside the model's own (their test sets, not ours). Only figures the
 * publications state are given; the within-k keys are months (6/12/18/24 = 0.5/1/1.5/2 years).
 */
export const HAND_PUBLISHED_RESULTS: readonly PublishedResult[] = Object.freeze<PublishedResult[]>([
  {
    label: 'Larson et al. 2018',
    citation: 'Larson DB et al. Performance of a deep-learning neural network model in assessing skeletal maturity on pediatric hand radiographs. Radiology 2018;287:313-322',
    data: '200 examinations, reference: mean of readers',
    mae: 6.0,
    within: {},
  },
  {
    label: 'Lee et al. 2017, female cohort (one model per sex)',
    citation: 'Lee H et al. Fully automated deep learning system for bone age assessment. J Digit Imaging 2017;30:427-441',
    data: 'held-out female test radiographs',
    mae: null,
    within: { '12': 0.9039, '24': 0.9811 },
  },
  {
    label: 'Lee et al. 2017, male cohort (one model per sex)',
    citation: 'Lee H et al. Fully automated deep learning system for bone age assessment. J Digit Imaging 2017;30:427-441',
    data: 'held-out male test radiographs',
    mae: null,
    within: { '12': 0.9418, '24': 0.99 },
  },
  {
    label: 'RSNA Pediatric Bone Age Challenge 2017, winning entry',
    citation: 'Halabi SS et al. The RSNA Pediatric Bone Age Machine Learning Challenge. Radiology 2019;290:498-503',
    data: '200 challenge test films, reference: mean of six readers',
    mae: 4.265,
    within: {},
  },
]);
