/**
 * The suitability gate's questions, their answers in head order, and its default recipe.
 *
 * Why these questions: a film reaches a model only when it is the body part and view the model was made for, a plain
 * radiograph, upright, bone bright, and (for the hand) a left hand as Greulich–Pyle assumes. BoneXpert refuses films
 * on the same grounds and reports why (Thodberg et al., IEEE TMI 2009). Orientation, polarity and laterality are
 * learned by self-supervision: every training film is shown turned, inverted and mirrored, with the label of what was
 * done (Gidaris et al., ICLR 2018, for rotations).
 */
import type { TrainRecipe } from '../../train/index.js';

/** Body parts the gate tells apart; `other` is every image that is not one of them (CT, ultrasound, photographs). */
export const ANATOMY = ['hand', 'knee', 'skull', 'spine', 'chest', 'other'] as const;
export type Anatomy = (typeof ANATOMY)[number];

/** Projection: frontal (PA or AP) or lateral. */
export const VIEW = ['frontal', 'lateral'] as const;
export type View = (typeof VIEW)[number];

/** Imaging modality as the image shows it. */
export const MODALITY = ['radiograph', 'ct', 'ultrasound', 'photo'] as const;
export type ImageModality = (typeof MODALITY)[number];

/** Clockwise rotation of the film from upright, in degrees. */
export const ORIENTATION = [0, 90, 180, 270] as const;
export type OrientationDeg = (typeof ORIENTATION)[number];

/** Gray scale: bone bright (normal) or dark (inverted). */
export const POLARITY = ['normal', 'inverted'] as const;
export type Polarity = (typeof POLARITY)[number];

/** The side of a limb as the image shows it: a left hand seen PA has its thumb on the image's right. */
export const LATERALITY = ['left', 'right'] as const;
export type LateralityAsSeen = (typeof LATERALITY)[number];

/** The head's groups of logits, in order: each is a softmax over its classes. */
export const HEAD_GROUPS = [
  { name: 'anatomy', classes: ANATOMY },
  { name: 'view', classes: VIEW },
  { name: 'modality', classes: MODALITY },
  { name: 'orientation', classes: ORIENTATION.map(String) },
  { name: 'polarity', classes: POLARITY },
  { name: 'laterality', classes: LATERALITY },
] as const;
export type HeadGroupName = (typeof HEAD_GROUPS)[number]['name'];

/** Total logits of the head. */
export const HEAD_WIDTH = HEAD_GROUPS.reduce((a, g) => a + g.classes.length, 0);

/** Offset of each group's first logit. */
export const HEAD_OFFSETS: Readonly<Record<HeadGroupName, number>> = (() => {
  const o: Partial<Record<HeadGroupName, number>> = {};
  let at = 0;
  for (const g of HEAD_GROUPS) {
    o[g.name] = at;
    at += g.classes.length;
  }
  return o as Record<HeadGroupName, number>;
})();

/**
 * The default recipe of the gate, as data (the shipped gate's card records the command).
 *
 * Why these numbers: whole-film questions need little resolution (the body part, which way up, where the thumb is are
 * visible at 128 px), and a half-width ResNet-18 keeps the gate's cost a few percent of a bone-age prediction. Affine
 * and intensity augmentation are mild; the quarter turns, inversion and mirror are applied by the sample module as
 * labelled transforms, never as silent augmentation.
 */
export const SUITABILITY_RECIPE: TrainRecipe = Object.freeze({
  arch: 'resnet18_w32',
  inputSize: 128,
  epochs: 36,
  batchSize: 32,
  optimizer: Object.freeze({ lr: 2e-3, weightDecay: 0.05 }),
  schedule: Object.freeze({ warmupEpochs: 1, minLrFactor: 0.01 }),
  earlyStopping: Object.freeze({ patience: 12 }),
  averaging: Object.freeze({ fromEpoch: 0, perEpoch: 1 }),
  augmentation: Object.freeze({
    rotationDeg: 10,
    scale: [0.85, 1.15] as const,
    translate: 0.08,
    brightness: 0.08,
    contrast: [0.8, 1.25] as const,
    gamma: [0.75, 1.33] as const,
    cropSize: null,
    flipLeftRightProbability: 0,
    fill: 0,
  }),
  seed: 1,
}) as TrainRecipe;

/** How often the sample module applies each labelled transform to a training film. */
export const TRANSFORM_RATES = Object.freeze({
  /** Share of films turned (90, 180 and 270° equally often). */
  turned: 0.5,
  inverted: 0.3,
  mirrored: 0.5,
});

/**
 * Probabilities the gate must reach before it corrects a film rather than refusing it. Why so high: a wrong correction
 * (a hand turned the wrong way, a left hand mirrored to a right one) gives an answer on a wrong film.
 */
export const DEFAULT_CORRECTION_CONFIDENCE = 0.95;

/** The gate must be this sure of the body part, else the film is refused as uncertain. */
export const DEFAULT_ANATOMY_CONFIDENCE = 0.9;

/**
 * Each category's open-set threshold: this quantile of its own dev films' feature distances, times the margin. A film
 * is unfamiliar only when it is beyond the threshold of every category, so a dev film rarely is even at the 0.98
 * quantile. Measured on the shipped gate's features with a numpy re-implementation of this fit (half of dev choosing the
 * thresholds, the other half measured): 0.995 refused 0.1% of dev films, but refitted without a category it refused
 * only 39% of that category's ultrasound and 67% of its CT films; 0.98 refused 1.6% of dev films (no dev hand, none of
 * the 10 hands of ../shared/data/hands-unlabeled, not samples/hand-0.png) and 82% / 78% of the left-out ultrasound / CT.
 */
export const OPEN_SET_PERCENTILE = 0.98;
export const OPEN_SET_MARGIN = 1;
