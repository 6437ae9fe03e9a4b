/**
 * The spine-view task: the category of an AP or lateral spine radiograph of a pediatric scoliosis patient (view ×
 * pre-/post-operative category) for an imaging registry, reproducing Spine Deformity 2024;12(6):1607 (EfficientNet-B6,
 * 10 categories, accuracy 1.00 on 1,166 AP and 843 lateral test films). The classes are whatever the labels name
 * (the paper's 10-class scheme is the documented default, config.ts), stored in the bundle; a film whose top
 * probability is below the bundle's reject threshold goes to human review with its probabilities.
 *
 * Why class weighting rather than balanced sampling: the paper's rare categories (< 100 films) were its weak ones;
 * the inverse-frequency weight in the cross-entropy (labels.ts) gives each class the same share of the loss while
 * every film is still seen once per epoch (the generic loader shuffles; a sampler that repeats rare films would
 * repeat their augmentations and overfit them). It tilts the probabilities toward rare classes, which is why the
 * calibration is measured and the reject threshold is chosen on the validation films with those same weights.
 *
 * `predict` names classes from the bundle's classes.json. `evaluate` scores a labels file by its own class list, so it
 * must name the same set of classes as the training labels (its `--split test` does: the same file).
 *
 * @example
 * $ physis predict films/a.png --task spine-view --bundle runs/spine-view
 * films/a.png: ap_postop_fusion (p 0.998 ≥ threshold 0.912)
 * $ physis predict films/b.png --task spine-view --bundle runs/spine-view
 * films/b.png: to human review (top ap_preop p 0.710, threshold 0.912; ap_preop 0.71, ap_postop_fusion 0.27, ap_postop_growing_rod 0.02)
 */
import { buildClassificationReport, confidencesOf, probabilisticMetrics, selectRejectThreshold, writeClassificationReport, type MeanSd, type ProbabilisticSample } from '../../eval/index.js';
import type { CardMetric } from '../../infer/index.js';
import type { ModelOptions, ZooModel } from '../../models/index.js';
import { F, noGrad, type Tensor } from '../../torch/index.js';
import { loaderPooledFeatures, POOLED_FEATURES_DESCRIPTION, type FinaliseContext, type Finalised, type ReportImage, type TaskReport, type TrainRecipe } from '../../train/index.js';
import { LabelsError } from '../errors.js';
import type { FilmResult, Task } from '../task.js';
import {
  SIMULATED_NOTICE,
  SPINE_TARGET_ACCURACY,
  SPINE_VIEW_EFFICIENTNET_RECIPE,
  SPINE_VIEW_PAPER,
  SPINE_VIEW_PUBLISHED_RESULTS,
  SPINE_VIEW_RECIPE,
  type SpineViewRecipe,
} from './config.js';
import { readSpineViewLabels, type SpineViewLabel } from './labels.js';
import { argmaxOf, predictSpineView, spineProbabilities, type SpineViewAnswer } from './predict.js';
import {
  fitSpineOod,
  openSpineViewMember,
  spineClassesRecord,
  spineFeatureRefusal,
  spineRejectRecord,
  spineTrainingData,
  SPINE_CLASSES_FILE,
  SPINE_CLASSES_ROLE,
  SPINE_OOD_FILE,
  SPINE_OOD_ROLE,
  SPINE_REJECT_FILE,
  SPINE_REJECT_ROLE,
  SPINE_TRAINING_DATA_FILE,
  SPINE_TRAINING_DATA_ROLE,
  type SpineViewState,
} from './state.js';
import { spineReportFindings } from './report.js';

/** One labelled spine film: its label row (labels.ts) without the file's bookkeeping, with the file as its id. */
export interface SpineViewItem extends Pick<SpineViewLabel, 'path' | 'className' | 'classIndex' | 'classes' | 'patientKey' | 'split' | 'view' | 'simulated' | 'weight'> {
  readonly id: string;
}

/** The bias of the head's unused logits (a softmax weight of e^-30 beside a logit near 0). */
const UNUSED_LOGIT = -30;

const SAMPLE_MODULE = new URL(import.meta.url.endsWith('.ts') ? './sample.ts' : './sample.js', import.meta.url);

const headClassesOf = (recipe: TrainRecipe): number => (recipe as SpineViewRecipe).headClasses ?? SPINE_VIEW_RECIPE.headClasses;
const targetAccuracyOf = (recipe: TrainRecipe): number => (recipe as SpineViewRecipe).targetAccuracy ?? SPINE_TARGET_ACCURACY;

/** The class list of scored items (all rows of one labels file share it). */
function classesOf(items: readonly SpineViewItem[]): readonly string[] {
  const first = items[0];
  if (first === undefined) throw new LabelsError('no films to score');
  return first.classes;
}

/** Probabilistic samples from head outputs: softmax over the labels' K classes. */
function samplesOf(outputs: readonly Float32Array[], items: readonly SpineViewItem[]): ProbabilisticSample[] {
  const k = classesOf(items).length;
  return items.map((it, i) => ({
    id: it.id,
    referenceClass: it.classIndex,
    probabilities: spineProbabilities(outputs[i] as Float32Array, k),
    groups: { view: it.view ?? '(missing)' },
  }));
}

/** Dev metrics for the early stopping and the folds' mean ± SD. */
function evaluateSpine(outputs: readonly Float32Array[], items: readonly SpineViewItem[]): Record<string, number> {
  const m = probabilisticMetrics(samplesOf(outputs, items), classesOf(items));
  return { devNll: m.nll, devAccuracy: m.accuracy, devMacroF1: m.macroF1, devEce: m.calibration.ece };
}

function report(
  outputs: readonly Float32Array[],
  items: readonly SpineViewItem[],
  o: { title: string; facts: Record<string, string>; data: string; folds?: Readonly<Record<string, MeanSd>>; images?: readonly ReportImage[] },
): TaskReport {
  const classes = classesOf(items);
  const simulated = items.filter((i) => i.simulated).length;
  const built = buildClassificationReport(samplesOf(outputs, items), {
    title: o.title,
    classNames: classes,
    groupBy: ['view'],
    facts: o.facts,
    data: o.data,
    reject: { targetAccuracy: SPINE_TARGET_ACCURACY },
    published: SPINE_VIEW_PUBLISHED_RESULTS.map((p) => ({ ...p, citation: SPINE_VIEW_PAPER })),
    notes: [
      `Classes from the labels: ${classes.join(', ')}. The paper's 10 categories (two pre-operative and three post-operative per view) are its default scheme; ` +
        'their exact names are not public here. Training weighted each class by its inverse frequency.',
      'The reject threshold shown is chosen on the films of this report; the bundle\'s own threshold (reject.json) was chosen on its validation films and is what predict applies.',
      ...(simulated === 0 ? [] : [`${simulated} of the ${items.length} scored films are simulated. ${SIMULATED_NOTICE}`]),
    ],
  });
  const metric = (name: string, value: number, unit: string, words: string): CardMetric => ({ name, value, unit, data: words });
  const slices = [{ key: '', words: o.data, m: built.overall }, ...built.byGroup.map((g) => ({ key: `[view=${g.value}]`, words: `${o.data}: view ${g.value}, ${g.metrics.n} films`, m: g.metrics }))];
  return {
    metrics: [
      ...slices.flatMap((s) => [
        metric(`accuracy${s.key}`, s.m.accuracy, 'fraction', s.words),
        metric(`macroF1${s.key}`, s.m.macroF1, 'fraction', s.words),
        metric(`ece${s.key}`, s.m.calibration.ece, 'fraction', `${s.words} (${s.m.calibration.bins.length} equal-width confidence bins)`),
      ]),
      ...built.overall.perClass.flatMap((c) => [
        metric(`precision[class=${c.label}]`, c.precision, 'fraction', `${o.data}: ${c.support} films of the class`),
        metric(`recall[class=${c.label}]`, c.recall, 'fraction', `${o.data}: ${c.support} films of the class`),
      ]),
    ],
    write: (dir) => writeClassificationReport(dir, built),
  };
}

/** OOD statistics, the reject threshold on the dev films, the class list and the training-data record. */
async function finalise(ctx: FinaliseContext<SpineViewItem>): Promise<Finalised> {
  const size = ctx.recipe.inputSize;
  const features = (items: readonly SpineViewItem[]): Promise<Float32Array[]> => loaderPooledFeatures(ctx.model, ctx.loader(items), size);
  const ood = fitSpineOod(await features(ctx.train), await features(ctx.dev), POOLED_FEATURES_DESCRIPTION);
  const classes = classesOf(ctx.train);
  const { confidences, correct } = confidencesOf(samplesOf(ctx.devOutputs, ctx.dev));
  const target = targetAccuracyOf(ctx.recipe);
  const chosen = selectRejectThreshold(confidences, correct, target);
  const reject = spineRejectRecord({
    threshold: chosen.threshold,
    targetAccuracy: target,
    achieved: chosen.achieved,
    devCoverage: chosen.coverage,
    devAcceptedAccuracy: Number.isFinite(chosen.acceptedAccuracy) ? chosen.acceptedAccuracy : null,
    devFilms: chosen.n,
  });
  const films = [...ctx.train, ...ctx.dev];
  const trainingData = spineTrainingData(films, SIMULATED_NOTICE);
  const json = (v: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  const words = `${ctx.devData}; threshold chosen for accuracy ${target} of the answered films`;
  return {
    metrics: [
      { name: 'rejectThreshold', value: chosen.threshold, unit: 'probability', data: words },
      { name: 'coverageAtThreshold', value: chosen.coverage, unit: 'fraction', data: words },
      ...(Number.isFinite(chosen.acceptedAccuracy) ? [{ name: 'accuracyAtThreshold', value: chosen.acceptedAccuracy, unit: 'fraction', data: words }] : []),
    ],
    artifacts: [
      { path: SPINE_CLASSES_FILE, role: SPINE_CLASSES_ROLE, bytes: json(spineClassesRecord(classes, headClassesOf(ctx.recipe))) },
      { path: SPINE_REJECT_FILE, role: SPINE_REJECT_ROLE, bytes: json(reject) },
      { path: SPINE_OOD_FILE, role: SPINE_OOD_ROLE, bytes: json(ood) },
      { path: SPINE_TRAINING_DATA_FILE, role: SPINE_TRAINING_DATA_ROLE, bytes: json(trainingData) },
    ],
  };
}

/** The one-line human form of a spine-view result. */
export function formatSpineView(r: FilmResult): string {
  const a = (r.answer ?? {}) as Partial<SpineViewAnswer>;
  const threshold = a.rejectThreshold === null || a.rejectThreshold === undefined ? 'none' : a.rejectThreshold.toFixed(3);
  const p = (a.probability ?? Number.NaN).toFixed(3);
  const all = Object.entries(a.probabilities ?? {})
    .sort((x, y) => y[1] - x[1])
    .map(([c, v]) => `${c} ${v.toFixed(2)}`)
    .join(', ');
  const main =
    a.decision === 'class'
      ? `${a.class ?? '?'} (p ${p} ≥ threshold ${threshold})`
      : `to human review (top ${a.mostLikely ?? '?'} p ${p}, threshold ${threshold}; ${all})`;
  const simulated = a.simulatedTraining === undefined ? '' : ' [model trained on simulated films: not a clinical answer]';
  return `${r.file}: ${main}${simulated}${r.heatmap ? `; heat map ${r.heatmap}` : ''}`;
}

/** The spine-view task. */
export const SPINE_VIEW_TASK: Task<SpineViewItem, SpineViewState> = {
  name: 'spine-view',
  description: 'category of an AP or lateral pediatric spine radiograph (view × pre-/post-operative category) for a registry; low confidence goes to human review',
  recipe: SPINE_VIEW_RECIPE,
  namedRecipes: {
    'paper-efficientnet-b6': {
      description: 'Spine Deformity 2024: EfficientNet-B6 at 528 px (torchvision\'s B6 size), from scratch; for a GPU (--device cuda)',
      recipe: SPINE_VIEW_EFFICIENTNET_RECIPE,
    },
  },
  inputs: [],
  // reviewed registry results become a labels file: the class, the patient's pseudonym as the grouping key
  registryLabels: { labelColumn: 'class', patientColumn: 'patient_key' },
  accepts: { anatomy: ['spine'], views: ['frontal', 'lateral'], describe: 'an AP or lateral spine radiograph' },
  readLabels(csvPath) {
    return readSpineViewLabels(csvPath).map((r) => ({
      id: r.file,
      path: r.path,
      className: r.className,
      classIndex: r.classIndex,
      classes: r.classes,
      patientKey: r.patientKey,
      ...(r.split === undefined ? {} : { split: r.split }),
      view: r.view,
      simulated: r.simulated,
      weight: r.weight,
    }));
  },
  splitOf: (item) => item.split,
  inputValue: (item, name) => (name === 'view' ? item.view : null),
  stratum: (item) => item.className,
  target: (item) => item.classIndex,
  groupOf: (item) => item.patientKey,
  sampleModule: SAMPLE_MODULE,
  loaderItem: (item) => ({ path: item.path, classIndex: item.classIndex, weight: item.weight, classCount: item.classes.length }),
  sampleOptions: (_recipe, augmentation, cache, preprocessing) => ({ preprocessing, augmentation, cache }),
  modelOptions: (recipe: TrainRecipe): ModelOptions => ({ inChannels: 1, head: { kind: 'classification', numClasses: headClassesOf(recipe) }, extraInputs: 0 }),
  initModel(model: ZooModel, train) {
    const classes = classesOf(train);
    const width = model.head.kind === 'classification' ? model.head.numClasses : 0;
    if (classes.length > width) {
      throw new LabelsError(`the labels name ${classes.length} classes (${classes.join(', ')}) but the head has ${width} logits: train with --set headClasses=${classes.length}`);
    }
    // unused logits: zero weights and a bias far below any used logit, so an argmax or softmax over the whole head
    // (Grad-CAM's target, an ONNX consumer) never lands on them; the loss never reaches them
    if (classes.length === width) return;
    const params = new Map(model.namedParameters());
    const weight = params.get(`${model.headLinearName}.weight`);
    const bias = params.get(`${model.headLinearName}.bias`);
    noGrad(() => {
      weight?.narrow(0, classes.length, width - classes.length).fill_(0);
      bias?.narrow(0, classes.length, width - classes.length).fill_(UNUSED_LOGIT);
    });
  },
  // cross-entropy over the labels' K classes (logits from K on are unused), each film weighted by its class's
  // inverse frequency and normalised by the batch's weight sum, as PyTorch's weighted cross-entropy is
  loss(output: Tensor, target: Tensor): Tensor {
    const k = target.select(1, 2).toFloat32Array()[0] ?? output.shape[1] ?? 1;
    const ce = F.crossEntropy(output.narrow(1, 0, k), target.select(1, 0).to('int64'), { reduction: 'none' });
    const w = target.select(1, 1);
    return ce.mul(w).sum().div(w.sum());
  },
  targetLength: 3,
  // the NLL: continuous where accuracy saturates (the paper's 1.00), and it rewards the calibrated confidence the
  // reject threshold relies on
  selection: { metric: 'devNll', mode: 'min' },
  evaluate: (outputs, items) => ({ metrics: evaluateSpine(outputs, items) }),
  report,
  card: (recipe) => ({
    extra: [],
    outputs: [
      {
        name: 'classLogits',
        unit: 'logit',
        description: `${headClassesOf(recipe)} logits; logit k is class k of ${SPINE_CLASSES_FILE}, logits from its class count on are unused; a softmax over the used ones gives the probabilities`,
      },
    ],
  }),
  finalise,
  openMember: openSpineViewMember,
  memberWarnings: (state, member) => [
    ...(state.ood === null ? [`${member.bundle.dir} has no feature statistics (${SPINE_OOD_FILE}); films unlike its training films are not refused`] : []),
    ...(state.reject === null ? [`${member.bundle.dir} has no reject threshold (${SPINE_REJECT_FILE}); every film goes to human review`] : []),
    ...(state.reject !== null && !state.reject.achieved
      ? [`${member.bundle.card.id}: no threshold reached accuracy ${state.reject.targetAccuracy} on its validation films; only films of probability 1 are answered`]
      : []),
    ...(state.trainingData?.notice ? [`${member.bundle.card.id}: ${state.trainingData.notice}`] : []),
  ],
  filmFields: () => ({}),
  suitability: (state, pooled) => (state.ood === null ? null : spineFeatureRefusal(state.ood, pooled)),
  predict: predictSpineView,
  saliencyTarget: (heads) => {
    const k = argmaxOf(heads);
    return { outputIndex: k, mode: 'positive', describe: `the most probable class (logit ${k})` };
  },
  format: formatSpineView,
  reportFindings: spineReportFindings,
};
