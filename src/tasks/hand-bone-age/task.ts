/**
 * The hand-bone-age task: bone age in months from a left-hand PA radiograph, with sex as an input (Greulich–Pyle
 * standards differ by sex), a calibrated 90% interval, a feature-distance check that the film is like the training
 * hands, and the Greulich–Pyle SDS when the chronological age is known (Larson et al., Radiology 2018; Halabi et al.,
 * Radiology 2019 for the RSNA data and MAE).
 *
 * @example
 * $ physis predict samples/hand-0.png --task hand-bone-age
 * samples/hand-0.png: bone age 42.7 months [90% 0.0-96.1] if male, 41.2 months [90% 0.0-94.5] if female (sex unknown)
 */
import {
  buildRegressionReport,
  calibrateResidualInterval,
  RegressionAccumulator,
  writeRegressionReport,
  type RegressionMetrics,
  type RegressionSample,
} from '../../eval/index.js';
import type { CardMetric } from '../../infer/index.js';
import type { ModelOptions, ZooModel } from '../../models/index.js';
import type { PreprocessResult } from '../../preprocess/index.js';
import type { Radiograph } from '../../radiograph/index.js';
import { F, noGrad, type Tensor } from '../../torch/index.js';
import {
  pooledFeatures,
  POOLED_FEATURES_DESCRIPTION,
  Rng,
  type EnsembleCalibration,
  type FinaliseContext,
  type Finalised,
  type TaskReport,
  type TrainRecipe,
} from '../../train/index.js';
import type { FilmResult, InputSpec, Task } from '../task.js';
import { HAND_AGE_BANDS_MONTHS, HAND_BONE_AGE_RECIPE, HAND_GPU_RECIPE, HAND_PUBLISHED_RESULTS, HAND_SEED_PAPER_RECIPE, HAND_SWA_RECIPE, HAND_WITHIN_THRESHOLDS_MONTHS, sexInput, type HandRecipe } from './config.js';
import { readBoneAgeLabels } from './labels.js';
import { checkHand, fitOodModel, handDescriptors, serializeOodModel } from './ood.js';
import { HAND_SALIENCY, measureHandSaliency } from './saliency.js';
import { predictHandBoneAge, type Interval90 } from './predict.js';
import { requireSex, type Sex } from './sex.js';
import { INTERVAL_FILE, INTERVAL_ROLE, OOD_FILE, OOD_ROLE, openHandMember, type HandState } from './state.js';
import { calibrateHandInterval, handSpread, HELD_OUT_SEED, INTERVAL_LEVEL, INTERVAL_TTA_VIEWS, recalibrateHandBundle, type IntervalCase } from './interval.js';
import { recordHandTrainingRows, upgradeHandBundle } from './upgrade.js';
import { handReportFindings } from './report.js';

/** One labelled hand film. */
export interface HandItem {
  readonly id: string;
  readonly path: string;
  readonly boneAgeMonths: number;
  readonly sex: Sex;
  readonly split?: string;
}

/** How the reports group and summarise errors. */
const REPORT_GROUPS = { ageBands: HAND_AGE_BANDS_MONTHS, withinThresholds: HAND_WITHIN_THRESHOLDS_MONTHS, published: HAND_PUBLISHED_RESULTS };

/** Sex: the command line, the manifest's `sex` column, then DICOM PatientSex (PS3.3 C.7.1.1; O and empty are unknown). */
export const SEX_INPUT: InputSpec = {
  name: 'sex',
  description: 'M or F; unknown gives both answers',
  values: ['M', 'F'],
  parse(raw, where) {
    const v = raw.trim();
    if (v === '' || v.toUpperCase() === 'O') return null;
    return requireSex(v, where);
  },
  fromRadiograph(r: Radiograph) {
    const s = r.metadata.patientSex;
    return s === 'M' || s === 'F' ? s : null;
  },
  encode: (value) => [sexInput(value as Sex)],
};

/**
 * The network's options: one grey channel, sex concatenated to the pooled features, and, with `sexSpecificHeads`, one
 * linear head per sex (sex coded 0 = F, 1 = M selects it).
 */
function handModelOptions(recipe: TrainRecipe): ModelOptions {
  const grouped = (recipe as HandRecipe).sexSpecificHeads === true;
  return {
    inChannels: 1,
    head: { kind: 'regression', outputs: 1, relu: true, ...(grouped ? { groupedBy: { extraIndex: 0, groups: 2 } } : {}) },
    extraInputs: 1,
  };
}

/** The sample module (source or compiled, whichever is running). */
const SAMPLE_MODULE = new URL(import.meta.url.endsWith('.ts') ? './sample.ts' : './sample.js', import.meta.url);

function samplesOf(outputs: readonly Float32Array[], items: readonly HandItem[]): RegressionSample[] {
  return items.map((it, i) => ({ predicted: outputs[i]?.[0] as number, reference: it.boneAgeMonths, sex: it.sex, id: it.id }));
}

function regressionReport(samples: RegressionSample[], o: Parameters<Task<HandItem, HandState>['report']>[2]): TaskReport {
  const report = buildRegressionReport(samples, {
    title: o.title,
    unit: 'months',
    facts: o.facts,
    data: o.data,
    ...REPORT_GROUPS,
    published: [...REPORT_GROUPS.published, ...(o.published ?? [])],
    ...(o.folds ? { folds: o.folds } : {}),
    ...(o.images ? { images: o.images } : {}),
    ...(o.tables ? { tables: o.tables } : {}),
  });
  const m = report.metrics.overall;
  const slices: [string, string, RegressionMetrics][] = [
    ...Object.entries(report.metrics.bySex).map(([sex, x]): [string, string, RegressionMetrics] => [`sex=${sex}`, `sex ${sex}`, x]),
    ...report.metrics.byAgeBand.map((b): [string, string, RegressionMetrics] => [`ageBand=${b.band.label}`, `reference bone age ${b.band.label}`, b.metrics]),
  ];
  return {
    metrics: [
      { name: 'mae', value: m.mae, unit: 'months', data: o.data },
      { name: 'rmse', value: m.rmse, unit: 'months', data: o.data },
      { name: 'bias', value: m.bias, unit: 'months', data: o.data },
      ...m.within.map((w): CardMetric => ({ name: `within${w.threshold}Months`, value: w.share, unit: 'fraction', data: o.data })),
      // by sex and by age band: a model can be good overall and biased for one sex or the youngest children
      ...slices.flatMap(([key, words, x]): CardMetric[] => [
        { name: `mae[${key}]`, value: x.mae, unit: 'months', data: `${o.data}: ${words}, ${x.n} images` },
        { name: `bias[${key}]`, value: x.bias, unit: 'months', data: `${o.data}: ${words}, ${x.n} images` },
      ]),
    ],
    write: (dir) => writeRegressionReport(dir, report, 'report', o.images),
  };
}

/**
 * Calibrate the TTA-scaled interval on the dev films and fit the OOD statistics on the training films, with the
 * shipped weights. Why dev for the interval: the training films' residuals are optimistic (the network fitted them).
 */
async function finalise(ctx: FinaliseContext<HandItem>): Promise<Finalised> {
  const size = ctx.recipe.inputSize;
  const views = INTERVAL_TTA_VIEWS;
  const cases: IntervalCase[] = [];
  const devLoader = ctx.loader(ctx.dev, { cache: true });
  for await (const batch of devLoader.epoch(0)) {
    const images = batch.fields['image'] as Float32Array;
    const extra = batch.fields['extra'] as Float32Array;
    batch.indices.forEach((index, j) => {
      const image = { width: size, height: size, data: images.subarray(j * size * size, (j + 1) * size * size) };
      cases.push({ spread: handSpread(ctx.model, image, extra[j] as number, views), reference: (ctx.dev[index] as HandItem).boneAgeMonths });
    });
  }
  const interval = calibrateHandInterval(cases, views, ctx.devData);
  // OOD statistics: pooled last-layer features of the un-augmented training films, shipped weights, eval mode
  const featureRows: Float32Array[] = [];
  const filmLogAspects: number[] = [];
  for await (const batch of ctx.loader(ctx.train).epoch(0)) {
    featureRows.push(...pooledFeatures(ctx.model, batch.fields['image'] as Float32Array, size));
    // the first descriptor is the film's ln(columns / rows) (OOD_DESCRIPTORS)
    const d = batch.fields['descriptors'] as Float32Array;
    const k = batch.fieldLengths['descriptors'] as number;
    for (let j = 0; j < batch.size; j++) filmLogAspects.push(d[j * k] as number);
  }
  const ood = fitOodModel(featureRows, { features: POOLED_FEATURES_DESCRIPTION, filmLogAspects });
  const enc = new TextEncoder();
  return {
    metrics: interval.metrics,
    artifacts: [
      { path: OOD_FILE, role: OOD_ROLE, bytes: enc.encode(serializeOodModel(ood)) },
      { path: INTERVAL_FILE, role: INTERVAL_ROLE, bytes: enc.encode(`${JSON.stringify(interval.calibration, null, 2)}\n`) },
    ],
  };
}

/**
 * The fold ensemble's interval: a constant half-width around the ensemble mean, the split-conformal quantile of the
 * out-of-fold absolute residuals (Lei et al., JASA 2018). It is calibrated for one fold model's error; the mean of
 * K models is usually closer, so for the ensemble it is expected to be conservative (not measurable on these films,
 * which trained the other members).
 * @param outputs - out-of-fold head outputs
 * @param items - their rows
 * @param data - what the out-of-fold predictions are, in words
 */
export function calibrateHandEnsemble(outputs: readonly Float32Array[], items: readonly HandItem[], data: string): EnsembleCalibration {
  const cal = calibrateResidualInterval(samplesOf(outputs, items), INTERVAL_LEVEL, new Rng(HELD_OUT_SEED));
  return {
    interval: {
      level: INTERVAL_LEVEL,
      halfWidth: cal.halfWidth,
      unit: 'months',
      method:
        'constant half-width around the ensemble mean: split-conformal quantile of the out-of-fold absolute residuals ' +
        '(each image predicted by the one fold model that did not train on it); calibrated for a single fold model, ' +
        'conservative for the ensemble mean',
      coverage: cal.coverage,
      ...(cal.coverageHeldOut === null ? {} : { coverageHeldOut: cal.coverageHeldOut }),
      n: cal.n,
    },
    metrics: [
      { name: 'interval90HalfWidth', value: cal.halfWidth, unit: 'months', data },
      { name: 'interval90CoverageOof', value: cal.coverage, unit: 'fraction', data: `${data} (in-sample: the calibration set)` },
      ...(cal.coverageHeldOut === null ? [] : [{ name: 'interval90CoverageOofHeldOut', value: cal.coverageHeldOut, unit: 'fraction', data: `${data}, two-fold cross-conformal` }]),
    ],
  };
}

const range = (iv: Interval90 | undefined): string => (iv ? ` [90% ${iv.lowMonths.toFixed(1)}-${iv.highMonths.toFixed(1)}]` : '');

/** The one-line human form of a hand-bone-age result (answers only; refusals and errors are generic). */
export function formatHandBoneAge(r: FilmResult): string {
  const a = (r.answer ?? {}) as {
    boneAgeMonths?: number;
    boneAgeMonthsBySex?: { M: number; F: number };
    interval90?: Interval90;
    interval90BySex?: { M: Interval90; F: Interval90 };
    sex?: Sex | null;
    sexSource?: string;
    greulichPyle?: { sds: number | null; differenceMonths: number };
    memberSdMonths?: number;
    memberSdMonthsBySex?: { M: number; F: number };
  };
  const bySex = a.boneAgeMonthsBySex;
  const age =
    a.boneAgeMonths !== undefined
      ? `bone age ${a.boneAgeMonths.toFixed(1)} months (${(a.boneAgeMonths / 12).toFixed(1)} y), sex ${a.sex ?? '?'} from ${a.sexSource ?? '?'}`
      : `bone age ${bySex?.M.toFixed(1)} months${range(a.interval90BySex?.M)} if male, ` +
        `${bySex?.F.toFixed(1)} months${range(a.interval90BySex?.F)} if female (sex unknown)`;
  const sds = a.greulichPyle?.sds == null ? '' : `, ${a.greulichPyle.differenceMonths.toFixed(1)} months from chronological age, SDS ${a.greulichPyle.sds.toFixed(2)}`;
  let composite = '';
  if (r.composite !== undefined) {
    const members = r.members ?? [];
    if (r.composite.kind === 'ensemble') {
      const sd = a.memberSdMonths ?? (a.memberSdMonthsBySex ? Math.max(a.memberSdMonthsBySex.M, a.memberSdMonthsBySex.F) : undefined);
      composite = ` (ensemble ${r.composite.id}: mean of ${members.length} models${sd === undefined ? '' : `, member SD ${sd.toFixed(1)} months`})`;
    } else {
      composite = ` (${r.composite.id}: ${members.map((m) => `${m.route === 'M' ? 'male' : 'female'} model ${m.id}`).join(', ')})`;
    }
  }
  return `${r.file}: ${age}${range(a.interval90)}${sds}${composite}${r.heatmap ? `; heat map ${r.heatmap}` : ''}`;
}

/** The hand-bone-age task. */
export const HAND_BONE_AGE_TASK: Task<HandItem, HandState> = {
  name: 'hand-bone-age',
  description: 'bone age (months) from a left-hand PA radiograph; sex as input; 90% interval; Grad-CAM',
  recipe: HAND_BONE_AGE_RECIPE,
  namedRecipes: {
    gpu: {
      description:
        'the default recipe with the full-width ResNet-18 and 95 epochs, the model the shipped default goes on from (recipe gpu-swa); ' +
        'for a GPU (--device cuda), about 8 minutes on one H200',
      recipe: HAND_GPU_RECIPE,
    },
    'gpu-swa': {
      description:
        'weight averaging on a CPU after recipe gpu (--init its bundle): 8 more epochs at a constant learning rate, the mean of ' +
        '32 snapshots shipped, batch norm recomputed; about 40 minutes on 2 cores',
      recipe: HAND_SWA_RECIPE,
      continues: 'gpu',
    },
    'seed-paper': {
      description:
        'Inception-ResNet-v2 at 299 px, global average pooling, one ReLU output, one model per sex (train with --subset sex=M and ' +
        '--subset sex=F, then physis bundle compose); for a GPU (--device cuda)',
      recipe: HAND_SEED_PAPER_RECIPE,
    },
  },
  defaultModel: 'models/hand-bone-age',
  inputs: [SEX_INPUT],
  registryLabels: { labelColumn: 'boneage_months', columns: { sex: 'sex' } },
  accepts: {
    anatomy: ['hand'],
    views: ['frontal'],
    laterality: 'left',
    lateralityWhy: 'Greulich–Pyle assumes the left hand',
    describe: 'a left-hand PA radiograph',
  },
  readLabels(csvPath) {
    return readBoneAgeLabels(csvPath).map((r) => ({
      id: r.file,
      path: r.path,
      boneAgeMonths: r.boneAgeMonths,
      sex: r.sex,
      ...(r.split === undefined ? {} : { split: r.split }),
    }));
  },
  splitOf: (item) => item.split,
  inputValue: (item, name) => (name === 'sex' ? item.sex : null),
  stratum: (item) => item.sex,
  target: (item) => item.boneAgeMonths,
  sampleModule: SAMPLE_MODULE,
  loaderItem: (item) => ({ path: item.path, boneAgeMonths: item.boneAgeMonths, sex: item.sex }),
  sampleOptions: (_recipe: TrainRecipe, augmentation, cache, preprocessing) => ({ preprocessing, augmentation, cache }),
  modelOptions: handModelOptions,
  initModel(model: ZooModel, train) {
    // the final bias (each sex's unit of a per-sex head alike) starts at the training mean age, so the first epochs
    // learn structure rather than an offset
    const meanMonths = train.reduce((a, i) => a + i.boneAgeMonths, 0) / train.length;
    const bias = model.namedParameters().find(([name]) => name === `${model.headLinearName}.bias`)?.[1];
    if (bias) noGrad(() => bias.fill_(meanMonths));
  },
  // L1 is the loss of the RSNA challenge's metric (MAE; Halabi et al. 2019)
  loss: (output: Tensor, target: Tensor) => F.l1Loss(output, target),
  targetLength: 1,
  selection: { metric: 'devMaeMonths', mode: 'min' },
  evaluate(outputs, items) {
    const acc = new RegressionAccumulator(REPORT_GROUPS);
    const s = samplesOf(outputs, items);
    acc.update({ predicted: s.map((x) => x.predicted), reference: s.map((x) => x.reference) });
    const m = acc.compute().overall;
    return { metrics: { devMaeMonths: m.mae, devRmseMonths: m.rmse, devBiasMonths: m.bias } };
  },
  report: (outputs, items, o) => regressionReport(samplesOf(outputs, items), o),
  reportShowsPublished: true,
  card: () => ({
    extra: [{ name: 'sex', unit: '1 = male, 0 = female' }],
    outputs: [{ name: 'boneAgeMonths', unit: 'months', description: 'bone age (Greulich-Pyle reference readings)' }],
  }),
  finalise,
  openMember: openHandMember,
  memberWarnings: (state, member) =>
    state.ood === null ? [`${member.bundle.dir} has no OOD statistics (ood.json); films are not checked for being hand radiographs`] : [],
  filmFields: (radiograph: Radiograph, prepared: PreprocessResult) => ({
    descriptors: Float32Array.from(handDescriptors({ width: radiograph.columns, height: radiograph.rows }, prepared)),
    filmSize: Float32Array.from([radiograph.columns, radiograph.rows]),
  }),
  suitability(state, pooled, fields) {
    if (state.ood === null) return null;
    const size = fields['filmSize'];
    const verdict = checkHand(state.ood, pooled, { width: size?.[0] ?? 0, height: size?.[1] ?? 0 });
    return verdict.rejected ? (verdict.reason ?? 'not a hand radiograph') : null;
  },
  predict: predictHandBoneAge,
  // the bone age: HiResCAM's positive part two stages before the last feature map (ResNet layer2: 16 × 16 at 128 px
  // rather than 4 × 4; why, and how it is measured by evaluate: saliency.ts)
  saliencyTarget: () => ({ outputIndex: 0, describe: 'the bone age', ...HAND_SALIENCY }),
  reportSaliency: (model, items, preprocessing) => measureHandSaliency(model, items, preprocessing),
  format: formatHandBoneAge,
  reportFindings: handReportFindings,
  calibrateEnsemble: calibrateHandEnsemble,
  upgradeBundle: upgradeHandBundle,
  recordTrainingRows: recordHandTrainingRows,
  recalibrateInterval: recalibrateHandBundle,
};
