/**
 * The hand-bone-age task's default recipe, as data.
 *
 * Why: the CLI, the trainer and the model card read the same object, so `physis train hand-bone-age` with no
 * options reproduces the shipped model; `--config recipe.json` and `--set key=value` override it field by field.
 * The recipe follows the PyTorch baseline of the hand paper (ResNet-18 with a 1-channel stem, sex concatenated
 * before the head, L1 loss, AdamW 1e-3 with warm-up and cosine decay, light affine/intensity augmentation, no flips;
 * Larson et al., Radiology 2018).
 */
import type { AgeBand } from '../../eval/index.js';
import type { TrainRecipe } from '../../train/index.js';

/**
 * The default recipe of the hand-bone-age model; the shipped bundle was trained with it (its card records the command,
 * which sets only data, threads, output and weight precision).
 *
 * Why these numbers: trained from scratch on 846 films, the network underfits long before it overfits (after 30
 * epochs at 224 px the training L1 still equalled the dev MAE, 16 months), so optimisation steps matter more than
 * resolution on a 2-core budget. A PyTorch mirror of this trainer swept on a GPU (scripts/recipe-sweep; dev MAE of the
 * best epoch, ResNet-18): 224 px × 30 epochs 16.0 / 16.5 (two seeds); 224 px × 100 epochs 13.4 / 13.6 / 14.3 / 13.2
 * (four seeds); with weight decay 0.05 12.5 / 13.8; 256 px × 80 epochs 13.4 / 14.0; 320 px × 50 epochs 13.8 / 13.5;
 * 256 px × 120 epochs 12.8 / 13.5, which would take about 2.5 h here; ResNet-50 at 224 px × 60 epochs 15.8;
 * learning rate 2e-3 was worse at every size. 224 px × 100 epochs is about 95 minutes on 2 threads here.
 */
export const HAND_BONE_AGE_RECIPE: TrainRecipe = Object.freeze({
  arch: 'resnet18',
  inputSize: 224,
  epochs: 100,
  batchSize: 16,
  optimizer: Object.freeze({ lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 40 }),
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
}) as TrainRecipe;

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
