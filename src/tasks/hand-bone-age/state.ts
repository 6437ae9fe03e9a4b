/**
 * What a hand-bone-age bundle carries besides its weights, as hashed artifacts: the OOD feature statistics
 * (`ood.json`, role `ood`) and the 90% interval calibration (`calibration.json`, role `interval`).
 *
 * Why artifacts: both change the clinical answer (whether a film is refused; how wide its interval is), so both are
 * listed with their sha256 in the card and verified with the weights; an edited file is refused, never used.
 */
import type { ModelSetMember } from '../../infer/index.js';
import { OodModelError } from '../errors.js';
import { parseOodModel, type OodModel } from './ood.js';

/** Artifact role and file of the OOD statistics. */
export const OOD_ROLE = 'ood';
export const OOD_FILE = 'ood.json';
/** Artifact role and file of the interval calibration. */
export const INTERVAL_ROLE = 'interval';
export const INTERVAL_FILE = 'calibration.json';

/** The calibration of the TTA-scaled 90% interval (split-conformal on dev; see eval's conformal module). */
export interface IntervalCalibrationFile {
  readonly format: 'physis-interval';
  readonly version: 1;
  readonly method: 'tta-sd-scaled-split-conformal';
  readonly level: number;
  /** Half-width = scale × (TTA SD + floorMonths). */
  readonly scale: number;
  readonly floorMonths: number;
  /** TTA views per film. */
  readonly views: number;
  /** Share of calibration films inside their interval (in-sample). */
  readonly coverage: number;
  readonly coverageHeldOut?: number;
  readonly n: number;
  /** The data it was calibrated on. */
  readonly data: string;
}

/** The interval rule as predict applies it. */
export interface HandInterval {
  readonly scale: number;
  readonly floor: number;
  readonly views: number;
}

/** A member's parsed artifacts. */
export interface HandState {
  readonly ood: OodModel | null;
  readonly interval: HandInterval | null;
}

/**
 * Parse a calibration file.
 * @param text - its contents
 * @param source - its path, for messages
 */
export function parseIntervalCalibration(text: string, source: string): IntervalCalibrationFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const c = v as Partial<IntervalCalibrationFile> | null;
  const ok =
    c !== null &&
    typeof c === 'object' &&
    c.format === 'physis-interval' &&
    c.version === 1 &&
    c.method === 'tta-sd-scaled-split-conformal' &&
    [c.level, c.scale, c.floorMonths, c.views, c.coverage, c.n].every((x) => typeof x === 'number' && Number.isFinite(x)) &&
    Number.isInteger(c.views) &&
    (c.views ?? 0) >= 1 &&
    (c.scale ?? -1) >= 0;
  if (!ok) throw new OodModelError(`${source}: not a Physis interval calibration (format physis-interval, version 1)`);
  return c as IntervalCalibrationFile;
}

/**
 * Read a member's artifacts.
 * @param member - a verified set member
 */
export function openHandMember(member: ModelSetMember): HandState {
  const ood = member.bundle.artifacts.get(OOD_ROLE);
  const iv = member.bundle.artifacts.get(INTERVAL_ROLE);
  const dec = new TextDecoder();
  const cal = iv === undefined ? null : parseIntervalCalibration(dec.decode(iv.bytes), `${member.bundle.dir}/${iv.path}`);
  return {
    ood: ood === undefined ? null : parseOodModel(dec.decode(ood.bytes), `${member.bundle.dir}/${ood.path}`),
    interval: cal === null ? null : { scale: cal.scale, floor: cal.floorMonths, views: cal.views },
  };
}
