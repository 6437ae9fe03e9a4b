/**
 * The hand-bone-age 90% interval: the mean of TTA views ± a split-conformal multiple of their SD plus a floor
 * (Papadopoulos et al. 2002; Lei et al., JASA 2018), calibrated on films the network did not train on. One function
 * calibrates it for the trainer (on the dev films) and for `physis bundle recalibrate` (on a bundle's dev films, or on a
 * department's own labelled films), so both write the same file for the same films.
 *
 * Why recalibrate: the interval's coverage holds for films like those it was calibrated on; a department whose films,
 * readers or population differ from the training set's calibrates on its own labelled films without retraining, and
 * the card then says which films those were.
 */
import { calibrateScaledInterval, scaledHeldOutCoverage, scaledInterval, spreadOf, type Spread } from '../../eval/index.js';
import { loadBundle, loadBundleModel, saveBundle, type CardMetric, type ModelCard } from '../../infer/index.js';
import type { ZooModel } from '../../models/index.js';
import type { GrayImage } from '../../preprocess/index.js';
import { predictTtaVariants, Rng, sha256File, trainingRowHashes } from '../../train/index.js';
import { InputError } from '../errors.js';
import { cardPreprocessing } from '../pipeline.js';
import type { RecalibrateIntervalOptions } from '../task.js';
import { sexInput } from './config.js';
import { readBoneAgeLabels } from './labels.js';
import { preprocessHandImage } from './sample.js';
import { INTERVAL_FILE, INTERVAL_ROLE, type IntervalCalibrationFile } from './state.js';

/** The nominal coverage of the interval. */
export const INTERVAL_LEVEL = 0.9;

/** Added to the TTA SD (months) so a film whose views agree exactly still gets a non-zero interval. */
export const TTA_SD_FLOOR_MONTHS = 1;

/**
 * TTA views per film for the interval. Why 32, not 8: the interval's width follows the views' SD, and the SD of 8
 * outputs is itself uncertain by about a quarter (its relative standard error is near 1/√(2·7)); with 32 it is near
 * an eighth. Measured on the 177 dev films of the shipped hand model: the bootstrap SD of the calibrated median width
 * falls from 4.7 to 2.7 months and its bootstrap mean from 37.7 to 35.8; the mean of the views scores the same (MAE
 * 8.96 against 8.99). The cost is the backbone on 32 small images instead of 8 per film (about 0.3 s more on two CPU
 * cores at 128 px).
 */
export const INTERVAL_TTA_VIEWS = 32;

/** Seed of the held-out check's halvings: fixed, so the same films give the same figure. */
export const HELD_OUT_SEED = 0;

/** One calibration film: its TTA spread and reference reading. */
export interface IntervalCase {
  readonly spread: Spread;
  readonly reference: number;
}

/**
 * The TTA spread of one preprocessed film with its sex input.
 * @param model - the network (eval mode)
 * @param image - the preprocessed film
 * @param sexValue - the encoded sex input (1 male, 0 female)
 * @param views - TTA views
 */
export function handSpread(model: ZooModel, image: GrayImage, sexValue: number, views: number): Spread {
  return spreadOf(predictTtaVariants(model, image, [[sexValue]], views)[0] as number[]);
}

/**
 * Calibrate the interval on films the network did not train on, with its card metrics.
 * @param cases - the films' spreads and readings (at least two)
 * @param views - TTA views the spreads were taken over
 * @param data - the films, in words (e.g. `dev split, 177 images`)
 */
export function calibrateHandInterval(cases: readonly IntervalCase[], views: number, data: string): { calibration: IntervalCalibrationFile; metrics: CardMetric[] } {
  const cal = calibrateScaledInterval(cases, INTERVAL_LEVEL, TTA_SD_FLOOR_MONTHS);
  const coverageHeldOut = cases.length >= 2 ? scaledHeldOutCoverage(cases, INTERVAL_LEVEL, TTA_SD_FLOOR_MONTHS, new Rng(HELD_OUT_SEED), 0) : undefined;
  const maeTta = cases.reduce((a, c) => a + Math.abs(c.spread.mean - c.reference), 0) / cases.length;
  // the width a reader sees: the interval as predict gives it, clamped at 0 months
  const widths = cases
    .map((c) => {
      const iv = scaledInterval(c.spread, cal, 0);
      return iv.high - iv.low;
    })
    .sort((a, b) => a - b);
  const medianWidth = ((widths[Math.floor((widths.length - 1) / 2)] as number) + (widths[Math.ceil((widths.length - 1) / 2)] as number)) / 2;
  const calibration: IntervalCalibrationFile = {
    format: 'physis-interval',
    version: 1,
    method: 'tta-sd-scaled-split-conformal',
    level: INTERVAL_LEVEL,
    scale: cal.scale,
    floorMonths: TTA_SD_FLOOR_MONTHS,
    views,
    coverage: cal.coverage,
    ...(coverageHeldOut === undefined ? {} : { coverageHeldOut }),
    n: cal.n,
    data,
  };
  const metrics: CardMetric[] = [
    { name: 'maeTta', value: maeTta, unit: 'months', data: `${data}, mean of ${views} TTA views` },
    { name: 'ttaViews', value: views, unit: 'count', data: 'views per image for the interval' },
    { name: 'interval90Scale', value: cal.scale, unit: `multiple of (TTA SD + ${TTA_SD_FLOOR_MONTHS} month)`, data: `split-conformal calibration on the ${data}` },
    { name: 'interval90MedianWidth', value: medianWidth, unit: 'months', data: `${data}, high − low of each film's interval (low clamped at 0)` },
    { name: 'interval90Coverage', value: cal.coverage, unit: 'fraction', data: `${data} (in-sample: the calibration set)` },
    ...(coverageHeldOut === undefined
      ? []
      : [
          {
            name: 'interval90CoverageHeldOut',
            value: coverageHeldOut,
            unit: 'fraction',
            data: `${data}, two-fold cross-conformal, mean over 200 random halvings (calibrated on one half, measured on the other)`,
          },
        ]),
  ];
  return { calibration, metrics };
}

/**
 * Fewest films to calibrate on: with n films the split-conformal multiple is the ⌈0.9 (n + 1)⌉-th smallest score
 * (Lei et al., JASA 2018), which below 19 films is their largest, so no film of the calibration set could ever fall
 * outside; 20 is the first round number past that.
 */
const MIN_CALIBRATION_FILMS = 20;

/** The card metrics an interval calibration writes (replaced as a whole on recalibration). */
const INTERVAL_METRICS = new Set(['maeTta', 'ttaViews', 'interval90Scale', 'interval90MedianWidth', 'interval90Coverage', 'interval90CoverageHeldOut']);

/** The next patch version of a semantic version (`0.2.0` → `0.2.1`); null when the version is not one. */
export function nextPatchVersion(version: string): string | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m === null ? null : `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}

/**
 * Recalibrate a hand-bone-age bundle's 90% interval in place on labelled films the network did not train on: the
 * calibration file, the card's interval metrics, `trainingData.calibration` (the command and the films) and the patch
 * version change; the weights do not. Refused when any of the films trained the network (an interval calibrated on
 * them would be too narrow: the network fitted them), judged by content against the bundle's training rows.
 * @param dir - the bundle folder
 * @param labelsCsv - the labels file of the films
 * @param o - split, command and progress
 * @returns one line for people
 */
export async function recalibrateHandBundle(dir: string, labelsCsv: string, o: RecalibrateIntervalOptions): Promise<string> {
  const bundle = loadBundle(dir);
  const version = nextPatchVersion(bundle.card.version);
  if (version === null) throw new InputError(`${dir}: card version '${bundle.card.version}' is not major.minor.patch; cannot mark the recalibrated bundle`);
  // a model of one sex (a member of a composite by sex) is calibrated on films of its sex, as the trainer does
  const sex = bundle.card.trainingData.subset?.['sex'];
  const kept = `${o.split === undefined ? '' : ` in split '${o.split}'`}${sex === undefined ? '' : ` of sex ${sex}`}`;
  const rows = readBoneAgeLabels(labelsCsv).filter((r) => (o.split === undefined || r.split === o.split) && (sex === undefined || r.sex === sex));
  if (rows.length < MIN_CALIBRATION_FILMS) {
    throw new InputError(`${labelsCsv}: ${rows.length} film(s)${kept}; a 90% interval needs at least ${MIN_CALIBRATION_FILMS} to calibrate on`);
  }
  const listed = trainingRowHashes(bundle);
  if (listed === null) throw new InputError(`${dir}: lists no training rows, so films it trained on cannot be told apart; refusing to calibrate`);
  const overlap = rows.filter((r) => listed.train.has(sha256File(r.path)));
  if (overlap.length > 0) {
    throw new InputError(
      `${overlap.length} of the ${rows.length} films trained this network (first: ${overlap[0]?.file}); an interval calibrated on them would be too narrow. Calibrate on films it did not train on (e.g. --split dev)`,
    );
  }
  const views = INTERVAL_TTA_VIEWS;
  const preprocessing = cardPreprocessing({ bundle });
  const model = loadBundleModel(bundle);
  const cases: IntervalCase[] = [];
  const started = performance.now();
  try {
    for (const row of rows) {
      // prepared as predict prepares a film: the card's preprocessing, replayed
      const { image } = await preprocessHandImage(row.path, { preprocessing, cache: false });
      cases.push({ spread: handSpread(model, image, sexInput(row.sex), views), reference: row.boneAgeMonths });
      const seconds = (performance.now() - started) / 1000;
      const rate = cases.length / Math.max(seconds, 1e-9);
      o.progress?.(cases.length, rows.length, rate, (rows.length - cases.length) / rate);
    }
  } finally {
    model.dispose();
  }
  const data = `${labelsCsv}${kept === '' ? '' : ` (${kept.trim()})`}, ${rows.length} images`;
  const { calibration, metrics } = calibrateHandInterval(cases, views, data);
  const { schemaVersion: _s, files: _f, createdAt: _c, physisVersion: _p, ...draft } = bundle.card;
  const card: Omit<ModelCard, 'schemaVersion' | 'files' | 'createdAt' | 'physisVersion'> = {
    ...draft,
    version,
    trainingData: { ...draft.trainingData, calibration: { command: o.command, data } },
    metrics: [...draft.metrics.filter((m) => !INTERVAL_METRICS.has(m.name)), ...metrics],
  };
  saveBundle(dir, {
    card,
    weights: bundle.weightsBytes,
    weightsDType: bundle.card.files.weights.dtype,
    artifacts: [
      ...[...bundle.artifacts.values()].filter((a) => a.role !== INTERVAL_ROLE).map((a) => ({ path: a.path, role: a.role, bytes: a.bytes })),
      { path: INTERVAL_FILE, role: INTERVAL_ROLE, bytes: new TextEncoder().encode(`${JSON.stringify(calibration, null, 2)}\n`) },
    ],
  });
  const width = metrics.find((m) => m.name === 'interval90MedianWidth')?.value ?? Number.NaN;
  return (
    `${dir}: interval recalibrated on ${rows.length} films over ${views} TTA views: scale ${calibration.scale.toFixed(3)}, ` +
    `median width ${width.toFixed(1)} months, coverage ${calibration.coverage.toFixed(3)} in-sample, ` +
    `${(calibration.coverageHeldOut ?? Number.NaN).toFixed(3)} held out; card version ${bundle.card.version} -> ${version}`
  );
}
