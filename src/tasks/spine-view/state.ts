/**
 * What a spine-view bundle carries besides its weights, each file hashed in the card:
 * - `classes.json` (role `classes`): the class list of the labels it was trained on; logit k is class k;
 * - `reject.json` (role `reject-threshold`): the confidence threshold below which a film goes to human review,
 *   chosen on the validation (dev) films, with what it did there;
 * - `ood.json` (role `ood`): the feature distribution of the training films, which refuses a film unlike them;
 * - `training-data.json` (role `training-data`): how many training films were simulated.
 *
 * Why artifacts: the classes and the threshold change every answer, so they travel with the weights and are checked
 * with them (a bundle's files are hashed in its card), instead of living in code that could drift from the model.
 * The feature distance is the shared check (Mahalanobis distance of pooled features, Lee et al., NeurIPS 2018).
 */
import type { ModelSetMember } from '../../infer/index.js';
import { OodModelError } from '../errors.js';
import {
  describeThreshold,
  parseArtifactJson,
  featureDistance,
  fitFeatureDistance,
  parseFeatureDistance,
  parseTrainingDataRecord,
  trainingDataRecord,
  type FeatureDistanceModel,
  type TrainingDataRecord,
} from '../feature-distance.js';

export const SPINE_CLASSES_ROLE = 'classes';
export const SPINE_CLASSES_FILE = 'classes.json';
const CLASSES_FORMAT = 'physis-spine-view-classes';

export const SPINE_REJECT_ROLE = 'reject-threshold';
export const SPINE_REJECT_FILE = 'reject.json';
const REJECT_FORMAT = 'physis-spine-view-reject';

export const SPINE_OOD_ROLE = 'ood';
export const SPINE_OOD_FILE = 'ood.json';
const OOD_FORMAT = 'physis-spine-view-feature-distance';

export const SPINE_TRAINING_DATA_ROLE = 'training-data';
export const SPINE_TRAINING_DATA_FILE = 'training-data.json';
const TRAINING_DATA_FORMAT = 'physis-spine-view-training-data';

/** The class list a bundle was trained on. */
export interface SpineClassesRecord {
  readonly format: string;
  readonly version: 1;
  /** Class k is logit k. */
  readonly classes: readonly string[];
  /** Logits of the head (classes.length of them are used). */
  readonly headOutputs: number;
}

/** The reject threshold and what it did on the validation films. */
export interface SpineRejectRecord {
  readonly format: string;
  readonly version: 1;
  /** A film is answered when its top probability ≥ threshold; else it goes to human review. */
  readonly threshold: number;
  readonly targetAccuracy: number;
  /** Whether some threshold reached the target on the validation films. */
  readonly achieved: boolean;
  /** On the validation films: share answered, accuracy of the answered, their count. */
  readonly devCoverage: number;
  /** Null when no validation film was answered. */
  readonly devAcceptedAccuracy: number | null;
  readonly devFilms: number;
}

/** A member's parsed artifacts. */
export interface SpineViewState {
  readonly classes: SpineClassesRecord;
  readonly reject: SpineRejectRecord | null;
  readonly ood: FeatureDistanceModel | null;
  readonly trainingData: TrainingDataRecord | null;
}

/** The classes record of a run. @param classes - class list @param headOutputs - logits of the head */
export function spineClassesRecord(classes: readonly string[], headOutputs: number): SpineClassesRecord {
  return { format: CLASSES_FORMAT, version: 1, classes, headOutputs };
}

/** The reject record of a run. @param r - the threshold and its validation figures */
export function spineRejectRecord(r: Omit<SpineRejectRecord, 'format' | 'version'>): SpineRejectRecord {
  return { format: REJECT_FORMAT, version: 1, ...r };
}

/**
 * The training-data record of a run.
 * @param films - the training and dev films
 * @param notice - what simulated training means
 */
export function spineTrainingData(films: readonly { readonly simulated: boolean }[], notice: string): TrainingDataRecord {
  return trainingDataRecord(TRAINING_DATA_FORMAT, films, notice);
}

/** Fit the training films' feature distribution, threshold on the dev films. @see fitFeatureDistance */
export function fitSpineOod(rows: readonly ArrayLike<number>[], heldOut: readonly ArrayLike<number>[], features: string): FeatureDistanceModel {
  return fitFeatureDistance(rows, heldOut, features, OOD_FORMAT);
}

/**
 * The refusal of a film whose pooled features are beyond the threshold, else null.
 * @param model - the fitted distribution
 * @param pooled - the film's pooled features
 */
export function spineFeatureRefusal(model: FeatureDistanceModel, pooled: ArrayLike<number>): string | null {
  const distance = featureDistance(model, pooled);
  return distance <= model.threshold ? null : `not like the spine films this model was trained on: feature distance ${distance.toFixed(1)} > threshold ${describeThreshold(model)}`;
}

/**
 * Parse a classes.json text.
 * @param text - its contents
 * @param source - its path, for messages
 * @throws OodModelError for anything that is not this format (a bundle's artifact that cannot be used)
 */
export function parseSpineClasses(text: string, source: string): SpineClassesRecord {
  const r = parseArtifactJson(text, source);
  const classes = r['classes'];
  const ok =
    r['format'] === CLASSES_FORMAT &&
    r['version'] === 1 &&
    Array.isArray(classes) &&
    classes.length >= 2 &&
    classes.every((c) => typeof c === 'string' && c !== '') &&
    new Set(classes).size === classes.length &&
    Number.isInteger(r['headOutputs']) &&
    (r['headOutputs'] as number) >= classes.length;
  if (!ok) throw new OodModelError(`${source}: not a spine-view class list (format ${CLASSES_FORMAT}, version 1, at least two distinct classes)`);
  return r as unknown as SpineClassesRecord;
}

/**
 * Parse a reject.json text.
 * @param text - its contents
 * @param source - its path, for messages
 * @throws OodModelError for anything that is not this format
 */
export function parseSpineReject(text: string, source: string): SpineRejectRecord {
  const r = parseArtifactJson(text, source);
  const share = (k: string): boolean => typeof r[k] === 'number' && (r[k] as number) >= 0 && (r[k] as number) <= 1;
  const ok =
    r['format'] === REJECT_FORMAT &&
    r['version'] === 1 &&
    share('threshold') &&
    share('targetAccuracy') &&
    typeof r['achieved'] === 'boolean' &&
    share('devCoverage') &&
    (r['devAcceptedAccuracy'] === null || share('devAcceptedAccuracy')) &&
    Number.isInteger(r['devFilms']);
  if (!ok) throw new OodModelError(`${source}: not a spine-view reject threshold (format ${REJECT_FORMAT}, version 1)`);
  return r as unknown as SpineRejectRecord;
}

/**
 * Read a member's artifacts.
 * @param member - a verified set member
 * @throws OodModelError when the bundle has no class list (its answers could not be named)
 */
export function openSpineViewMember(member: ModelSetMember): SpineViewState {
  const dec = new TextDecoder();
  const read = (role: string): { text: string; source: string } | null => {
    const a = member.bundle.artifacts.get(role);
    return a === undefined ? null : { text: dec.decode(a.bytes), source: `${member.bundle.dir}/${a.path}` };
  };
  const classes = read(SPINE_CLASSES_ROLE);
  if (classes === null) throw new OodModelError(`${member.bundle.dir} has no ${SPINE_CLASSES_FILE}: its outputs cannot be named`);
  const reject = read(SPINE_REJECT_ROLE);
  const ood = read(SPINE_OOD_ROLE);
  const data = read(SPINE_TRAINING_DATA_ROLE);
  return {
    classes: parseSpineClasses(classes.text, classes.source),
    reject: reject === null ? null : parseSpineReject(reject.text, reject.source),
    ood: ood === null ? null : parseFeatureDistance(ood.text, ood.source, OOD_FORMAT, 'spine-view feature-distance file'),
    trainingData: data === null ? null : parseTrainingDataRecord(data.text, data.source, TRAINING_DATA_FORMAT, 'spine-view training-data record'),
  };
}
