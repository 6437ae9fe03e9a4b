/**
 * What a skull-infant-age bundle carries besides its weights: the feature distribution of its training films
 * (`ood.json`, role `ood`), which refuses a film unlike them, e.g. the skull of an older child or adult.
 *
 * Why a feature distance: the suitability gate says "skull", but an infant-age model must also refuse the skull of a
 * six-year-old, which it would otherwise map to some month. The check is the Mahalanobis distance of the network's
 * pooled features to the training films' (Lee et al., NeurIPS 2018), Ledoit–Wolf shrunk (Ledoit & Wolf 2004) because
 * the features outnumber the films; the threshold is a high percentile of the training films' own distances times a
 * margin. A film whose header gives an age outside 0–12 months is refused before the network by its dates.
 */
import type { ModelSetMember } from '../../infer/index.js';
import {
  describeThreshold,
  featureDistance,
  fitFeatureDistance,
  parseFeatureDistance,
  parseTrainingDataRecord,
  trainingDataRecord,
  type FeatureDistanceModel,
  type TrainingDataRecord,
} from '../feature-distance.js';

/** Artifact role and file of the feature statistics. */
export const SKULL_OOD_ROLE = 'ood';
export const SKULL_OOD_FILE = 'ood.json';
const FORMAT = 'physis-skull-feature-distance';

/** A fitted feature distribution (JSON). */
export type SkullOodModel = FeatureDistanceModel;

/** Artifact role and file of what the training films were (real or simulated). */
export const SKULL_TRAINING_DATA_ROLE = 'training-data';
export const SKULL_TRAINING_DATA_FILE = 'training-data.json';
const TRAINING_DATA_FORMAT = 'physis-skull-training-data';

/** What the training films were: how many of them simulated (phantoms), in numbers and words. */
export type SkullTrainingData = TrainingDataRecord;

/** A member's parsed artifacts. */
export interface SkullState {
  readonly ood: SkullOodModel | null;
  /** Null for a bundle without the record (then nothing is claimed either way). */
  readonly trainingData: SkullTrainingData | null;
}

/**
 * Fit the distribution of the training films' pooled features, with the threshold taken on held-out films.
 * @param rows - one feature vector per training film
 * @param heldOut - feature vectors of the dev films, for the threshold; empty: the training films' own distances
 * @param features - what the features are, in words
 */
export function fitSkullOod(rows: readonly ArrayLike<number>[], heldOut: readonly ArrayLike<number>[], features: string): SkullOodModel {
  return fitFeatureDistance(rows, heldOut, features, FORMAT);
}

/**
 * The training-data record of a run.
 * @param films - the training and dev films
 * @param notice - what simulated training means
 */
export function skullTrainingData(films: readonly { readonly simulated: boolean }[], notice: string): SkullTrainingData {
  return trainingDataRecord(TRAINING_DATA_FORMAT, films, notice);
}

/**
 * The distance of one film's pooled features, and the refusal when it is beyond the threshold.
 * @param model - the fitted distribution
 * @param pooled - the film's pooled features
 */
export function checkSkullFeatures(model: SkullOodModel, pooled: ArrayLike<number>): { distance: number; refusal: string | null } {
  const distance = featureDistance(model, pooled);
  return {
    distance,
    refusal:
      distance <= model.threshold
        ? null
        : `not like the infant skull films this model was trained on (0–12 months): feature distance ${distance.toFixed(1)} > threshold ${describeThreshold(model)}`,
  };
}

/**
 * Parse an ood.json text.
 * @param text - its contents
 * @param source - its path, for messages
 * @throws OodModelError for anything that is not this format
 */
export function parseSkullOod(text: string, source: string): SkullOodModel {
  return parseFeatureDistance(text, source, FORMAT, 'skull feature-distance file');
}

/**
 * Read a member's artifacts.
 * @param member - a verified set member
 */
export function openSkullMember(member: ModelSetMember): SkullState {
  const ood = member.bundle.artifacts.get(SKULL_OOD_ROLE);
  const data = member.bundle.artifacts.get(SKULL_TRAINING_DATA_ROLE);
  const dec = new TextDecoder();
  return {
    ood: ood === undefined ? null : parseSkullOod(dec.decode(ood.bytes), `${member.bundle.dir}/${ood.path}`),
    trainingData:
      data === undefined ? null : parseTrainingDataRecord(dec.decode(data.bytes), `${member.bundle.dir}/${data.path}`, TRAINING_DATA_FORMAT, 'skull training-data record'),
  };
}
