/**
 * Training progress as events: images per second and time remaining, never printed here.
 *
 * Why: library code does not print (lint forbids console in src/); the CLI subscribes and draws a bar,
 * a server could stream the same events. Rates are an exponential moving average so one slow batch
 * (a checkpoint write) does not swing the ETA.
 */

/** One progress update after a step. */
export interface ProgressEvent {
  readonly epoch: number;
  readonly epochs: number;
  /** Steps done in this epoch and steps per epoch. */
  readonly step: number;
  readonly stepsPerEpoch: number;
  /** Images processed since the reporter started. */
  readonly images: number;
  /** Smoothed throughput. */
  readonly imagesPerSecond: number;
  /** Estimated seconds until all epochs finish; NaN before the first timed step. */
  readonly etaSeconds: number;
  readonly elapsedSeconds: number;
  /** Running mean training loss of this epoch. */
  readonly loss: number;
}

/** Receives progress events. */
export type ProgressListener = (event: ProgressEvent) => void;

/** Options of {@link ProgressReporter}. */
export interface ProgressOptions {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  /** Clock in milliseconds; tests inject a fake one. Default `performance.now`. */
  readonly now?: () => number;
  /** EMA weight of the newest rate, default 0.2. */
  readonly smoothing?: number;
}

/** Tracks steps and emits ProgressEvents with throughput and ETA. */
export class ProgressReporter {
  private readonly listeners = new Set<ProgressListener>();
  private readonly now: () => number;
  private readonly startMs: number;
  private lastMs: number;
  private rate = Number.NaN;
  private images = 0;
  private lossSum = 0;
  private lossCount = 0;
  private epoch = 0;

  /** @param options - run length, batch size and clock */
  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.startMs = this.now();
    this.lastMs = this.startMs;
  }

  /** Subscribe; returns the unsubscribe function. @param listener - called on each step */
  on(listener: ProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Start an epoch (0-based): resets the running loss. @param epoch - epoch index */
  startEpoch(epoch: number): void {
    this.epoch = epoch;
    this.lossSum = 0;
    this.lossCount = 0;
    this.lastMs = this.now();
  }

  /**
   * Record a finished step and emit an event.
   * @param step - steps done in this epoch (1-based)
   * @param images - images in this step
   * @param loss - this step's loss
   */
  step(step: number, images: number, loss: number): ProgressEvent {
    const t = this.now();
    const dt = (t - this.lastMs) / 1000;
    this.lastMs = t;
    this.images += images;
    if (dt > 0) {
      const r = images / dt;
      const a = this.options.smoothing ?? 0.2;
      this.rate = Number.isNaN(this.rate) ? r : a * r + (1 - a) * this.rate;
    }
    if (Number.isFinite(loss)) {
      this.lossSum += loss;
      this.lossCount += 1;
    }
    const { epochs, stepsPerEpoch, batchSize } = this.options;
    const stepsLeft = (epochs - this.epoch - 1) * stepsPerEpoch + (stepsPerEpoch - step);
    const event: ProgressEvent = {
      epoch: this.epoch,
      epochs,
      step,
      stepsPerEpoch,
      images: this.images,
      imagesPerSecond: this.rate,
      etaSeconds: Number.isNaN(this.rate) || this.rate === 0 ? Number.NaN : (Math.max(0, stepsLeft) * batchSize) / this.rate,
      elapsedSeconds: (t - this.startMs) / 1000,
      loss: this.lossCount > 0 ? this.lossSum / this.lossCount : Number.NaN,
    };
    for (const l of this.listeners) l(event);
    return event;
  }
}

/** Seconds as `1h02m03s` / `2m03s` / `3s`; `?` when unknown. @param seconds - duration */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** A one-line progress bar for a terminal. @param e - the event @param width - bar characters */
export function formatProgress(e: ProgressEvent, width = 24): string {
  const done = (e.epoch * e.stepsPerEpoch + e.step) / Math.max(1, e.epochs * e.stepsPerEpoch);
  const filled = Math.round(Math.min(1, done) * width);
  const rate = Number.isFinite(e.imagesPerSecond) ? e.imagesPerSecond.toFixed(1) : '?';
  const loss = Number.isFinite(e.loss) ? e.loss.toFixed(3) : '?';
  return `epoch ${e.epoch + 1}/${e.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${e.step}/${e.stepsPerEpoch} loss ${loss} ${rate} img/s ETA ${formatDuration(e.etaSeconds)}`;
}
