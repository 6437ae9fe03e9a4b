/**
 * The hand-bone-age task's default model and training recipe, as data.
 *
 * Why: the CLI, the trainer and the model card read the same object, so `physis train hand-bone-age`
 * with no options reproduces the shipped model. The recipe follows the PyTorch baseline
 * (ResNet-18 with a 1-channel stem, sex concatenated before the head, L1 loss, AdamW 1e-3 with warm-up
 * and cosine decay, light affine/intensity augmentation, no flips) and the hand paper's head
 * (global average pool → features ⊕ sex → linear → ReLU; Larson et al., Radiology 2018).
 */

/** Augmentation ranges as data; intensities assume images scaled to [0, 1] (the trainer's AugmentationConfig extends it). */
export interface TaskAugmentation {
  /** Rotation uniform in ±rotationDeg degrees. */
  readonly rotationDeg: number;
  /** Isotropic scale, log-uniform in [min, max]. */
  readonly scale: readonly [number, number];
  /** Translation uniform in ±translate × side length. */
  readonly translate: number;
  /** Added intensity, uniform in ±brightness. */
  readonly brightness: number;
  /** Contrast factor around the image mean, log-uniform in [min, max]. */
  readonly contrast: readonly [number, number];
  /** Gamma exponent, log-uniform in [min, max]. */
  readonly gamma: readonly [number, number];
  /** Output crop [width, height] taken at a random position; null keeps the input size. */
  readonly cropSize: readonly [number, number] | null;
  /** Probability of a left-right mirror; must stay 0 unless `lateralityNormalised`. */
  readonly flipLeftRightProbability: number;
  /** Value for pixels warped in from outside the image. */
  readonly fill: number;
}

/** The configuration of a bone-age training run. */
export interface HandBoneAgeConfig {
  readonly task: 'hand-bone-age';
  /** Zoo architecture name. */
  readonly arch: string;
  /** Square input side in pixels (letterboxed). */
  readonly inputSize: number;
  readonly inChannels: 1;
  /** Sex enters the head as one scalar: 1 for M, 0 for F. */
  readonly extraInputs: 1;
  readonly loss: 'l1';
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: { readonly name: 'adamw'; readonly lr: number; readonly weightDecay: number };
  readonly schedule: { readonly name: 'warmup-cosine'; readonly warmupEpochs: number; readonly minLrFactor: number };
  readonly earlyStopping: { readonly metric: 'devMae'; readonly patience: number };
  /** Targets are scaled as (months − mean) / sd inside the network, and scaled back at the output. */
  readonly targetScale: { readonly meanMonths: number; readonly sdMonths: number };
  readonly augmentation: TaskAugmentation;
  readonly seed: number;
}

/** Sex coded for the model's extra input. @param sex - M or F */
export function sexInput(sex: 'M' | 'F'): number {
  return sex === 'M' ? 1 : 0;
}

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
export const HAND_BONE_AGE_DEFAULT_CONFIG: HandBoneAgeConfig = Object.freeze({
  task: 'hand-bone-age',
  arch: 'resnet18',
  inputSize: 224,
  inChannels: 1,
  extraInputs: 1,
  loss: 'l1',
  epochs: 100,
  batchSize: 16,
  optimizer: Object.freeze({ name: 'adamw', lr: 1e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ name: 'warmup-cosine', warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ metric: 'devMae', patience: 40 }),
  // mean and SD of boneage_months over the 846 `train` rows of ../shared/data/rsna-hand/labels.csv: 126.9 and 41.2
  targetScale: Object.freeze({ meanMonths: 127, sdMonths: 41 }),
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
}) as HandBoneAgeConfig;
