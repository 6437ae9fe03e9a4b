/**
 * Early stopping on a dev metric, with a state that goes into checkpoints.
 *
 * Why: small datasets overfit; training stops once the dev metric (an error or a score) has not improved
 * by `minDelta` for `patience` epochs, and the best epoch's weights are the ones kept.
 */
import { TrainConfigError } from './errors.js';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** `min` for errors (MAE), `max` for scores (accuracy). */
  readonly mode: 'min' | 'max';
  /** Smallest change that counts as an improvement; default 0. */
  readonly minDelta?: number;
}

/** Serialisable early-stopping state. */
export interface EarlyStoppingState {
  readonly best: number | null;
  readonly bestEpoch: number;
  readonly epochsWithoutImprovement: number;
}

/** Result of one {@link EarlyStopping.update}. */
export interface EarlyStoppingDecision {
  readonly improved: boolean;
  readonly stop: boolean;
}

/** Tracks the best dev metric and says when to stop. */
export class EarlyStopping {
  private best: number | null = null;
  private bestEpoch = -1;
  private waited = 0;

  /** @param options - patience, mode and minimum change */
  constructor(private readonly options: EarlyStoppingOptions) {
    if (!Number.isInteger(options.patience) || options.patience < 1) {
      throw new TrainConfigError(`early-stopping patience ${options.patience} must be an integer >= 1`);
    }
  }

  /**
   * Record an epoch's metric. A NaN metric never improves.
   * @param epoch - epoch index
   * @param metric - the dev metric
   */
  update(epoch: number, metric: number): EarlyStoppingDecision {
    const delta = this.options.minDelta ?? 0;
    const better =
      Number.isFinite(metric) &&
      (this.best === null || (this.options.mode === 'min' ? metric < this.best - delta : metric > this.best + delta));
    if (better) {
      this.best = metric;
      this.bestEpoch = epoch;
      this.waited = 0;
    } else {
      this.waited += 1;
    }
    return { improved: better, stop: this.waited >= this.options.patience };
  }

  /** The state for a checkpoint. */
  state(): EarlyStoppingState {
    return { best: this.best, bestEpoch: this.bestEpoch, epochsWithoutImprovement: this.waited };
  }

  /** Restore from a checkpoint. @param s - a saved state */
  load(s: EarlyStoppingState): void {
    this.best = s.best;
    this.bestEpoch = s.bestEpoch;
    this.waited = s.epochsWithoutImprovement;
  }
}
