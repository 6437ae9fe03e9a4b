/**
 * Bone-age models behind one folder: a single bundle, a fold ensemble or a sex-specific pair (composite
 * bundles, src/infer/composite.ts), opened with their networks and OOD models, and the interval of an ensemble
 * calibrated on out-of-fold predictions.
 *
 * Why: predict, evaluate and explain accept a composite wherever they accept a bundle (issue 5: "optional
 * ensembling of the fold models", "sex-specific models (two bundles, one per sex)"). An ensemble's 90% interval
 * cannot be calibrated on the images its members trained on; with K-fold training every image has exactly one
 * member that never saw it, and that member's residual is honest. Split-conformal calibration of those
 * out-of-fold residuals (Lei et al., JASA 2018; Vovk 2015 "cross-conformal predictors") gives a constant
 * half-width that covers a single fold model's error at the nominal level; applied around the ensemble mean,
 * which averages K such models and is usually closer, it is conservative.
 */
import { buildRegressionReport, sampleSd, writeRegressionReport, type RegressionSample } from '../eval/index.js';
import { isCompositeDir, loadBundle, loadComposite, type CompositeBundle, type CompositeKind, type ModelBundle } from '../infer/index.js';
import type { ZooModel } from '../models/index.js';
import type { OodModel } from '../tasks/index.js';
import { loadBoneAgeBundleModel, predictBoneAges, type BoneAgeLoaderOptions, type LabelledBoneAgeItem } from './bone-age-model.js';
import { TrainConfigError } from './errors.js';
import { evaluateBoneAgeBundle, loadBundleOodModel } from './train-bone-age.js';
import { conformalQuantile } from './tta.js';

/** One opened member: its network, bundle, OOD model, and for a sex-specific composite the sex it predicts. */
export interface BoneAgeMember {
  readonly model: ZooModel;
  readonly bundle: ModelBundle;
  readonly ood: OodModel | null;
  readonly sex?: 'M' | 'F';
  /** Weight in an ensemble mean (1 unless composite.json says otherwise). */
  readonly weight: number;
}

/** A single bundle or a composite, opened: what predict, evaluate and explain run. */
export interface BoneAgeModelSet {
  readonly dir: string;
  readonly kind: 'single' | CompositeKind;
  /** The composite, or null for a single bundle. */
  readonly composite: CompositeBundle | null;
  readonly members: readonly BoneAgeMember[];
  /** The input side every member takes. */
  readonly size: number;
}

/**
 * Open a bundle folder or a composite folder (composite.json) with every member's network and OOD model.
 * @param dir - a bundle or composite folder
 * @throws TrainConfigError when the task is not hand-bone-age; the infer errors of loadBundle / loadComposite
 */
export function openBoneAgeModels(dir: string): BoneAgeModelSet {
  const composite = isCompositeDir(dir) ? loadComposite(dir) : null;
  const bundles = composite ? composite.members : [loadBundle(dir)];
  for (const b of bundles) {
    if (b.card.task !== 'hand-bone-age') throw new TrainConfigError(`${b.dir}: task '${b.card.task}' is not hand-bone-age`);
  }
  const members: BoneAgeMember[] = [];
  try {
    bundles.forEach((b, i) => {
      const pinned = composite?.manifest.members[i];
      const ood = loadBundleOodModel(b);
      const { model } = loadBoneAgeBundleModel(b);
      members.push({ model, bundle: b, ood, ...(pinned?.sex === undefined ? {} : { sex: pinned.sex }), weight: pinned?.weight ?? 1 });
    });
  } catch (e) {
    for (const m of members) m.model.dispose();
    throw e;
  }
  return { dir, kind: composite ? composite.manifest.kind : 'single', composite, members, size: bundles[0]?.card.input.shape[1] as number };
}

/** Free every member's network. @param set - from {@link openBoneAgeModels} */
export function disposeBoneAgeModels(set: BoneAgeModelSet): void {
  for (const m of set.members) m.model.dispose();
}

/**
 * The weighted mean of member predictions and their spread (sample SD, 0 for one member).
 * @param values - one prediction per member (months)
 * @param weights - one positive weight per member
 */
export function ensembleMean(values: readonly number[], weights: readonly number[] = values.map(() => 1)): { meanMonths: number; sdMonths: number } {
  if (values.length === 0 || values.length !== weights.length) {
    throw new TrainConfigError(`ensemble of ${values.length} predictions with ${weights.length} weights`);
  }
  const w = weights.reduce((a, b) => a + b, 0);
  const mean = values.reduce((a, v, i) => a + v * (weights[i] as number), 0) / w;
  return { meanMonths: mean, sdMonths: values.length > 1 ? sampleSd(values) : 0 };
}

/** A constant-width interval calibrated on residuals, with its in-sample and held-out coverage. */
export interface ResidualIntervalCalibration {
  readonly level: number;
  readonly halfWidthMonths: number;
  /** Share of calibration cases with |residual| ≤ half-width (at least `level` by construction). */
  readonly coverage: number;
  /** Two-fold cross-conformal coverage: calibrated on the even cases, measured on the odd, and the reverse. */
  readonly coverageHeldOut: number | null;
  readonly n: number;
}

/**
 * Split-conformal half-width of a constant 90% (or `level`) interval from out-of-fold residuals.
 * @param samples - predictions (each from the fold model that did not train on the image) with references
 * @param level - nominal coverage, default 0.9
 */
export function calibrateOofInterval(samples: readonly { readonly predicted: number; readonly reference: number }[], level = 0.9): ResidualIntervalCalibration {
  if (samples.length === 0) throw new TrainConfigError('no out-of-fold predictions to calibrate the interval on');
  if (!(level > 0 && level < 1)) throw new TrainConfigError(`interval level ${level} must be in (0, 1)`);
  const abs = samples.map((s) => Math.abs(s.reference - s.predicted));
  if (!abs.every(Number.isFinite)) throw new TrainConfigError('an out-of-fold prediction or reference is not finite');
  const half = conformalQuantile([...abs].sort((a, b) => a - b), level);
  const coverage = abs.filter((a) => a <= half).length / abs.length;
  let coverageHeldOut: number | null = null;
  const even = abs.filter((_, i) => i % 2 === 0);
  const odd = abs.filter((_, i) => i % 2 === 1);
  if (even.length > 0 && odd.length > 0) {
    const covered = (cal: number[], test: number[]): number => {
      const h = conformalQuantile([...cal].sort((a, b) => a - b), level);
      return test.filter((a) => a <= h).length / test.length;
    };
    coverageHeldOut = (covered(even, odd) + covered(odd, even)) / 2;
  }
  return { level, halfWidthMonths: half, coverage, coverageHeldOut, n: abs.length };
}

/**
 * Predict labelled items with a model set: a single bundle as `predictBoneAges`; an ensemble as the weighted
 * mean of its members; a sex-specific composite routes each item to the member of the item's sex.
 * @param set - from {@link openBoneAgeModels}
 * @param items - radiographs with reference ages and sex
 * @param o - loader options (size is taken from the set)
 * @returns one sample per item, in item order, with `members` holding each member's prediction for an ensemble
 */
export async function predictBoneAgesWithSet(
  set: BoneAgeModelSet,
  items: readonly LabelledBoneAgeItem[],
  o: Omit<BoneAgeLoaderOptions, 'size'>,
): Promise<(RegressionSample & { readonly memberPredictions?: readonly number[] })[]> {
  const opts = { ...o, size: set.size };
  const byId = (samples: readonly RegressionSample[]): Map<string, RegressionSample> => new Map(samples.map((s) => [s.id ?? '', s]));
  const keyed = items.map((it, i) => ({ ...it, id: `${i}` }));
  if (set.kind === 'sex-specific') {
    const out = new Map<string, RegressionSample>();
    for (const m of set.members) {
      const mine = keyed.filter((it) => it.sex === m.sex);
      if (mine.length > 0) for (const [k, v] of byId(await predictBoneAges(m.model, mine, opts))) out.set(k, v);
    }
    return keyed.map((it, i) => ({ ...(out.get(it.id) as RegressionSample), id: items[i]?.id ?? items[i]?.path ?? '' }));
  }
  const perMember: Map<string, RegressionSample>[] = [];
  for (const m of set.members) perMember.push(byId(await predictBoneAges(m.model, keyed, opts)));
  const weights = set.members.map((m) => m.weight);
  return keyed.map((it, i) => {
    const values = perMember.map((p) => (p.get(it.id) as RegressionSample).predicted);
    const base = { reference: it.boneAgeMonths, sex: it.sex, id: items[i]?.id ?? items[i]?.path ?? '' };
    if (set.kind === 'single') return { ...base, predicted: values[0] as number };
    return { ...base, predicted: ensembleMean(values, weights).meanMonths, memberPredictions: values };
  });
}

/**
 * Evaluate a bundle or composite folder on labelled items and write the HTML/JSON report.
 * @param dir - a bundle or composite folder
 * @param items - radiographs with reference ages and sex
 * @param o - report folder, loader workers, batch size, a data description
 */
export async function evaluateBoneAgeModels(
  dir: string,
  items: readonly LabelledBoneAgeItem[],
  o: { outDir: string; workers?: number; batchSize?: number; dataSummary: string },
): Promise<{ samples: RegressionSample[]; reportHtml: string; reportJson: string; maeMonths: number }> {
  if (!isCompositeDir(dir)) return evaluateBoneAgeBundle(dir, items, o);
  const set = openBoneAgeModels(dir);
  try {
    const samples = (await predictBoneAgesWithSet(set, items, { workers: o.workers ?? 1, batchSize: o.batchSize ?? 16 })).map(
      ({ memberPredictions: _m, ...s }) => s,
    );
    const manifest = set.composite?.manifest;
    const report = buildRegressionReport(samples, {
      title: `${manifest?.id ?? dir}: evaluation`,
      unit: 'months',
      facts: {
        model: `${manifest?.id ?? dir} (${set.kind} of ${set.members.length})`,
        members: set.members
          .map((m) => `${m.bundle.card.id}${m.sex ? ` [${m.sex}]` : ''} sha256 ${m.bundle.card.files.weights.sha256}`)
          .join('; '),
        data: o.dataSummary,
      },
    });
    const { htmlPath, jsonPath } = writeRegressionReport(o.outDir, report);
    return { samples, reportHtml: htmlPath, reportJson: jsonPath, maeMonths: report.metrics.overall.mae };
  } finally {
    disposeBoneAgeModels(set);
  }
}
