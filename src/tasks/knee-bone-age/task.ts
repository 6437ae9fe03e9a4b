/**
 * The knee-bone-age task: bone age in months from an AP knee radiograph, with sex and chronological age as inputs,
 * learned from the bone age of a paired hand film (a radiologist's reading or a hand model's pseudo-label), by
 * transfer from the hand model (knee bone age by transfer from a hand bone-age model, doi 10.1177/23259671261424923).
 *
 * The report scores the model against the readings and against the pseudo-labels separately, beside the trivial
 * estimator a surgeon has without a hand film (bone age = chronological age), with Bland–Altman agreement; the bundle
 * refuses knees unlike its training films (feature distance) and ages beyond 18 years, and names its teacher.
 *
 * @example
 * $ physis predict knee.dcm --task knee-bone-age --bundle runs/knee
 * knee.dcm: bone age 131.2 months [90% 117.0-145.4] (sex F from dicom, chronological age 124.0 months from dicom: +7.2)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildRegressionReport, calibrateResidualInterval, RegressionAccumulator, writeRegressionReport, type RegressionSample } from '../../eval/index.js';
import type { CardMetric } from '../../infer/index.js';
import type { ModelOptions, ZooModel } from '../../models/index.js';
import type { PreprocessOptions } from '../../preprocess/index.js';
import { F, noGrad, type Tensor } from '../../torch/index.js';
import { loaderPooledFeatures, POOLED_FEATURES_DESCRIPTION, recipePreprocessing, Rng, type FinaliseContext, type Finalised, type ReportImage, type TaskReport, type TrainRecipe } from '../../train/index.js';
import { InputError } from '../errors.js';
import { describeThreshold, featureDistance, fitFeatureDistance, trainingDataRecord } from '../feature-distance.js';
import { SEX_INPUT } from '../hand-bone-age/index.js';
import { closeGate, openGate } from '../suitability/index.js';
import type { FilmResult, Task } from '../task.js';
import {
  KNEE_AGE_BANDS_MONTHS,
  KNEE_BONE_AGE_RECIPE,
  KNEE_CONVNEXT_RECIPE,
  KNEE_MAX_AGE_MONTHS,
  KNEE_PHANTOM_NOTICE,
  KNEE_PUBLISHED_RESULTS,
  KNEE_WITHIN_THRESHOLDS_MONTHS,
} from './config.js';
import { AGE_INPUT } from './inputs.js';
import { KNEE_LABEL_POLICIES, prepareKneeLabels, type KneeLabelPolicy } from './prepare.js';
import { readKneeLabels, type KneeLabel } from './labels.js';
import { predictKneeBoneAge, type KneeInterval90 } from './predict.js';
import { measureKneeSaliency } from './saliency.js';
import {
  KNEE_INTERVAL_FILE,
  KNEE_INTERVAL_ROLE,
  KNEE_LABELS_FILE,
  KNEE_LABELS_ROLE,
  KNEE_OOD_FILE,
  KNEE_OOD_FORMAT,
  KNEE_OOD_ROLE,
  KNEE_TRAINING_DATA_FILE,
  KNEE_TRAINING_DATA_FORMAT,
  KNEE_TRAINING_DATA_ROLE,
  openKneeMember,
  type KneeIntervalFile,
  type KneeLabelProvenance,
  type KneeState,
} from './state.js';
import { kneeReportFindings } from './report.js';

/** One labelled knee film. */
export interface KneeItem extends KneeLabel {
  readonly id: string;
}

const LEVEL = 0.9;
const GROUPS = { ageBands: KNEE_AGE_BANDS_MONTHS, withinThresholds: KNEE_WITHIN_THRESHOLDS_MONTHS, published: KNEE_PUBLISHED_RESULTS };
const SAMPLE_MODULE = new URL(import.meta.url.endsWith('.ts') ? './sample.ts' : './sample.js', import.meta.url);

/**
 * Sex selects one of two linear heads, as in the hand model; chronological age is concatenated to the features after
 * sex, so a hand model's head (features, then sex) transfers column for column with `--init` and the age column
 * starts at zero: the knee model starts as the hand model's reading of the knee and learns from there.
 */
function kneeModelOptions(): ModelOptions {
  return { inChannels: 1, head: { kind: 'regression', outputs: 1, relu: true, groupedBy: { extraIndex: 0, groups: 2 } }, extraInputs: 2 };
}

/** The bone age an output means (the head's output, months). */
const boneAgeOf = (output: Float32Array | undefined): number => output?.[0] as number;

const sample = (predicted: number, reference: number, it: KneeItem): RegressionSample => ({ predicted, reference, sex: it.sex, id: it.id });

/**
 * The comparison rows of the report: the model against the radiologists' readings and against the teacher's
 * pseudo-labels (each where known), and the chronological age as an estimator of the label.
 */
function comparisons(outputs: readonly Float32Array[], items: readonly KneeItem[]): { key: string; label: string; samples: RegressionSample[] }[] {
  const vs = (f: (it: KneeItem) => number | undefined): RegressionSample[] =>
    items.flatMap((it, i) => {
      const ref = f(it);
      return ref === undefined ? [] : [sample(boneAgeOf(outputs[i]), ref, it)];
    });
  const readings = vs((it) => it.readingMonths);
  const pseudo = vs((it) => it.pseudoMonths);
  const baseline = items.map((it) => sample(it.chronologicalAgeMonths, it.boneAgeMonths, it));
  return [
    ...(readings.length > 0 ? [{ key: 'VsReadings', label: `this model vs the radiologists' hand readings (${readings.length} films)`, samples: readings }] : []),
    ...(pseudo.length > 0 ? [{ key: 'VsPseudoLabels', label: `this model vs the teacher hand model's pseudo-labels (${pseudo.length} films)`, samples: pseudo }] : []),
    { key: 'ChronologicalAgeBaseline', label: 'chronological age as the bone age (no hand film), vs the label', samples: baseline },
  ];
}

function kneeReport(outputs: readonly Float32Array[], items: readonly KneeItem[], o: Parameters<Task<KneeItem, KneeState>['report']>[2]): TaskReport {
  const samples = items.map((it, i) => sample(boneAgeOf(outputs[i]), it.boneAgeMonths, it));
  const rows = comparisons(outputs, items);
  const simulated = items.filter((it) => it.simulated).length;
  const facts = { ...o.facts, ...(simulated === 0 ? {} : { 'simulated films': `${simulated} of ${items.length} scored knees are simulated: ${KNEE_PHANTOM_NOTICE}` }) };
  const report = buildRegressionReport(samples, {
    title: o.title,
    unit: 'months',
    facts,
    data: o.data,
    comparisons: rows,
    ...GROUPS,
    published: [...GROUPS.published, ...(o.published ?? [])],
    ...(o.folds ? { folds: o.folds } : {}),
    ...(o.images ? { images: o.images } : {}),
    ...(o.tables ? { tables: o.tables } : {}),
  });
  const m = report.metrics.overall;
  const extra = (report.comparisons ?? []).map((c, i): CardMetric[] => {
    const key = rows[i]?.key as string;
    return [
      { name: `mae${key}`, value: c.metrics.mae, unit: 'months', data: `${o.data}: ${c.label}` },
      { name: `bias${key}`, value: c.metrics.bias, unit: 'months', data: `${o.data}: ${c.label}` },
    ];
  });
  return {
    metrics: [
      { name: 'mae', value: m.mae, unit: 'months', data: o.data },
      { name: 'rmse', value: m.rmse, unit: 'months', data: o.data },
      { name: 'bias', value: m.bias, unit: 'months', data: o.data },
      { name: 'limitsOfAgreementLow', value: m.blandAltman.lowerLimit, unit: 'months', data: `${o.data}: Bland–Altman, mean difference − 1.96 SD` },
      { name: 'limitsOfAgreementHigh', value: m.blandAltman.upperLimit, unit: 'months', data: `${o.data}: Bland–Altman, mean difference + 1.96 SD` },
      ...m.within.map((w): CardMetric => ({ name: `within${w.threshold}Months`, value: w.share, unit: 'fraction', data: o.data })),
      ...extra.flat(),
    ],
    write: (dir) => writeRegressionReport(dir, report, 'report', o.images),
  };
}

/** The films of these items that carry masks (physes, ossification centres), as the saliency measure takes them. */
function maskedFilms(items: readonly KneeItem[]): Parameters<typeof measureKneeSaliency>[1] {
  return items.flatMap((it) => {
    const maskPaths = [it.physisMaskPath, it.ossificationMaskPath].filter((p): p is string => p !== undefined);
    return maskPaths.length === 0
      ? []
      : [{ id: it.id, path: it.path, maskPaths, sex: it.sex, chronologicalAgeMonths: it.chronologicalAgeMonths, ...(it.laterality === undefined ? {} : { laterality: it.laterality }) }];
  });
}

function saliencyMetrics(summary: Awaited<ReturnType<typeof measureKneeSaliency>>['summary']): Record<string, number> {
  if (summary === null) return {};
  return {
    saliencyEnergyOnMaturityMasks: summary.meanEnergyShare,
    saliencyMaturityMaskArea: summary.meanAreaShare,
    saliencyEnrichment: summary.meanEnrichment,
    saliencyPointingHit: summary.pointingHitRate,
  };
}

/** OOD statistics, the interval, the training-data and label records, and the saliency check on masked dev films. */
async function finalise(ctx: FinaliseContext<KneeItem>): Promise<Finalised> {
  const size = ctx.recipe.inputSize;
  const features = (items: readonly KneeItem[]): Promise<Float32Array[]> => loaderPooledFeatures(ctx.model, ctx.loader(items), size);
  const ood = fitFeatureDistance(await features(ctx.train), await features(ctx.dev), POOLED_FEATURES_DESCRIPTION, KNEE_OOD_FORMAT);
  // the held-out check's halvings from a fixed seed: the same knees give the same figure
  const cal = calibrateResidualInterval(ctx.dev.map((it, i) => ({ predicted: boneAgeOf(ctx.devOutputs[i]), reference: it.boneAgeMonths })), LEVEL, new Rng(0));
  const interval: KneeIntervalFile = {
    format: 'physis-knee-interval',
    version: 1,
    level: LEVEL,
    halfWidthMonths: cal.halfWidth,
    coverage: cal.coverage,
    coverageHeldOut: cal.coverageHeldOut,
    n: cal.n,
    data: `${ctx.devData}: split-conformal quantile of the absolute residuals`,
  };
  const films = [...ctx.train, ...ctx.dev];
  const trainingData = trainingDataRecord(KNEE_TRAINING_DATA_FORMAT, films, KNEE_PHANTOM_NOTICE);
  const teachers = new Map<string, { id: string; weightsSha256: string; labels: number }>();
  for (const f of films) {
    if (f.labelSource !== 'pseudo' || f.pseudoBy === undefined) continue;
    const key = `${f.pseudoBy.id}@${f.pseudoBy.weightsSha256}`;
    const t = teachers.get(key) ?? { ...f.pseudoBy, labels: 0 };
    teachers.set(key, { ...t, labels: t.labels + 1 });
  }
  const labels: KneeLabelProvenance = {
    format: 'physis-knee-label-provenance',
    version: 1,
    films: films.length,
    readings: films.filter((f) => f.labelSource === 'reading').length,
    pseudoLabels: films.filter((f) => f.labelSource === 'pseudo').length,
    unknownSource: films.filter((f) => f.labelSource === undefined).length,
    teachers: [...teachers.values()],
  };
  const saliency = await measureKneeSaliency(ctx.model, maskedFilms(ctx.dev), recipePreprocessing(ctx.recipe));
  const salData = `${ctx.devData}: ${saliency.summary?.n ?? 0} films with physis and ossification-centre masks; Grad-CAM of the bone-age output`;
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(v)}\n`);
  const metrics: CardMetric[] = [
    { name: 'interval90HalfWidth', value: cal.halfWidth, unit: 'months', data: interval.data },
    { name: 'interval90Coverage', value: cal.coverage, unit: 'fraction', data: `${ctx.devData} (in-sample: the calibration set)` },
    ...(cal.coverageHeldOut === null ? [] : [{ name: 'interval90CoverageHeldOut', value: cal.coverageHeldOut, unit: 'fraction', data: `${ctx.devData}, two-fold cross-conformal` }]),
    { name: 'labelsFromReadings', value: labels.readings, unit: 'films', data: 'training and dev knees whose label is a radiologist\'s hand reading' },
    { name: 'labelsFromTeacher', value: labels.pseudoLabels, unit: 'films', data: `training and dev knees whose label is a pseudo-label by ${[...teachers.values()].map((t) => `${t.id} (weights sha256 ${t.weightsSha256})`).join(', ') || 'no teacher'}` },
    ...Object.entries(saliencyMetrics(saliency.summary)).map(([name, value]): CardMetric => ({ name, value, unit: name === 'saliencyEnrichment' ? 'ratio (1 = chance)' : 'fraction', data: salData })),
  ];
  return {
    metrics,
    artifacts: [
      { path: KNEE_OOD_FILE, role: KNEE_OOD_ROLE, bytes: json(ood) },
      { path: KNEE_INTERVAL_FILE, role: KNEE_INTERVAL_ROLE, bytes: json(interval) },
      { path: KNEE_TRAINING_DATA_FILE, role: KNEE_TRAINING_DATA_ROLE, bytes: json(trainingData) },
      { path: KNEE_LABELS_FILE, role: KNEE_LABELS_ROLE, bytes: json(labels) },
    ],
    reportImages: saliency.images,
  };
}

const range = (iv: KneeInterval90 | null | undefined): string => (iv ? ` [90% ${iv.lowMonths.toFixed(1)}-${iv.highMonths.toFixed(1)}]` : '');

/** The one-line human form of a knee-bone-age answer. */
export function formatKneeBoneAge(r: FilmResult): string {
  const a = (r.answer ?? {}) as {
    boneAgeMonths?: number;
    interval90?: KneeInterval90;
    boneAgeMonthsBySex?: Record<string, number>;
    interval90BySex?: Record<string, KneeInterval90 | null>;
    differenceMonths?: number;
    sex?: string | null;
    sexSource?: string;
    chronologicalAgeMonths?: number;
    chronologicalAgeSource?: string;
    simulatedTraining?: string;
  };
  const age = `chronological age ${a.chronologicalAgeMonths?.toFixed(1)} months from ${a.chronologicalAgeSource ?? '?'}`;
  const main =
    a.boneAgeMonths !== undefined
      ? `bone age ${a.boneAgeMonths.toFixed(1)} months${range(a.interval90)} (sex ${a.sex ?? '?'} from ${a.sexSource ?? '?'}, ${age}: ${(a.differenceMonths ?? 0) >= 0 ? '+' : ''}${a.differenceMonths?.toFixed(1)})`
      : `bone age ${a.boneAgeMonthsBySex?.['M']?.toFixed(1)} months${range(a.interval90BySex?.['M'])} if male, ${a.boneAgeMonthsBySex?.['F']?.toFixed(1)} months${range(a.interval90BySex?.['F'])} if female (sex unknown; ${age})`;
  const simulated = a.simulatedTraining === undefined ? '' : ' [model trained on simulated knee films: not for clinical use]';
  return `${r.file}: ${main}${simulated}${r.heatmap ? `; heat map ${r.heatmap}` : ''}`;
}

/** The knee-bone-age task. */
export const KNEE_BONE_AGE_TASK: Task<KneeItem, KneeState> = {
  name: 'knee-bone-age',
  description: 'bone age (months) from an AP knee radiograph; sex and chronological age as inputs; learned from paired hand films',
  recipe: KNEE_BONE_AGE_RECIPE,
  namedRecipes: {
    'paper-convnext': {
      description: 'the published recipe: ConvNeXt-Tiny at 224 px, 50 epochs, sex and chronological age as inputs; for a GPU (--device cuda)',
      recipe: KNEE_CONVNEXT_RECIPE,
    },
  },
  inputs: [SEX_INPUT, AGE_INPUT],
  registryLabels: { labelColumn: 'bone_age_months', columns: { sex: 'sex', chronological_age_months: 'age_months' } },
  accepts: { anatomy: ['knee'], views: ['frontal'], describe: 'an AP knee radiograph' },
  readLabels: (csvPath) => readKneeLabels(csvPath).map((r) => ({ ...r, id: r.file })),
  trainOptions: {
    pairs: 'a manifest of hand and knee films (patient_id, film, body_part, dates, sex, bone_age_months…) to pair and label',
    teacher: 'the hand-bone-age bundle or composite that pseudo-labels the paired hands (its id and weights hash go into the card)',
    'label-policy': `which label a knee learns: ${KNEE_LABEL_POLICIES.join(', ')} (default reading-else-pseudo)`,
    'max-interval-days': 'the longest hand–knee interval that pairs, in days (default 92, three months)',
    'teacher-gate': 'the suitability gate each teacher hand passes first (default models/suitability; none to skip)',
  },
  async prepareTraining(options, o) {
    const manifest = options['pairs'];
    if (manifest === undefined) throw new InputError('knee-bone-age: give --pairs manifest.csv (hand and knee films to pair) or --data labels.csv');
    const out = join(o.outDir, 'knee-labels.csv');
    const policy = options['label-policy'] ?? 'reading-else-pseudo';
    if (!KNEE_LABEL_POLICIES.includes(policy as KneeLabelPolicy)) throw new InputError(`--label-policy must be one of ${KNEE_LABEL_POLICIES.join(', ')}, got '${policy}'`);
    const rawDays = options['max-interval-days'];
    const days = rawDays === undefined ? undefined : Number(rawDays);
    if (days !== undefined && !(Number.isInteger(days) && days >= 0 && days <= 3650)) throw new InputError(`--max-interval-days must be a whole number of days in [0, 3650], got '${rawDays}'`);
    // an interrupted run continues on the labels it made (the checkpoint's fingerprint names its rows)
    if (o.resume && existsSync(out)) {
      o.onNote(`${out}: reusing the labels of the interrupted run`);
      return { data: out, summary: `labels from ${manifest} (see ${out})` };
    }
    mkdirSync(o.outDir, { recursive: true });
    const gateDir = options['teacher-gate'] ?? 'models/suitability';
    const gate = gateDir === 'none' || (options['teacher-gate'] === undefined && !existsSync(gateDir)) ? null : await openGate(gateDir);
    if (gate === null) o.onNote(`teacher hands are not checked by the suitability gate (${gateDir === 'none' ? '--teacher-gate none' : `no ${gateDir}`})`);
    try {
      const prepared = await prepareKneeLabels({
        manifest,
        ...(options['teacher'] === undefined ? {} : { teacher: options['teacher'] }),
        gate,
        policy: policy as KneeLabelPolicy,
        ...(days === undefined ? {} : { maxIntervalDays: days }),
        out,
        force: o.force,
        onNote: o.onNote,
      });
      return { data: prepared.csv, summary: prepared.summary };
    } finally {
      if (gate !== null) await closeGate(gate);
    }
  },
  splitOf: (item) => item.split,
  inputValue: (item, name) => (name === 'sex' ? item.sex : name === 'age-months' ? String(item.chronologicalAgeMonths) : null),
  stratum: (item) => item.sex,
  // one patient's knees (left and right, repeat visits) stay on one side of every split and fold
  groupOf: (item) => item.patientId ?? item.id,
  target: (item) => item.boneAgeMonths,
  sampleModule: SAMPLE_MODULE,
  loaderItem: (item) => ({ path: item.path, boneAgeMonths: item.boneAgeMonths, sex: item.sex, chronologicalAgeMonths: item.chronologicalAgeMonths, laterality: item.laterality ?? null }),
  sampleOptions: (_recipe: TrainRecipe, augmentation, cache, preprocessing) => ({ preprocessing, augmentation, cache }),
  modelOptions: kneeModelOptions,
  initModel(model: ZooModel, train) {
    // without --init, the head starts as the constant training mean bone age (zero weights), so the first epochs learn
    // structure rather than an offset; --init then replaces what transfers (the backbone, and a hand head's columns)
    const meanMonths = train.reduce((a, i) => a + i.boneAgeMonths, 0) / train.length;
    const param = (suffix: string): Tensor | undefined => model.namedParameters().find(([name]) => name === `${model.headLinearName}.${suffix}`)?.[1];
    const weight = param('weight');
    const bias = param('bias');
    noGrad(() => {
      weight?.fill_(0);
      bias?.fill_(meanMonths);
    });
  },
  loss: (output: Tensor, target: Tensor) => F.l1Loss(output, target),
  targetLength: 1,
  selection: { metric: 'devMaeMonths', mode: 'min' },
  evaluate(outputs, items) {
    const acc = new RegressionAccumulator(GROUPS);
    acc.update({ predicted: items.map((it, i) => boneAgeOf(outputs[i])), reference: items.map((it) => it.boneAgeMonths) });
    const m = acc.compute().overall;
    const baseline = items.reduce((a, it) => a + Math.abs(it.chronologicalAgeMonths - it.boneAgeMonths), 0) / items.length;
    return { metrics: { devMaeMonths: m.mae, devRmseMonths: m.rmse, devBiasMonths: m.bias, devMaeChronologicalBaselineMonths: baseline } };
  },
  report: kneeReport,
  reportShowsPublished: true,
  card: () => ({
    extra: [
      { name: 'sex', unit: '1 = male, 0 = female' },
      { name: 'age-months', unit: 'chronological age in months / 100' },
    ],
    outputs: [{ name: 'boneAgeMonths', unit: 'months', description: 'bone age of the paired hand film (Greulich–Pyle readings or the teacher hand model)' }],
  }),
  finalise,
  openMember: openKneeMember,
  memberWarnings: (state, member) => [
    ...(state.ood === null ? [`${member.bundle.dir} has no feature statistics (ood.json); knees unlike its training films are not refused`] : []),
    ...(state.trainingData?.notice ? [`${member.bundle.card.id}: ${state.trainingData.notice}`] : []),
  ],
  filmFields: () => ({}),
  suitability(state, pooled) {
    if (state.ood === null) return null;
    const distance = featureDistance(state.ood, pooled);
    return distance <= state.ood.threshold
      ? null
      : `not like the knee films this model was trained on (children ≤ ${KNEE_MAX_AGE_MONTHS / 12} y): feature distance ${distance.toFixed(1)} > threshold ${describeThreshold(state.ood)}`;
  },
  predict: predictKneeBoneAge,
  format: formatKneeBoneAge,
  reportFindings: kneeReportFindings,
  async reportSaliency(model: ZooModel, items: readonly KneeItem[], preprocessing: PreprocessOptions & { readonly size: number }): Promise<{ metrics: Readonly<Record<string, number>>; images: readonly ReportImage[] }> {
    const s = await measureKneeSaliency(model, maskedFilms(items), preprocessing);
    return { metrics: saliencyMetrics(s.summary), images: s.images };
  },
};
