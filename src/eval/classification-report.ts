/**
 * Calibration, a reject option and a self-contained HTML/JSON report for models that give a probability per class:
 * accuracy, per-class precision/recall/F1 and support, macro-F1, the confusion matrix, the expected calibration error
 * with its reliability diagram, and the confidence threshold below which a case goes to a person.
 *
 * Why these figures: classification papers report accuracy and per-class precision/recall (a class with few cases
 * hides in the accuracy; macro-F1 weighs every class alike). A registry that files cases without a person needs more:
 * how far the softmax confidence can be trusted (expected calibration error over 15 equal-width confidence bins and
 * the reliability diagram, Guo et al., "On calibration of modern neural networks", ICML 2017; Naeini et al., AAAI
 * 2015), and a reject option — the selective classifier of Chow (IEEE Trans Inf Theory 1970) and Geifman & El-Yaniv
 * ("Selective classification for deep neural networks", NeurIPS 2017): a case whose top probability is below a
 * threshold is not answered, and the threshold is chosen on held-out cases so that the accepted ones reach a target
 * accuracy. The threshold is taken on validation cases and then measured on others; chosen and measured on the same
 * cases it is optimistic, and the report says which it is. The HTML follows the ordinal and regression reports: one
 * file, inline SVG, no executable script, every text escaped; the JSON twin is the report object.
 *
 * @example
 * import { expectedCalibrationError, selectRejectThreshold } from './eval/index.js';
 * expectedCalibrationError([0.9, 0.9, 0.6, 0.6], [true, false, true, true]).ece; // 0.4
 * selectRejectThreshold([0.99, 0.9, 0.6], [true, true, false], 0.99).threshold; // 0.9 (coverage 2/3)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classificationMetrics, type ClassificationMetrics } from './classification-metrics.js';
import { confusionSvg } from './confusion-svg.js';
import { MetricInputError } from './errors.js';
import { factsTable, reportPageEnd, reportPageStart } from './report-page.js';
import { escapeXml, niceTicks } from './svg-plots.js';

/** Equal-width confidence bins of the expected calibration error (Guo et al. 2017 use 15). */
export const CALIBRATION_BINS = 15;

/** The accuracy a reject threshold aims the accepted cases at, unless a caller says otherwise. */
export const DEFAULT_TARGET_ACCURACY = 0.99;

/** One bin of a reliability diagram: confidences in (lower, upper] (the first bin also holds 0). */
export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly n: number;
  /** Mean top probability of the bin's cases; NaN for an empty bin. */
  readonly meanConfidence: number;
  /** Share of the bin's cases whose top class is right; NaN for an empty bin. */
  readonly accuracy: number;
}

/** The expected calibration error and the bins it was computed over. */
export interface Calibration {
  /** Σ_b (n_b / N) |accuracy_b − confidence_b| (Guo et al. 2017, eq. 3), a share in [0, 1]. */
  readonly ece: number;
  /** The largest bin gap |accuracy_b − confidence_b| over non-empty bins (maximum calibration error). */
  readonly mce: number;
  readonly bins: readonly CalibrationBin[];
}

function checkConfidences(confidences: readonly number[], correct: readonly boolean[]): void {
  if (confidences.length !== correct.length) throw new MetricInputError(`confidences has ${confidences.length} values but correct has ${correct.length}`);
  if (confidences.length === 0) throw new MetricInputError('confidences and correct are empty; nothing to score');
  confidences.forEach((c, i) => {
    if (!Number.isFinite(c) || c < 0 || c > 1) throw new MetricInputError(`confidences[${i}] = ${c} is not a probability in [0, 1]`);
  });
}

/**
 * The expected calibration error over equal-width confidence bins, with its reliability-diagram bins.
 * @param confidences - each case's top probability (the probability of the predicted class)
 * @param correct - whether each case's predicted class is its reference class
 * @param bins - number of equal-width bins over [0, 1]; default {@link CALIBRATION_BINS}
 * @throws MetricInputError for unequal or empty inputs, a confidence outside [0, 1], or a bin count below 1
 */
export function expectedCalibrationError(confidences: readonly number[], correct: readonly boolean[], bins = CALIBRATION_BINS): Calibration {
  checkConfidences(confidences, correct);
  if (!Number.isInteger(bins) || bins < 1) throw new MetricInputError(`bins ${bins} must be a whole number >= 1`);
  const n = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  confidences.forEach((c, i) => {
    // bin b holds (b/M, (b+1)/M]; a confidence of exactly 0 joins the first bin
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    n[b] = (n[b] as number) + 1;
    conf[b] = (conf[b] as number) + c;
    if (correct[i] === true) right[b] = (right[b] as number) + 1;
  });
  const total = confidences.length;
  let ece = 0;
  let mce = 0;
  const out: CalibrationBin[] = n.map((count, b) => {
    const meanConfidence = count === 0 ? Number.NaN : (conf[b] as number) / count;
    const accuracy = count === 0 ? Number.NaN : (right[b] as number) / count;
    if (count > 0) {
      const gap = Math.abs(accuracy - meanConfidence);
      ece += (count / total) * gap;
      mce = Math.max(mce, gap);
    }
    return { lower: b / bins, upper: (b + 1) / bins, n: count, meanConfidence, accuracy };
  });
  return { ece, mce, bins: out };
}

/** A confidence threshold of a reject option and what it does on the cases it was measured on. */
export interface RejectOperatingPoint {
  /** Cases with top probability ≥ threshold are answered; the rest go to a person. */
  readonly threshold: number;
  /** Share of cases answered. */
  readonly coverage: number;
  /** Accuracy among the answered cases; NaN when none is answered. */
  readonly acceptedAccuracy: number;
  readonly accepted: number;
  readonly n: number;
  /** Lower end of the Wilson 95% interval of the accepted accuracy (Wilson 1927); NaN when none is answered. */
  readonly acceptedAccuracyLower95: number;
}

/** The threshold {@link selectRejectThreshold} chose, with the target it aimed at. */
export interface RejectSelection extends RejectOperatingPoint {
  readonly targetAccuracy: number;
  /** False when no threshold reaches the target (then only cases of confidence 1 are answered). */
  readonly achieved: boolean;
}

function wilsonLower(successes: number, n: number, z = 1.959964): number {
  if (n === 0) return Number.NaN;
  const p = successes / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/**
 * What a given threshold does on scored cases: coverage and accuracy of the answered ones.
 * @param confidences - each case's top probability
 * @param correct - whether each case's predicted class is right
 * @param threshold - answer when top probability ≥ threshold
 */
export function rejectOperatingPoint(confidences: readonly number[], correct: readonly boolean[], threshold: number): RejectOperatingPoint {
  checkConfidences(confidences, correct);
  let accepted = 0;
  let right = 0;
  confidences.forEach((c, i) => {
    if (c >= threshold) {
      accepted++;
      if (correct[i] === true) right++;
    }
  });
  const n = confidences.length;
  return { threshold, coverage: accepted / n, acceptedAccuracy: accepted === 0 ? Number.NaN : right / accepted, accepted, n, acceptedAccuracyLower95: wilsonLower(right, accepted) };
}

/**
 * The lowest confidence threshold whose answered cases reach the target accuracy, i.e. the largest coverage at that
 * accuracy (the selective classifier of Geifman & El-Yaniv 2017, with the empirical accuracy in place of their bound;
 * the Wilson lower bound is reported beside it). Thresholds are the cases' own confidences, so ties are answered
 * together. When no threshold reaches the target the threshold is 1 and `achieved` is false.
 * @param confidences - top probabilities of held-out (validation) cases
 * @param correct - whether each case's predicted class is right
 * @param targetAccuracy - accuracy the answered cases must reach, in (0, 1]; default {@link DEFAULT_TARGET_ACCURACY}
 * @throws MetricInputError for unequal or empty inputs, or a target outside (0, 1]
 */
export function selectRejectThreshold(confidences: readonly number[], correct: readonly boolean[], targetAccuracy = DEFAULT_TARGET_ACCURACY): RejectSelection {
  checkConfidences(confidences, correct);
  if (!(targetAccuracy > 0 && targetAccuracy <= 1)) throw new MetricInputError(`target accuracy ${targetAccuracy} must be in (0, 1]`);
  const order = confidences.map((c, i) => ({ c, ok: correct[i] === true })).sort((a, b) => b.c - a.c);
  let right = 0;
  let best: number | null = null;
  for (let i = 0; i < order.length; i++) {
    const here = order[i] as { c: number; ok: boolean };
    if (here.ok) right++;
    // a threshold sits between distinct confidences only: equal confidences are answered together
    const next = order[i + 1];
    if (next !== undefined && next.c === here.c) continue;
    if (right / (i + 1) >= targetAccuracy) best = here.c;
  }
  const threshold = best ?? 1;
  return { ...rejectOperatingPoint(confidences, correct, threshold), targetAccuracy, achieved: best !== null };
}

/** One scored case: its reference class and the model's probability per class. */
export interface ProbabilisticSample {
  readonly id: string;
  /** Reference class index into the report's `classNames`. */
  readonly referenceClass: number;
  /** Probability of each class (a softmax), in `classNames` order. */
  readonly probabilities: readonly number[];
  /** Categorical attributes to slice by, e.g. `{ view: 'AP' }`. */
  readonly groups?: Readonly<Record<string, string>>;
}

/** The metrics of one set of probabilistic predictions (the predicted class is the most probable one). */
export interface ProbabilisticMetrics extends Omit<ClassificationMetrics, 'withinOneAccuracy'> {
  /** Mean −ln p(reference class), probabilities floored at 1e-12. */
  readonly nll: number;
  /** Mean Σ_k (p_k − [k = reference])² (Brier 1950). */
  readonly brier: number;
  readonly calibration: Calibration;
}

/** A published result shown beside the model's own (their test set, not measured here); null where not stated. */
export interface PublishedClassificationResult {
  readonly label: string;
  readonly citation: string;
  /** Their test set in words. */
  readonly data: string;
  readonly accuracy: number | null;
  readonly macroF1: number | null;
  /** Figures the publication gives as ranges or in words (e.g. `precision 0.98–1.00 per class`). */
  readonly note?: string;
}

/** Options of {@link buildClassificationReport}. */
export interface ClassificationReportOptions {
  readonly title: string;
  /** Class names in index order. */
  readonly classNames: readonly string[];
  /** Keys of the samples' `groups` to slice by. */
  readonly groupBy?: readonly string[];
  readonly facts?: Readonly<Record<string, string>>;
  /** What the scored cases are, in words. */
  readonly data?: string;
  readonly notes?: readonly string[];
  /** Confidence bins of the calibration error; default {@link CALIBRATION_BINS}. */
  readonly calibrationBins?: number;
  /**
   * The reject option. `threshold` given: it was chosen elsewhere (on validation cases) and is measured here;
   * absent: a threshold is chosen on these cases for `targetAccuracy` (in-sample, and the report says so).
   */
  readonly reject?: { readonly targetAccuracy: number; readonly threshold?: number; readonly thresholdSource?: string };
  readonly published?: readonly PublishedClassificationResult[];
  /** Creation time; default now (tests pass a fixed one). */
  readonly createdAt?: Date;
}

/** The metrics of one value of one grouping key. */
export interface ProbabilisticGroupMetrics {
  readonly key: string;
  readonly value: string;
  readonly label: string;
  readonly metrics: ProbabilisticMetrics;
}

/** Everything a classification report shows; this object is also the JSON file. */
export interface ClassificationReport {
  readonly title: string;
  readonly createdAt: string;
  readonly classNames: readonly string[];
  readonly facts: Readonly<Record<string, string>>;
  readonly data?: string;
  readonly notes?: readonly string[];
  readonly overall: ProbabilisticMetrics;
  readonly byGroup: readonly ProbabilisticGroupMetrics[];
  readonly reject: {
    /** The operating point at the threshold (given, or chosen on these cases). */
    readonly atThreshold: RejectOperatingPoint;
    readonly targetAccuracy: number;
    /** `validation` when the threshold came from elsewhere; `these cases` when chosen here (optimistic). */
    readonly thresholdSource: string;
    readonly achieved: boolean | null;
    /** Coverage and accepted accuracy at a ladder of thresholds (a risk–coverage table). */
    readonly curve: readonly RejectOperatingPoint[];
  };
  readonly samples: readonly ProbabilisticSample[];
  readonly published?: readonly PublishedClassificationResult[];
}

/** Value under which a sample without a grouping key is sliced. */
const MISSING = '(missing)';

/** Thresholds of the report's risk–coverage table. */
const CURVE_THRESHOLDS = [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999];

function argmax(p: readonly number[]): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
  return best;
}

function checkSamples(samples: readonly ProbabilisticSample[], k: number): void {
  if (samples.length === 0) throw new MetricInputError('no samples; nothing to score');
  samples.forEach((s, i) => {
    if (s.probabilities.length !== k) throw new MetricInputError(`sample ${i} (${s.id}) has ${s.probabilities.length} probabilities for ${k} classes`);
    if (s.probabilities.some((p) => !Number.isFinite(p) || p < 0 || p > 1)) throw new MetricInputError(`sample ${i} (${s.id}) has a probability outside [0, 1]`);
  });
}

/**
 * Accuracy, per-class and macro precision/recall/F1, the confusion matrix, NLL, Brier score and calibration.
 * @param samples - scored cases (at least one)
 * @param classNames - class names in index order
 * @param bins - confidence bins of the calibration error; default {@link CALIBRATION_BINS}
 * @throws MetricInputError on no samples, a probability vector of the wrong length or a value outside [0, 1]
 */
export function probabilisticMetrics(samples: readonly ProbabilisticSample[], classNames: readonly string[], bins = CALIBRATION_BINS): ProbabilisticMetrics {
  const k = classNames.length;
  if (k === 0) throw new MetricInputError('no class names');
  checkSamples(samples, k);
  const predicted = samples.map((s) => argmax(s.probabilities));
  const c = classificationMetrics(predicted, samples.map((s) => s.referenceClass), { classNames });
  const confidences = samples.map((s, i) => s.probabilities[predicted[i] as number] as number);
  const correct = samples.map((s, i) => predicted[i] === s.referenceClass);
  let nll = 0;
  let brier = 0;
  for (const s of samples) {
    nll -= Math.log(Math.max(1e-12, s.probabilities[s.referenceClass] as number));
    s.probabilities.forEach((p, j) => (brier += (p - (j === s.referenceClass ? 1 : 0)) ** 2));
  }
  return {
    n: samples.length,
    accuracy: c.accuracy,
    perClass: c.perClass,
    macroPrecision: c.macroPrecision,
    macroRecall: c.macroRecall,
    macroF1: c.macroF1,
    confusion: c.confusion,
    nll: nll / samples.length,
    brier: brier / samples.length,
    calibration: expectedCalibrationError(confidences, correct, bins),
  };
}

/** Top probability and correctness of each sample. @param samples - scored cases */
export function confidencesOf(samples: readonly ProbabilisticSample[]): { confidences: number[]; correct: boolean[] } {
  const predicted = samples.map((s) => argmax(s.probabilities));
  return {
    confidences: samples.map((s, i) => s.probabilities[predicted[i] as number] as number),
    correct: samples.map((s, i) => predicted[i] === s.referenceClass),
  };
}

/**
 * Score the samples overall and per group, place the reject option, and assemble a report object.
 * @param samples - scored cases
 * @param o - title, class names, grouping, reject option, facts, notes and published results
 * @throws MetricInputError as {@link probabilisticMetrics}, or for a target accuracy outside (0, 1]
 */
export function buildClassificationReport(samples: readonly ProbabilisticSample[], o: ClassificationReportOptions): ClassificationReport {
  const bins = o.calibrationBins ?? CALIBRATION_BINS;
  const overall = probabilisticMetrics(samples, o.classNames, bins);
  const byGroup: ProbabilisticGroupMetrics[] = [];
  for (const key of o.groupBy ?? []) {
    const slices = new Map<string, ProbabilisticSample[]>();
    for (const s of samples) {
      const value = s.groups?.[key] ?? MISSING;
      slices.set(value, [...(slices.get(value) ?? []), s]);
    }
    for (const value of [...slices.keys()].sort()) {
      byGroup.push({ key, value, label: `${key}=${value}`, metrics: probabilisticMetrics(slices.get(value) ?? [], o.classNames, bins) });
    }
  }
  const { confidences, correct } = confidencesOf(samples);
  const target = o.reject?.targetAccuracy ?? DEFAULT_TARGET_ACCURACY;
  const given = o.reject?.threshold;
  const chosen = given === undefined ? selectRejectThreshold(confidences, correct, target) : null;
  const reject = {
    atThreshold: chosen ?? rejectOperatingPoint(confidences, correct, given as number),
    targetAccuracy: target,
    thresholdSource: given === undefined ? 'these cases' : (o.reject?.thresholdSource ?? 'validation'),
    achieved: chosen === null ? null : chosen.achieved,
    curve: CURVE_THRESHOLDS.map((t) => rejectOperatingPoint(confidences, correct, t)),
  };
  return {
    title: o.title,
    createdAt: (o.createdAt ?? new Date()).toISOString(),
    classNames: o.classNames,
    facts: o.facts ?? {},
    ...(o.data === undefined ? {} : { data: o.data }),
    ...(o.notes && o.notes.length > 0 ? { notes: o.notes } : {}),
    overall,
    byGroup,
    reject,
    samples,
    ...(o.published && o.published.length > 0 ? { published: o.published } : {}),
  };
}

/** Options of {@link reliabilitySvg}. */
export interface ReliabilitySvgOptions {
  readonly title: string;
  readonly calibration: Calibration;
  readonly width?: number;
  readonly height?: number;
}

/**
 * A reliability diagram as an SVG string: per confidence bin, a bar of the accuracy against the diagonal of perfect
 * calibration, with the bin's mean confidence marked and its count written under it (Guo et al. 2017, Fig. 1).
 * @param o - the calibration (from {@link expectedCalibrationError}) and a title
 */
export function reliabilitySvg(o: ReliabilitySvgOptions): string {
  const width = o.width ?? 420;
  const height = o.height ?? 420;
  const m = { left: 56, right: 16, top: 36, bottom: 64 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + x * pw;
  const sy = (y: number): number => m.top + ph - y * ph;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="reliability" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(o.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(o.title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
  ];
  for (const t of niceTicks(0, 1, 5)) {
    parts.push(`<line x1="${m.left}" y1="${sy(t).toFixed(1)}" x2="${m.left + pw}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${sy(t).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${t}</text>`);
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${m.top + ph + 14}" text-anchor="middle">${t}</text>`);
  }
  for (const b of o.calibration.bins) {
    if (b.n === 0) continue;
    const x = sx(b.lower) + 1;
    const w = sx(b.upper) - sx(b.lower) - 2;
    parts.push(
      `<rect class="bin" x="${x.toFixed(1)}" y="${sy(b.accuracy).toFixed(1)}" width="${w.toFixed(1)}" height="${(sy(0) - sy(b.accuracy)).toFixed(1)}" fill="#1f77b4" fill-opacity="0.75">` +
        `<title>${escapeXml(`confidence (${b.lower.toFixed(3)}, ${b.upper.toFixed(3)}]: n ${b.n}, accuracy ${b.accuracy.toFixed(3)}, mean confidence ${b.meanConfidence.toFixed(3)}`)}</title></rect>`,
    );
    parts.push(`<line class="confidence" x1="${x.toFixed(1)}" y1="${sy(b.meanConfidence).toFixed(1)}" x2="${(x + w).toFixed(1)}" y2="${sy(b.meanConfidence).toFixed(1)}" stroke="#d62728" stroke-width="2"/>`);
    parts.push(`<text x="${(x + w / 2).toFixed(1)}" y="${m.top + ph + 28}" text-anchor="middle" font-size="9" fill="#666">${b.n}</text>`);
  }
  parts.push(`<line class="identity" x1="${sx(0)}" y1="${sy(0)}" x2="${sx(1)}" y2="${sy(1)}" stroke="#555" stroke-dasharray="4 3"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 22}" text-anchor="middle">confidence (top probability); n per bin below the axis</text>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${height - 8}" text-anchor="middle" fill="#d62728">red: mean confidence of the bin; ECE ${(o.calibration.ece * 100).toFixed(2)}%</text>`);
  parts.push(`<text x="14" y="${m.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + ph / 2})">accuracy</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

function pct(v: number): string {
  return Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—';
}

function num(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function row(cells: readonly string[]): string {
  return `<tr>${cells.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
}

function tableOf(head: readonly string[], rows: readonly string[], cls: string): string {
  return `<table class="${cls}"><thead><tr>${head.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function summaryTable(r: ClassificationReport): string {
  const line = (label: string, m: ProbabilisticMetrics): string =>
    row([escapeXml(label), String(m.n), pct(m.accuracy), num(m.macroF1), num(m.macroPrecision), num(m.macroRecall), pct(m.calibration.ece), num(m.nll), num(m.brier)]);
  return tableOf(
    ['', 'n', 'accuracy', 'macro F1', 'macro precision', 'macro recall', `ECE (${r.overall.calibration.bins.length} bins)`, 'NLL', 'Brier'],
    [line('all', r.overall), ...r.byGroup.map((g) => line(`${g.key} = ${g.value}`, g.metrics))],
    'summary',
  );
}

function rejectSection(r: ClassificationReport): string {
  const at = r.reject.atThreshold;
  const source =
    r.reject.thresholdSource === 'these cases'
      ? `chosen on these cases for a target accuracy of ${pct(r.reject.targetAccuracy)}${r.reject.achieved === false ? ' (not reached: only cases of confidence 1 are answered)' : ''}; chosen and measured on the same cases, it is optimistic`
      : `chosen on ${escapeXml(r.reject.thresholdSource)} for a target accuracy of ${pct(r.reject.targetAccuracy)}, measured here`;
  const curve = r.reject.curve.map((p) => row([num(p.threshold), pct(p.coverage), String(p.accepted), pct(p.acceptedAccuracy), pct(p.acceptedAccuracyLower95)]));
  return `<h2>Reject option</h2>
<p>Threshold <b>${num(at.threshold, 4)}</b> (${source}): ${at.accepted} of ${at.n} cases answered (coverage ${pct(at.coverage)}),
accuracy of the answered ${pct(at.acceptedAccuracy)} (Wilson 95% lower bound ${pct(at.acceptedAccuracyLower95)}); the other
${at.n - at.accepted} go to a person with their probabilities.</p>
${tableOf(['threshold', 'coverage', 'answered', 'accuracy of answered', 'its 95% lower bound'], curve, 'reject')}`;
}

function perClassTable(m: ProbabilisticMetrics): string {
  return tableOf(
    ['class', 'precision', 'recall', 'F1', 'support'],
    m.perClass.map((c) => row([escapeXml(c.label), num(c.precision), num(c.recall), num(c.f1), String(c.support)])),
    'per-class',
  );
}

function sliceSection(r: ClassificationReport, heading: string, m: ProbabilisticMetrics): string {
  const confusion = confusionSvg({ title: `Confusion: ${heading} (n=${m.n})`, classNames: r.classNames, confusion: m.confusion });
  const reliability = reliabilitySvg({ title: `Reliability: ${heading}`, calibration: m.calibration });
  return `<section class="slice"><h3>${escapeXml(heading)}</h3>
<div class="plots">${confusion}
${reliability}
${perClassTable(m)}</div></section>`;
}

function publishedTable(r: ClassificationReport): string {
  const published = r.published ?? [];
  if (published.length === 0) return '';
  const rows = [
    row(['this model', escapeXml(r.data ?? 'these cases'), String(r.overall.n), pct(r.overall.accuracy), num(r.overall.macroF1), '']),
    ...published.map((p) => row([escapeXml(p.label), escapeXml(p.data), '—', p.accuracy === null ? '—' : pct(p.accuracy), p.macroF1 === null ? '—' : num(p.macroF1), escapeXml(p.note ?? '')])),
  ];
  return `<h2>Beside published results</h2>
<p class="note">Published numbers are not measured here: they are on the publications' own test sets.</p>
${tableOf(['', 'data', 'n', 'accuracy', 'macro F1', 'also'], rows, 'published')}<ul class="note">${published.map((p) => `<li>${escapeXml(p.label)}: ${escapeXml(p.citation)}</li>`).join('')}</ul>`;
}

/**
 * Render a report as one self-contained HTML document (inline SVG; the report's JSON embedded as an inert block).
 * @param r - from {@link buildClassificationReport}
 */
export function renderClassificationReportHtml(r: ClassificationReport): string {
  const slices = [sliceSection(r, 'all', r.overall), ...r.byGroup.map((g) => sliceSection(r, `${g.key} = ${g.value}`, g.metrics))].join('\n');
  return `${reportPageStart(r.title, r.notes)}
<p class="note">Created ${escapeXml(r.createdAt)}. ${r.data === undefined ? '' : `Cases: ${escapeXml(r.data.replace(/\.$/, ''))}. `}The predicted class is
the most probable one. ECE: expected calibration error of the top probability over ${r.overall.calibration.bins.length} equal-width bins
(Guo et al. 2017); NLL: mean negative log-probability of the reference class; Brier: mean squared error of the probability vector.
Precision of a class never predicted is 0.</p>
${factsTable(r.facts)}
<h2>Summary</h2>
${summaryTable(r)}
${rejectSection(r)}
${publishedTable(r)}
<h2>Confusion matrices, reliability diagrams and per-class metrics</h2>
<p class="note">Confusion rows: reference class; columns: predicted class; shading by the share of the reference row.</p>
${slices}
${reportPageEnd(r)}`;
}

/**
 * Write `report.html` and `report.json` into a folder (created if missing).
 * @param dir - output folder
 * @param r - from {@link buildClassificationReport}
 */
export function writeClassificationReport(dir: string, r: ClassificationReport): { htmlPath: string; jsonPath: string } {
  mkdirSync(dir, { recursive: true });
  const htmlPath = join(dir, 'report.html');
  const jsonPath = join(dir, 'report.json');
  writeFileSync(htmlPath, renderClassificationReportHtml(r));
  writeFileSync(jsonPath, `${JSON.stringify(r, null, 2)}\n`);
  return { htmlPath, jsonPath };
}
