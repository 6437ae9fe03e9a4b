/**
 * What a knee-bone-age bundle carries besides its weights, each a hashed artifact: the feature distribution of its
 * training knees (`ood.json`), the 90% interval (`calibration.json`), what the training films were
 * (`training-data.json`: how many simulated) and where its labels came from (`labels.json`: radiologist readings or a
 * teacher hand model's pseudo-labels, with the teacher's id and weights hash).
 *
 * Why the label record: a knee model trained on pseudo-labels inherits its teacher's errors; a reader must be able to
 * see which hand model taught it (its id and weights sha256) and how many labels were readings.
 */
import type { ModelSetMember } from '../../infer/index.js';
import { OodModelError } from '../errors.js';
import { parseArtifactJson, parseFeatureDistance, parseTrainingDataRecord, type FeatureDistanceModel, type TrainingDataRecord } from '../feature-distance.js';

export const KNEE_OOD_ROLE = 'ood';
export const KNEE_OOD_FILE = 'ood.json';
export const KNEE_OOD_FORMAT = 'physis-knee-feature-distance';
export const KNEE_INTERVAL_ROLE = 'interval';
export const KNEE_INTERVAL_FILE = 'calibration.json';
export const KNEE_TRAINING_DATA_ROLE = 'training-data';
export const KNEE_TRAINING_DATA_FILE = 'training-data.json';
export const KNEE_TRAINING_DATA_FORMAT = 'physis-knee-training-data';
export const KNEE_LABELS_ROLE = 'label-provenance';
export const KNEE_LABELS_FILE = 'labels.json';

/** The constant-width 90% interval: split-conformal on the dev knees' absolute residuals (Lei et al., JASA 2018). */
export interface KneeIntervalFile {
  readonly format: 'physis-knee-interval';
  readonly version: 1;
  readonly level: number;
  readonly halfWidthMonths: number;
  readonly coverage: number;
  readonly coverageHeldOut: number | null;
  readonly n: number;
  readonly data: string;
}

/** A teacher model that pseudo-labelled some of the training knees' paired hands. */
export interface KneeTeacher {
  readonly id: string;
  readonly weightsSha256: string;
  readonly labels: number;
}

/** Where the training and dev labels came from. */
export interface KneeLabelProvenance {
  readonly format: 'physis-knee-label-provenance';
  readonly version: 1;
  readonly films: number;
  readonly readings: number;
  readonly pseudoLabels: number;
  /** Labels whose source the labels file does not say. */
  readonly unknownSource: number;
  readonly teachers: readonly KneeTeacher[];
}

/** A member's parsed artifacts. */
export interface KneeState {
  readonly ood: FeatureDistanceModel | null;
  readonly interval: KneeIntervalFile | null;
  readonly trainingData: TrainingDataRecord | null;
  readonly labels: KneeLabelProvenance | null;
}

function parseInterval(text: string, source: string): KneeIntervalFile {
  const r = parseArtifactJson(text, source);
  const ok =
    r['format'] === 'physis-knee-interval' &&
    r['version'] === 1 &&
    ['level', 'halfWidthMonths', 'coverage', 'n'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k])) &&
    (r['halfWidthMonths'] as number) >= 0;
  if (!ok) throw new OodModelError(`${source}: not a knee interval calibration (format physis-knee-interval, version 1)`);
  return r as unknown as KneeIntervalFile;
}

function parseLabels(text: string, source: string): KneeLabelProvenance {
  const r = parseArtifactJson(text, source);
  const ok =
    r['format'] === 'physis-knee-label-provenance' &&
    r['version'] === 1 &&
    ['films', 'readings', 'pseudoLabels', 'unknownSource'].every((k) => Number.isInteger(r[k])) &&
    Array.isArray(r['teachers']);
  if (!ok) throw new OodModelError(`${source}: not a knee label provenance record (format physis-knee-label-provenance, version 1)`);
  return r as unknown as KneeLabelProvenance;
}

/**
 * Read a member's artifacts.
 * @param member - a verified set member
 */
export function openKneeMember(member: ModelSetMember): KneeState {
  const dec = new TextDecoder();
  const read = <T>(role: string, parse: (text: string, source: string) => T): T | null => {
    const a = member.bundle.artifacts.get(role);
    return a === undefined ? null : parse(dec.decode(a.bytes), `${member.bundle.dir}/${a.path}`);
  };
  return {
    ood: read(KNEE_OOD_ROLE, (t, s) => parseFeatureDistance(t, s, KNEE_OOD_FORMAT, 'knee feature-distance file')),
    interval: read(KNEE_INTERVAL_ROLE, parseInterval),
    trainingData: read(KNEE_TRAINING_DATA_ROLE, (t, s) => parseTrainingDataRecord(t, s, KNEE_TRAINING_DATA_FORMAT, 'knee training-data record')),
    labels: read(KNEE_LABELS_ROLE, parseLabels),
  };
}
