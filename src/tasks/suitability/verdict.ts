/**
 * From the gate network's logits and pooled features to a verdict (each question's answer with its probability, and
 * how far the film is from every kind of film the gate was trained on), and from a verdict and what a task accepts to
 * a judgement: refuse with the reason in words, or accept, possibly after a correction the gate is sure of.
 *
 * Why pure functions: the pipeline, `physis triage`, the gate's own dev measurements and the tests judge films the same
 * way. Open-set rejection follows Lee et al. (NeurIPS 2018): class-conditional Gaussians with a shared covariance on
 * the network's pooled features; a film far from every training category is refused whatever the softmax says, because
 * a softmax always names some class (Hendrycks & Gimpel, ICLR 2017).
 */
import { mahalanobisDistance } from '../../eval/index.js';
import { inverseReorientation, type Reorientation } from '../../preprocess/index.js';
import type { Acceptance } from '../task.js';
import { HEAD_GROUPS, HEAD_OFFSETS, ORIENTATION, type Anatomy, type HeadGroupName } from './config.js';
import type { GateFile } from './state.js';

/** One question's answer. */
export interface GateAnswer<T extends string | number = string> {
  readonly value: T;
  /** Softmax probability of `value`. */
  readonly p: number;
}

/** The gate's verdict on a film as it is. */
export interface GateVerdict {
  readonly anatomy: GateAnswer<Anatomy>;
  readonly view: GateAnswer;
  readonly modality: GateAnswer;
  /** Clockwise turn of the film from upright, degrees. */
  readonly orientation: GateAnswer<number>;
  readonly polarity: GateAnswer;
  /** The side as seen (meaningful for limbs). */
  readonly laterality: GateAnswer;
  readonly openSet: {
    /** The training category nearest in feature space, relative to its own threshold. */
    readonly nearest: string;
    readonly distance: number;
    readonly threshold: number;
    /** Farther than its threshold from every training category. */
    readonly unfamiliar: boolean;
  };
}

/** Softmax over one group's logits. */
function groupSoftmax(logits: ArrayLike<number>, name: HeadGroupName): number[] {
  const group = HEAD_GROUPS.find((g) => g.name === name);
  const at = HEAD_OFFSETS[name];
  const k = group?.classes.length ?? 0;
  let max = -Infinity;
  for (let i = 0; i < k; i++) max = Math.max(max, logits[at + i] as number);
  const e = Array.from({ length: k }, (_, i) => Math.exp((logits[at + i] as number) - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The probabilities of every class of every group, keyed by group then class. */
export function gateProbabilities(logits: ArrayLike<number>): Record<HeadGroupName, Record<string, number>> {
  const out: Partial<Record<HeadGroupName, Record<string, number>>> = {};
  for (const g of HEAD_GROUPS) {
    const p = groupSoftmax(logits, g.name);
    out[g.name] = Object.fromEntries(g.classes.map((c, i) => [String(c), p[i] as number]));
  }
  return out as Record<HeadGroupName, Record<string, number>>;
}

/**
 * The most probable class of a group and its probability.
 * @param logits - the head's outputs
 * @param name - the group
 */
export function groupArgmax(logits: ArrayLike<number>, name: HeadGroupName): { index: number; p: number } {
  const p = groupSoftmax(logits, name);
  let index = 0;
  for (let i = 1; i < p.length; i++) if ((p[i] as number) > (p[index] as number)) index = i;
  return { index, p: p[index] as number };
}

/**
 * Distance of pooled features to each open-set category, divided by that category's threshold (≤ 1: familiar).
 * @param gate - the gate file
 * @param pooled - the film's pooled features
 */
export function openSetDistances(gate: GateFile, pooled: ArrayLike<number>): { category: string; distance: number; threshold: number }[] {
  const os = gate.openSet;
  return os.categories.map((c) => ({ category: c.category, distance: mahalanobisDistance(os.dim, c.mean, os.choleskyLower, pooled), threshold: c.threshold }));
}

/**
 * Read the verdict from one film's logits and pooled features.
 * @param logits - the head's outputs (HEAD_WIDTH values)
 * @param pooled - the pooled last feature map
 * @param gate - the gate file
 */
export function readVerdict(logits: ArrayLike<number>, pooled: ArrayLike<number>, gate: GateFile): GateVerdict {
  const answer = <T extends string | number>(name: HeadGroupName): GateAnswer<T> => {
    const a = groupArgmax(logits, name);
    const group = HEAD_GROUPS.find((g) => g.name === name);
    const cls = group?.classes[a.index] as string;
    return { value: (name === 'orientation' ? ORIENTATION[a.index] : cls) as T, p: a.p };
  };
  const d = openSetDistances(gate, pooled);
  let best = d[0] as (typeof d)[number];
  for (const x of d) if (x.distance / x.threshold < best.distance / best.threshold) best = x;
  return {
    anatomy: answer<Anatomy>('anatomy'),
    view: answer('view'),
    modality: answer('modality'),
    orientation: answer<number>('orientation'),
    polarity: answer('polarity'),
    laterality: answer('laterality'),
    openSet: { nearest: best.category, distance: best.distance, threshold: best.threshold, unfamiliar: best.distance > best.threshold },
  };
}

/** What a judgement decided. */
export type Judgement =
  | { readonly accepted: false; readonly reason: string }
  | {
      readonly accepted: true;
      /** The correction to apply before the task sees the film (null: none needed). */
      readonly correction: Reorientation | null;
      /** What was corrected, in words. */
      readonly notes: readonly string[];
    };

const MODALITY_WORDS: Readonly<Record<string, string>> = { ct: 'a CT image', ultrasound: 'an ultrasound image', photo: 'a photograph' };
const VIEW_WORDS: Readonly<Record<string, string>> = { frontal: 'frontal (PA/AP) view', lateral: 'lateral view' };
const pct = (p: number): string => `p = ${p.toFixed(2)}`;

/** Whether the film is as stored the way the task wants it: upright, bone bright, the side the task expects. */
function canonical(v: GateVerdict, a: Acceptance): boolean {
  return v.orientation.value === 0 && v.polarity.value === 'normal' && (a.laterality === undefined || v.laterality.value === a.laterality);
}

/**
 * Judge a film for a task.
 * @param v - the gate's verdict on the film as it is
 * @param a - what the task accepts
 * @param gate - the gate file (confidence thresholds)
 * @param o - `corrected`: the verdict is of a film already corrected once (nothing more may be corrected)
 */
export function judgeVerdict(v: GateVerdict, a: Acceptance, gate: GateFile, o: { corrected?: boolean } = {}): Judgement {
  const refuse = (reason: string): Judgement => ({ accepted: false, reason });
  const unfamiliar = (): Judgement =>
    refuse(
      `unlike every kind of film the suitability gate was trained on (nearest: ${v.openSet.nearest}, feature distance ` +
        `${v.openSet.distance.toFixed(1)} > ${v.openSet.threshold.toFixed(1)})`,
    );
  // a film turned, inverted or mirrored sits far from the upright training films: its distance is judged after correction
  if (v.openSet.unfamiliar && canonical(v, a)) return unfamiliar();
  if (v.modality.value !== 'radiograph') {
    return refuse(`not a plain radiograph: the image looks like ${MODALITY_WORDS[v.modality.value] ?? v.modality.value} (${pct(v.modality.p)})`);
  }
  if (!a.anatomy.includes(v.anatomy.value)) {
    const what = v.anatomy.value === 'other' ? 'not a radiograph of a body part the gate knows' : `${v.anatomy.value} radiograph`;
    return refuse(`${v.anatomy.p >= gate.anatomyConfidence ? '' : 'probably '}${what} (${pct(v.anatomy.p)}), not ${a.describe}`);
  }
  if (v.anatomy.p < gate.anatomyConfidence) {
    return refuse(`the suitability gate is not sure this is ${a.describe} (${v.anatomy.value} ${pct(v.anatomy.p)}, needs ${gate.anatomyConfidence})`);
  }
  if (a.views !== undefined && !a.views.includes(v.view.value)) {
    return refuse(`${VIEW_WORDS[v.view.value] ?? v.view.value} (${pct(v.view.p)}), not ${a.views.map((x) => VIEW_WORDS[x] ?? x).join(' or ')}`);
  }
  const turned = v.orientation.value !== 0;
  const inverted = v.polarity.value === 'inverted';
  const mirrored = a.laterality !== undefined && v.laterality.value !== a.laterality;
  if (!turned && !inverted && !mirrored) return v.openSet.unfamiliar ? unfamiliar() : { accepted: true, correction: null, notes: [] };
  const found: string[] = [];
  if (turned) found.push(`turned ${v.orientation.value}° clockwise (${pct(v.orientation.p)})`);
  if (inverted) found.push(`inverted polarity (${pct(v.polarity.p)})`);
  if (mirrored) found.push(`${v.laterality.value} ${v.anatomy.value} as seen (${pct(v.laterality.p)})`);
  if (o.corrected === true) return refuse(`still ${found.join(', ')} after the gate's correction: not analysed`);
  const unsure = [turned ? v.orientation.p : 1, inverted ? v.polarity.p : 1, mirrored ? v.laterality.p : 1].some((p) => p < gate.correctionConfidence);
  if (unsure) return refuse(`${found.join(', ')}; not corrected because the gate is not sure enough (needs ${gate.correctionConfidence})`);
  const correction = inverseReorientation({ quarterTurns: turned ? v.orientation.value / 90 : 0, mirror: mirrored, invert: inverted });
  const notes = [
    ...(turned ? [`the film was turned ${v.orientation.value}° clockwise: turned back before analysis`] : []),
    ...(inverted ? ['the film had inverted polarity (bone dark): inverted back before analysis'] : []),
    ...(mirrored ? [`a ${v.laterality.value} ${v.anatomy.value} as seen: mirrored to ${a.laterality ?? ''} before analysis${a.lateralityWhy ? ` (${a.lateralityWhy})` : ''}`] : []),
  ];
  return { accepted: true, correction, notes };
}
