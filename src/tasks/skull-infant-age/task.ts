/**
 * The skull-infant-age task: the postnatal age of an infant under 12 months from a plain AP or lateral skull
 * radiograph, as months (regression) and as a monthly class, with Grad-CAM on the predicted class (Lee et al., Sci Rep
 * 2024;14:16600). The view is an input: the command line, the manifest, DICOM ViewPosition, then the suitability gate.
 *
 * No public infant skull radiographs exist: the task is validated on procedural phantoms (`physis phantoms
 * skull-infant-age`), and no model trained on them ships as clinical (see {@link PHANTOM_NOTICE}).
 *
 * @example
 * $ physis predict films/p0001_1_AP.dcm --task skull-infant-age --bundle runs/skull
 * films/p0001_1_AP.dcm: age 4.2 months (class 4 months, p 0.61), AP view from dicom; …
 */
import { buildOrdinalReport, ordinalMetrics, writeOrdinalReport, type MeanSd, type OrdinalSample, type ReportTable } from '../../eval/index.js';
import type { CardMetric } from '../../infer/index.js';
import type { ModelOptions, ZooModel } from '../../models/index.js';
import type { PreprocessOptions, PreprocessResult } from '../../preprocess/index.js';
import type { Radiograph } from '../../radiograph/index.js';
import { F, noGrad, type Tensor } from '../../torch/index.js';
import {
  loaderPooledFeatures,
  POOLED_FEATURES_DESCRIPTION,
  recipePreprocessing,
  type FinaliseContext,
  type Finalised,
  type ReportImage,
  type TaskReport,
  type TrainRecipe,
} from '../../train/index.js';
import { InputError } from '../errors.js';
import type { FilmResult, InputSpec, Task } from '../task.js';
import {
  AGE_CLASS_COUNT,
  AGE_CLASS_NAMES,
  ageClassOf,
  CLASS_LOSS_WEIGHT,
  MAX_AGE_MONTHS,
  PHANTOM_NOTICE,
  SKULL_DENSENET_RECIPE,
  SKULL_EFFICIENTNET_RECIPE,
  SKULL_INFANT_AGE_RECIPE,
  SKULL_PAPER,
  SKULL_PAPER_DATA,
  SKULL_PUBLISHED_RESULTS,
  SKULL_VIEWS,
  type SkullRecipe,
  type SkullView,
} from './config.js';
import { parseSkullView, readSkullLabels } from './labels.js';
import { predictedClass, predictSkullInfantAge, viewAnswer, type SkullViewAnswer } from './predict.js';
import { viewInput } from './sample.js';
import { measureSaliency, type SaliencySummary, type SkullSaliencyMaskSet } from './saliency.js';
import {
  checkSkullFeatures,
  fitSkullOod,
  openSkullMember,
  SKULL_OOD_FILE,
  SKULL_OOD_ROLE,
  SKULL_TRAINING_DATA_FILE,
  SKULL_TRAINING_DATA_ROLE,
  type SkullState,
  skullTrainingData,
} from './state.js';
import { skullReportFindings } from './report.js';

/** One labelled skull film. */
export interface SkullItem {
  readonly id: string;
  readonly path: string;
  readonly ageMonths: number;
  readonly view: SkullView;
  readonly patientId: string;
  readonly split?: string;
  /** Mask files of the sutures and fontanelles (phantoms), for the saliency check. */
  readonly masks: readonly string[];
  /** Mask file of the calvarium's rim (phantoms written since the column exists), for the saliency check. */
  readonly calvariumMask?: string;
  /** A simulated film (phantom). */
  readonly simulated: boolean;
}

/** Head outputs: the age in months, then one logit per monthly class. */
const HEAD_OUTPUTS = 1 + AGE_CLASS_COUNT;

/** Dev films whose saliency the finalisation measures (Grad-CAM is one backward pass each). */
const SALIENCY_FILMS = 240;

/** The view: command line, manifest, DICOM ViewPosition (PS3.3 C.8.11.5.1.1: AP, PA, LL, RL), then the gate's view. */
const VIEW_INPUT: InputSpec = {
  name: 'view',
  description: 'AP or LATERAL; unknown gives both answers',
  values: [...SKULL_VIEWS],
  parse(raw, where) {
    if (raw.trim() === '') return null;
    const v = parseSkullView(raw);
    if (v === null) throw new InputError(`${where}: view '${raw}' must be AP or LATERAL`);
    return v;
  },
  fromRadiograph: (r: Radiograph) => parseSkullView(r.metadata.viewPosition),
  // the gate's view only when it sees a skull and is sure of the projection
  fromGate: (v) => (v.anatomy.value === 'skull' && v.view.p >= 0.9 ? (v.view.value === 'lateral' ? 'LATERAL' : 'AP') : null),
  encode: (value) => [viewInput(value as SkullView)],
};

function skullModelOptions(recipe: TrainRecipe): ModelOptions {
  const grouped = (recipe as SkullRecipe).viewSpecificHeads === true;
  return {
    inChannels: 1,
    head: { kind: 'regression', outputs: HEAD_OUTPUTS, relu: false, ...(grouped ? { groupedBy: { extraIndex: 0, groups: 2 } } : {}) },
    extraInputs: 1,
  };
}

const SAMPLE_MODULE = new URL(import.meta.url.endsWith('.ts') ? './sample.ts' : './sample.js', import.meta.url);

function samplesOf(outputs: readonly Float32Array[], items: readonly SkullItem[], head: 'class' | 'regression' = 'class'): OrdinalSample[] {
  return items.map((it, i) => {
    const a = viewAnswer(outputs[i] as Float32Array);
    return {
      id: it.id,
      predictedClass: head === 'class' ? a.ageClass : ageClassOf(a.ageMonths),
      referenceClass: ageClassOf(it.ageMonths),
      predictedValue: a.ageMonths,
      referenceValue: it.ageMonths,
      groups: { view: it.view },
    };
  });
}

/** Dev metrics, overall and per view, for early stopping and the folds' mean ± SD. */
function evaluateSkull(outputs: readonly Float32Array[], items: readonly SkullItem[]): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (suffix: string, s: OrdinalSample[]): void => {
    if (s.length === 0) return;
    const m = ordinalMetrics(s, AGE_CLASS_NAMES, 1);
    out[`devMaeMonths${suffix}`] = m.mae;
    out[`devAccuracy${suffix}`] = m.accuracy;
    out[`devCorrectedAccuracy${suffix}`] = m.correctedAccuracy;
  };
  const all = samplesOf(outputs, items);
  add('', all);
  for (const v of SKULL_VIEWS) add(v === 'AP' ? 'Ap' : 'Lateral', all.filter((s) => s.groups['view'] === v));
  return out;
}

function report(
  outputs: readonly Float32Array[],
  items: readonly SkullItem[],
  o: { title: string; facts: Record<string, string>; data: string; folds?: Readonly<Record<string, MeanSd>>; images?: readonly ReportImage[]; tables?: readonly ReportTable[] },
): TaskReport {
  const samples = samplesOf(outputs, items);
  const simulated = items.filter((i) => i.simulated).length;
  const built = buildOrdinalReport(samples, {
    title: o.title,
    unit: 'months',
    classNames: AGE_CLASS_NAMES,
    tolerance: 1,
    groupBy: ['view'],
    facts: o.facts,
    data: o.data,
    ...(o.folds ? { folds: o.folds } : {}),
    published: SKULL_PUBLISHED_RESULTS.map((p) => ({
      label: p.label,
      citation: SKULL_PAPER,
      data: SKULL_PAPER_DATA,
      group: { view: p.view },
      accuracy: null,
      correctedAccuracy: p.correctedAccuracyMax,
      correctedAccuracySd: p.correctedAccuracySd,
      mae: null,
    })),
    notes: [
      'Corrected accuracy counts a predicted month within ±1 month of the reference month as correct (Lee et al. 2024); accuracy is the exact month. ' +
        'Classes come from the class head; MAE from the age output. The published numbers are the best run of each network on the authors\' clinical films; ' +
        'their mean ± SD over runs: DenseNet-121 AP 78.0 ± 1.5%, lateral 81.1 ± 2.9%; EfficientNet-V2-M AP 77.0 ± 2.3%, lateral 85.1 ± 2.5%.',
      ...(simulated === 0 ? [] : [`${simulated} of the ${items.length} scored films are simulated (Physis phantoms). ${PHANTOM_NOTICE}`]),
    ],
    ...(o.images ? { images: o.images } : {}),
    ...(o.tables ? { tables: o.tables } : {}),
  });
  const viaRegression = ordinalMetrics(samplesOf(outputs, items, 'regression'), AGE_CLASS_NAMES, 1);
  const metric = (name: string, value: number, unit: string, words: string): CardMetric => ({ name, value, unit, data: words });
  const slices = [{ key: '', words: o.data, m: built.overall }, ...built.byGroup.map((g) => ({ key: `[${g.key}=${g.value}]`, words: `${o.data}: ${g.key} ${g.value}, ${g.metrics.n} films`, m: g.metrics }))];
  return {
    metrics: [
      ...slices.flatMap((s) => [
        metric(`correctedAccuracy${s.key}`, s.m.correctedAccuracy, 'fraction', `${s.words} (class head, ±1 month)`),
        metric(`accuracy${s.key}`, s.m.accuracy, 'fraction', `${s.words} (class head, exact month)`),
        metric(`mae${s.key}`, s.m.mae, 'months', `${s.words} (age output)`),
        metric(`bias${s.key}`, s.m.bias, 'months', `${s.words} (age output, predicted − reference)`),
      ]),
      metric('correctedAccuracy[head=regression]', viaRegression.correctedAccuracy, 'fraction', `${o.data} (month of the age output, ±1 month)`),
      metric('accuracy[head=regression]', viaRegression.accuracy, 'fraction', `${o.data} (month of the age output)`),
    ],
    write: (dir) => writeOrdinalReport(dir, built, o.images),
  };
}

/** Grad-CAM against the masks on up to {@link SALIENCY_FILMS} films that have masks. */
async function saliencyOf(model: ZooModel, items: readonly SkullItem[], preprocessing: PreprocessOptions & { readonly size: number }): Promise<{ summaries: SaliencySummary[]; images: ReportImage[] }> {
  const masked = items.filter((d) => d.masks.length > 0 || d.calvariumMask !== undefined).slice(0, SALIENCY_FILMS);
  return masked.length === 0 ? { summaries: [], images: [] } : measureSaliency(model, masked, preprocessing);
}

const MASK_SET_WORDS: Readonly<Record<SkullSaliencyMaskSet, string>> = {
  'sutures+fontanelles': 'suture/fontanelle masks',
  calvarium: "calvarium's rim mask",
  union: "union of the suture/fontanelle and calvarium's rim masks",
};

/**
 * The saliency summaries as one report table: a row per view, mask set and stage, with the share of the map's energy
 * on the masks, the share of the input they cover, their ratio (enrichment; 1 = chance) and the pointing-game hits.
 * @param summaries - from measureSaliency
 * @param data - which films, in words
 */
function saliencyTable(summaries: readonly SaliencySummary[], data: string): ReportTable[] {
  if (summaries.length === 0) return [];
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  return [
    {
      title: 'Saliency against the anatomy masks',
      columns: ['view', 'masks', 'stage (feature map)', 'films', 'energy on masks', 'masks\' area', 'enrichment', 'peak on masks'],
      rows: summaries.map((s) => [
        s.view,
        s.masks,
        `${s.stage === 'last' ? 'last' : 'before the last'} (${s.featureSize[0]}×${s.featureSize[1]})`,
        String(s.n),
        pct(s.meanEnergyShare),
        pct(s.meanAreaShare),
        s.meanEnrichment.toFixed(2),
        pct(s.pointingHitRate),
      ]),
      note:
        `${data}: Grad-CAM of the predicted class on each film with masks, against its suture and fontanelle masks, its calvarium's rim mask and their union; ` +
        "enrichment is the energy share over the area share (1 = chance); the peak is on the masks when the map's maximum lies inside them (the pointing game).",
    },
  ];
}

/**
 * The four saliency numbers of a summary under their names: the sutures and fontanelles at the last stage keep the
 * names older cards use (`saliencyEnrichment[view=AP]`); every other mask set and stage adds its keys
 * (`saliencyEnrichment[view=AP,masks=calvarium,stage=last-1]`).
 */
function saliencyCardMetrics(s: SaliencySummary, devData: string): CardMetric[] {
  const key = s.masks === 'sutures+fontanelles' && s.stage === 'last' ? `[view=${s.view}]` : `[view=${s.view},masks=${s.masks},stage=${s.stage}]`;
  const data =
    `${devData}: ${s.view} films with masks, ${s.n} films; Grad-CAM of the predicted class at the ${s.stage === 'last' ? 'last stage' : 'stage before the last'} ` +
    `(${s.featureSize[0]}×${s.featureSize[1]} feature map) against the ${MASK_SET_WORDS[s.masks]}`;
  return [
    { name: `saliencyEnergyInMasks${key}`, value: s.meanEnergyShare, unit: 'fraction', data },
    { name: `saliencyMaskArea${key}`, value: s.meanAreaShare, unit: 'fraction', data },
    { name: `saliencyEnrichment${key}`, value: s.meanEnrichment, unit: 'ratio (1 = chance)', data },
    { name: `saliencyPointingHit${key}`, value: s.pointingHitRate, unit: 'fraction', data },
  ];
}

/**
 * The same numbers as flat evaluation metrics: `saliencyEnrichmentAp` for the sutures and fontanelles at the last
 * stage (the older name), with `Calvarium` or `Union` and `PrevStage` appended for the other mask sets and stage.
 */
function saliencyEvaluationMetrics(summaries: readonly SaliencySummary[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const v of summaries) {
    const key = `${v.view === 'AP' ? 'Ap' : 'Lateral'}${v.masks === 'calvarium' ? 'Calvarium' : v.masks === 'union' ? 'Union' : ''}${v.stage === 'last' ? '' : 'PrevStage'}`;
    metrics[`saliencyEnergyInMasks${key}`] = v.meanEnergyShare;
    metrics[`saliencyMaskArea${key}`] = v.meanAreaShare;
    metrics[`saliencyEnrichment${key}`] = v.meanEnrichment;
    metrics[`saliencyPointingHit${key}`] = v.pointingHitRate;
  }
  return metrics;
}

/** OOD statistics on the training films and the saliency check on the dev films that have masks. */
async function finalise(ctx: FinaliseContext<SkullItem>): Promise<Finalised> {
  const size = ctx.recipe.inputSize;
  const features = (items: readonly SkullItem[]): Promise<Float32Array[]> => loaderPooledFeatures(ctx.model, ctx.loader(items), size);
  const ood = fitSkullOod(await features(ctx.train), await features(ctx.dev), POOLED_FEATURES_DESCRIPTION);
  const saliency = await saliencyOf(ctx.model, ctx.dev, recipePreprocessing(ctx.recipe));
  const metrics: CardMetric[] = saliency.summaries.flatMap((s) => saliencyCardMetrics(s, ctx.devData));
  const trainingData = skullTrainingData([...ctx.train, ...ctx.dev], PHANTOM_NOTICE);
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  return {
    metrics,
    artifacts: [
      { path: SKULL_OOD_FILE, role: SKULL_OOD_ROLE, bytes: json(ood) },
      { path: SKULL_TRAINING_DATA_FILE, role: SKULL_TRAINING_DATA_ROLE, bytes: json(trainingData) },
    ],
    reportImages: saliency.images,
    reportTables: saliencyTable(saliency.summaries, ctx.devData),
  };
}

const fmtAnswer = (a: SkullViewAnswer): string =>
  `age ${a.ageMonths.toFixed(1)} months (class ${a.ageClass} months, p ${a.ageClassProbability.toFixed(2)})`;

/** The one-line human form of a skull-infant-age result. */
export function formatSkullInfantAge(r: FilmResult): string {
  const a = (r.answer ?? {}) as Partial<SkullViewAnswer> & {
    byView?: Partial<Record<SkullView, SkullViewAnswer>>;
    view?: SkullView | null;
    viewSource?: string;
    chronologicalAgeMonths?: number;
    simulatedTraining?: string;
  };
  const main =
    a.byView !== undefined
      ? `${SKULL_VIEWS.filter((v) => a.byView?.[v]).map((v) => `${fmtAnswer(a.byView?.[v] as SkullViewAnswer)} if ${v}`).join(', ')} (view unknown)`
      : `${fmtAnswer(a as SkullViewAnswer)}, ${a.view ?? '?'} view from ${a.viewSource ?? '?'}`;
  const chrono = a.chronologicalAgeMonths === undefined ? '' : `; chronological age ${a.chronologicalAgeMonths.toFixed(1)} months`;
  const simulated = a.simulatedTraining === undefined ? '' : ' [model trained on simulated films: not a clinical answer]';
  return `${r.file}: ${main}${chrono}${simulated}${r.heatmap ? `; heat map ${r.heatmap}` : ''}`;
}

/** The skull-infant-age task. */
export const SKULL_INFANT_AGE_TASK: Task<SkullItem, SkullState> = {
  name: 'skull-infant-age',
  description: 'postnatal age (months, and monthly class) of an infant under 12 months from an AP or lateral skull radiograph; Grad-CAM',
  recipe: SKULL_INFANT_AGE_RECIPE,
  namedRecipes: {
    'paper-densenet121': { description: 'Lee et al. 2024: DenseNet-121 at 224 px, both views; for a GPU (--device cuda)', recipe: SKULL_DENSENET_RECIPE },
    'paper-efficientnet-v2-m': { description: 'Lee et al. 2024: EfficientNet-V2-M at 480 px, both views; for a GPU (--device cuda)', recipe: SKULL_EFFICIENTNET_RECIPE },
  },
  inputs: [VIEW_INPUT],
  accepts: { anatomy: ['skull'], describe: 'an AP or lateral skull radiograph of an infant under 12 months' },
  readLabels(csvPath) {
    return readSkullLabels(csvPath).map((r) => ({
      id: r.file,
      path: r.path,
      ageMonths: r.ageMonths,
      view: r.view,
      patientId: r.patientId,
      ...(r.split === undefined ? {} : { split: r.split }),
      masks: [r.sutureMask, r.fontanelleMask].filter((m): m is string => m !== undefined),
      ...(r.calvariumMask === undefined ? {} : { calvariumMask: r.calvariumMask }),
      simulated: r.simulated,
    }));
  },
  splitOf: (item) => item.split,
  inputValue: (item, name) => (name === 'view' ? item.view : null),
  stratum: (item) => item.view,
  target: (item) => item.ageMonths,
  groupOf: (item) => item.patientId,
  sampleModule: SAMPLE_MODULE,
  loaderItem: (item) => ({ path: item.path, ageMonths: item.ageMonths, view: item.view }),
  sampleOptions: (_recipe, augmentation, cache, preprocessing) => ({ preprocessing, augmentation, cache }),
  modelOptions: skullModelOptions,
  initModel(model: ZooModel, train) {
    // each view's age unit starts at the training mean age, the class logits at zero
    const meanMonths = train.reduce((a, i) => a + i.ageMonths, 0) / train.length;
    const bias = model.namedParameters().find(([name]) => name === `${model.headLinearName}.bias`)?.[1];
    if (!bias) return;
    const units = bias.shape[0] ?? HEAD_OUTPUTS;
    noGrad(() => {
      bias.fill_(0);
      for (let at = 0; at < units; at += HEAD_OUTPUTS) bias.narrow(0, at, 1).fill_(meanMonths);
    });
  },
  // L1 on the age (months) plus cross-entropy on the monthly class
  loss(output: Tensor, target: Tensor): Tensor {
    const age = F.l1Loss(output.narrow(1, 0, 1), target.narrow(1, 0, 1));
    const ce = F.crossEntropy(output.narrow(1, 1, AGE_CLASS_COUNT), target.select(1, 1).to('int64'));
    return age.add(ce.mul(CLASS_LOSS_WEIGHT));
  },
  targetLength: 2,
  selection: { metric: 'devMaeMonths', mode: 'min' },
  evaluate: (outputs, items) => ({ metrics: evaluateSkull(outputs, items) }),
  report,
  card: () => ({
    extra: [{ name: 'view', unit: '0 = AP, 1 = lateral' }],
    outputs: [
      { name: 'ageMonths', unit: 'months', description: 'postnatal age (regression output 0)' },
      { name: 'ageClassLogits', unit: 'logit', description: `monthly classes 0…${AGE_CLASS_COUNT - 1} (outputs 1…${AGE_CLASS_COUNT})` },
    ],
  }),
  finalise,
  openMember: openSkullMember,
  memberWarnings: (state, member) => [
    ...(state.ood === null ? [`${member.bundle.dir} has no feature statistics (ood.json); films unlike its training films are not refused`] : []),
    ...(state.trainingData?.notice ? [`${member.bundle.card.id}: ${state.trainingData.notice}`] : []),
  ],
  filmFields: (radiograph: Radiograph, _prepared: PreprocessResult) => ({
    chronologicalAgeMonths: Float32Array.from([radiograph.metadata.age?.ageMonths ?? Number.NaN]),
  }),
  suitability(state, pooled, fields) {
    const age = fields['chronologicalAgeMonths']?.[0] ?? Number.NaN;
    if (Number.isFinite(age) && age >= MAX_AGE_MONTHS) {
      const years = age / 12;
      return `outside this model's age range: the header makes the patient ${years >= 2 ? `${years.toFixed(1)} years` : `${age.toFixed(1)} months`} old; it estimates ages 0–${MAX_AGE_MONTHS} months`;
    }
    return state.ood === null ? null : checkSkullFeatures(state.ood, pooled).refusal;
  },
  predict: predictSkullInfantAge,
  saliencyTarget: (heads) => {
    const k = predictedClass(heads);
    // the stage before the last (ResNet's layer3: 10 × 10 at 160 px): in three repeated runs on held-out phantoms its
    // map was more enriched on the sutures and fontanelles than the last one's, on both views and in every run
    return { outputIndex: 1 + k, mode: 'positive', describe: `the predicted class ${k} months`, stagesBeforeLast: 1 };
  },
  format: formatSkullInfantAge,
  reportFindings: skullReportFindings,
  async reportSaliency(model, items, preprocessing) {
    const s = await saliencyOf(model, items, preprocessing);
    return { metrics: saliencyEvaluationMetrics(s.summaries), images: s.images, tables: saliencyTable(s.summaries, `the first ${SALIENCY_FILMS} scored films with masks`) };
  },
};
