/**
 * What a gate bundle carries besides its weights: `gate.json` (artifact role `gate`), the open-set statistics (each
 * training category's mean pooled feature, the shared shrunk covariance, a distance threshold per category chosen on
 * dev films) and the confidence the gate needs to name a body part or to correct a film.
 *
 * Why an artifact: these numbers decide whether a film is refused, so they are hashed in the card with the weights and
 * an edited file is refused, never used.
 */
import type { ModelSetMember } from '../../infer/index.js';
import { OodModelError } from '../errors.js';
import { HEAD_GROUPS } from './config.js';

export const GATE_ROLE = 'gate';
export const GATE_FILE = 'gate.json';

/** One training category of the open-set statistics. */
export interface OpenSetCategory {
  readonly category: string;
  /** The gate's anatomy class of the category. */
  readonly anatomy: string;
  /** Training films (canonical orientation) the mean was measured on. */
  readonly n: number;
  readonly mean: readonly number[];
  /** Distances above this are unlike the category. */
  readonly threshold: number;
}

/** The gate file. */
export interface GateFile {
  readonly format: 'physis-gate';
  readonly version: 1;
  /** Head groups and their classes, in logit order (checked against this build's). */
  readonly groups: readonly { readonly name: string; readonly classes: readonly string[] }[];
  readonly openSet: {
    readonly method: string;
    readonly features: string;
    readonly dim: number;
    readonly choleskyLower: readonly number[];
    readonly shrinkage: number;
    readonly percentile: number;
    readonly margin: number;
    readonly categories: readonly OpenSetCategory[];
    /** What the thresholds were chosen on. */
    readonly data: string;
  };
  /** Probability the anatomy class needs; below it the film is refused as uncertain. */
  readonly anatomyConfidence: number;
  /** Probability a turn, inversion or mirror needs to be corrected rather than refused. */
  readonly correctionConfidence: number;
}

/** A member's parsed gate file. */
export interface GateState {
  readonly gate: GateFile;
}

/**
 * Parse and check a gate file.
 * @param text - its contents
 * @param source - its path, for messages
 */
export function parseGateFile(text: string, source: string): GateFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OodModelError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const g = v as Partial<GateFile> | null;
  const bad = (what: string): never => {
    throw new OodModelError(`${source}: not a Physis gate file (${what})`);
  };
  if (g === null || typeof g !== 'object' || g.format !== 'physis-gate' || g.version !== 1) bad('format physis-gate, version 1');
  const gate = g as GateFile;
  if (JSON.stringify(gate.groups) !== JSON.stringify(HEAD_GROUPS.map((x) => ({ name: x.name, classes: [...x.classes] })))) {
    bad(`its head groups differ from this build's (${HEAD_GROUPS.map((x) => x.name).join(', ')})`);
  }
  const os = gate.openSet;
  if (os === undefined || !Number.isInteger(os.dim) || os.choleskyLower?.length !== (os.dim * (os.dim + 1)) / 2) bad('open-set covariance');
  if (!Array.isArray(os.categories) || os.categories.length === 0) bad('no open-set categories');
  for (const c of os.categories) {
    if (c.mean?.length !== os.dim || !(c.threshold > 0)) bad(`open-set category ${String(c.category)}`);
  }
  for (const p of [gate.anatomyConfidence, gate.correctionConfidence]) if (!(p > 0 && p <= 1)) bad('confidences must be in (0, 1]');
  return gate;
}

/**
 * Read a member's gate file.
 * @param member - a verified set member
 */
export function openGateMember(member: ModelSetMember): GateState {
  const a = member.bundle.artifacts.get(GATE_ROLE);
  if (a === undefined) throw new OodModelError(`${member.bundle.dir}: a suitability gate bundle must ship ${GATE_FILE} (artifact role '${GATE_ROLE}')`);
  return { gate: parseGateFile(new TextDecoder().decode(a.bytes), `${member.bundle.dir}/${a.path}`) };
}
