/**
 * Metric accumulators: feed batches during an evaluation loop, compute once at the end.
 *
 * Why: evaluation runs batch by batch (the engine returns one tensor per batch); collecting into an
 * accumulator keeps the loop free of bookkeeping and computes exact (not batch-averaged) metrics, as
 * MONAI's `Cumulative` metrics do.
 */
import { classificationMetrics, type ClassificationMetrics } from './classification-metrics.js';
import { MetricInputError } from './errors.js';
import {
  groupedRegressionMetrics,
  type GroupedMetricOptions,
  type GroupedRegressionMetrics,
  type RegressionSample,
} from './grouped-metrics.js';

/** Collects batches with `update`, scores them with `compute`. */
export interface MetricAccumulator<TBatch, TResult> {
  /** Number of cases collected so far. */
  readonly count: number;
  /** Add one batch. */
  update(batch: TBatch): void;
  /** Metrics over everything collected; throws MetricInputError when nothing was collected. */
  compute(): TResult;
  /** Forget everything collected. */
  reset(): void;
}

/** One batch of regression outputs; optional arrays must match `predicted` in length. */
export interface RegressionBatch {
  readonly predicted: ArrayLike<number>;
  readonly reference: ArrayLike<number>;
  readonly sex?: readonly (string | undefined)[];
  readonly ids?: readonly string[];
}

function checkLength(name: string, got: number, want: number): void {
  if (got !== want) throw new MetricInputError(`batch ${name} has ${got} values but predicted has ${want}`);
}

/** Accumulates regression batches into grouped metrics (overall, by sex, by age band). */
export class RegressionAccumulator implements MetricAccumulator<RegressionBatch, GroupedRegressionMetrics> {
  private items: RegressionSample[] = [];

  /** @param options - age bands and within-k thresholds used by `compute` */
  constructor(private readonly options: GroupedMetricOptions = {}) {}

  get count(): number {
    return this.items.length;
  }

  update(batch: RegressionBatch): void {
    const n = batch.predicted.length;
    checkLength('reference', batch.reference.length, n);
    if (batch.sex) checkLength('sex', batch.sex.length, n);
    if (batch.ids) checkLength('ids', batch.ids.length, n);
    for (let i = 0; i < n; i++) {
      const sex = batch.sex?.[i];
      const id = batch.ids?.[i];
      this.items.push({
        predicted: batch.predicted[i] as number,
        reference: batch.reference[i] as number,
        ...(sex === undefined ? {} : { sex }),
        ...(id === undefined ? {} : { id }),
      });
    }
  }

  /** The cases collected so far, in order (for reports and plots). */
  samples(): readonly RegressionSample[] {
    return this.items;
  }

  compute(): GroupedRegressionMetrics {
    return groupedRegressionMetrics(this.items, this.options);
  }

  reset(): void {
    this.items = [];
  }
}

/** One batch of class predictions (indices) and references. */
export interface ClassificationBatch {
  readonly predicted: ArrayLike<number>;
  readonly reference: ArrayLike<number>;
}

/** Accumulates class-index batches into classification metrics. */
export class ClassificationAccumulator implements MetricAccumulator<ClassificationBatch, ClassificationMetrics> {
  private predicted: number[] = [];
  private reference: number[] = [];

  /** @param classNames - class names in index order @param ordinal - whether ±1-class accuracy applies */
  constructor(
    private readonly classNames: readonly string[],
    private readonly ordinal = false,
  ) {}

  get count(): number {
    return this.predicted.length;
  }

  update(batch: ClassificationBatch): void {
    checkLength('reference', batch.reference.length, batch.predicted.length);
    for (let i = 0; i < batch.predicted.length; i++) {
      this.predicted.push(batch.predicted[i] as number);
      this.reference.push(batch.reference[i] as number);
    }
  }

  compute(): ClassificationMetrics {
    return classificationMetrics(this.predicted, this.reference, { classNames: this.classNames, ordinal: this.ordinal });
  }

  reset(): void {
    this.predicted = [];
    this.reference = [];
  }
}
