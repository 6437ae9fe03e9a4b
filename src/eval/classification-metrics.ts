/**
 * Classification metrics: accuracy, per-class precision/recall/F1, macro averages, confusion matrix
 * and, for ordinal classes, "±1 class" accuracy.
 *
 * Why: classification papers report these; for ordinal classes (age classes) a "corrected accuracy" that counts a
 * prediction one class away from the reference as correct is common, which is the `withinOneAccuracy` here. Precision of a class never predicted is 0 (scikit-learn's zero_division=0).
 */
import { MetricInputError } from './errors.js';
import { assertPaired } from './stats.js';

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Number of reference cases of this class. */
  readonly support: number;
}

/** Metrics of a classification; `confusion[r][p]` counts reference class r predicted as p. */
export interface ClassificationMetrics {
  readonly n: number;
  readonly accuracy: number;
  readonly perClass: readonly ClassMetrics[];
  readonly macroPrecision: number;
  readonly macroRecall: number;
  readonly macroF1: number;
  readonly confusion: readonly (readonly number[])[];
  /** Share of cases predicted at most one class away; only for ordinal classes. */
  readonly withinOneAccuracy?: number;
}

/** Options of {@link classificationMetrics}. */
export interface ClassificationMetricOptions {
  /** Class names in index order; their count is the number of classes. */
  readonly classNames: readonly string[];
  /** Whether class indices are ordered (age classes), enabling `withinOneAccuracy`. */
  readonly ordinal?: boolean;
}

function checkIndices(values: readonly number[], what: string, k: number): void {
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v >= k) {
      throw new MetricInputError(`${what}[${i}] = ${v} is not a class index in [0, ${k - 1}]`);
    }
  });
}

/**
 * Confusion matrix with rows = reference class, columns = predicted class.
 * @param predicted - predicted class indices
 * @param reference - reference class indices, same length
 * @param numClasses - number of classes
 */
export function confusionMatrix(predicted: readonly number[], reference: readonly number[], numClasses: number): number[][] {
  assertPaired(predicted, reference, ['predicted', 'reference']);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new MetricInputError(`numClasses ${numClasses} must be >= 1`);
  checkIndices(predicted, 'predicted', numClasses);
  checkIndices(reference, 'reference', numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < predicted.length; i++) {
    const row = m[reference[i] as number] as number[];
    const p = predicted[i] as number;
    row[p] = (row[p] as number) + 1;
  }
  return m;
}

/**
 * Accuracy, per-class and macro precision/recall/F1, confusion matrix, and ±1-class accuracy.
 * @param predicted - predicted class indices
 * @param reference - reference class indices
 * @param options - class names and whether they are ordinal
 */
export function classificationMetrics(
  predicted: readonly number[],
  reference: readonly number[],
  options: ClassificationMetricOptions,
): ClassificationMetrics {
  const k = options.classNames.length;
  const confusion = confusionMatrix(predicted, reference, k);
  const n = predicted.length;
  let correct = 0;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < k; c++) {
    const row = confusion[c] as number[];
    const tp = row[c] as number;
    correct += tp;
    const support = row.reduce((a, b) => a + b, 0);
    let predictedAsC = 0;
    for (let r = 0; r < k; r++) predictedAsC += (confusion[r] as number[])[c] as number;
    const precision = predictedAsC === 0 ? 0 : tp / predictedAsC;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ label: options.classNames[c] as string, precision, recall, f1, support });
  }
  const avg = (f: (m: ClassMetrics) => number): number => perClass.reduce((a, m) => a + f(m), 0) / k;
  const result: ClassificationMetrics = {
    n,
    accuracy: correct / n,
    perClass,
    macroPrecision: avg((m) => m.precision),
    macroRecall: avg((m) => m.recall),
    macroF1: avg((m) => m.f1),
    confusion,
  };
  if (options.ordinal === true) {
    let near = 0;
    for (let i = 0; i < n; i++) if (Math.abs((predicted[i] as number) - (reference[i] as number)) <= 1) near++;
    return { ...result, withinOneAccuracy: near / n };
  }
  return result;
}
