/**
 * The suitability task: the gate every film passes before a clinical model answers. One small network answers six
 * questions at once (body part, view, modality, orientation, polarity, laterality as seen); open-set statistics on its
 * pooled features refuse films unlike every kind it was trained on. Trained like any task:
 *
 * @example
 * $ physis suitability-labels --anatomy ../shared/data/anatomy --hands ../shared/data/rsna-hand \
 *     --more-hands ../shared/data/rsna-hand-lowres --spine ../shared/data/aasce-spine --out runs/gate-labels.csv
 * $ physis train suitability --data runs/gate-labels.csv --out models/suitability --weights-dtype float16
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classificationMetrics, escapeXml, shrunkCovariance, mahalanobisDistance } from '../../eval/index.js';
import { forwardVariants, type CardMetric } from '../../infer/index.js';
import type { ModelOptions } from '../../models/index.js';
import { IDENTITY_REORIENTATION, type Reorientation } from '../../preprocess/index.js';
import { F, type Tensor } from '../../torch/index.js';
import { POOLED_FEATURES_DESCRIPTION, type Evaluation, type FinaliseContext, type Finalised, type TaskReport } from '../../train/index.js';
import { listTasks } from '../registry.js';
import type { Acceptance, FilmResult, Task } from '../task.js';
import {
  ANATOMY,
  DEFAULT_ANATOMY_CONFIDENCE,
  DEFAULT_CORRECTION_CONFIDENCE,
  HEAD_GROUPS,
  HEAD_OFFSETS,
  HEAD_WIDTH,
  OPEN_SET_MARGIN,
  OPEN_SET_PERCENTILE,
  SUITABILITY_RECIPE,
} from './config.js';
import { readSuitabilityLabels, type SuitabilityItem } from './labels.js';
import { evaluationTransform, targetsOf, type SuitabilityLoaderItem } from './sample.js';
import { GATE_FILE, GATE_ROLE, openGateMember, type GateFile, type GateState, type OpenSetCategory } from './state.js';
import { gateDisplay, gateInput } from './gate-input.js';
import { gateProbabilities, groupArgmax, judgeVerdict, readVerdict } from './verdict.js';

/** An item with a fixed transform (finalisation's measurements). */
type TransformedItem = SuitabilityItem & { readonly transform?: Reorientation };

const SAMPLE_MODULE = new URL(import.meta.url.endsWith('.ts') ? './sample.ts' : './sample.js', import.meta.url);

const MODEL_OPTIONS: ModelOptions = { inChannels: 1, head: { kind: 'classification', numClasses: HEAD_WIDTH } };

/** Per question: films it applies to and how many the head answered right. */
function groupAccuracies(outputs: readonly Float32Array[], targets: readonly Float32Array[]): Record<string, { correct: number; n: number }> {
  const acc: Record<string, { correct: number; n: number }> = {};
  HEAD_GROUPS.forEach((g, gi) => {
    let correct = 0;
    let n = 0;
    outputs.forEach((o, i) => {
      const t = targets[i]?.[gi] ?? -1;
      if (t < 0) return;
      n++;
      if (groupArgmax(o, g.name).index === t) correct++;
    });
    acc[g.name] = { correct, n };
  });
  return acc;
}

/** Targets of items as evaluated: the item's own transform, else the fixed per-path one of the sample module. */
function evaluationTargets(items: readonly TransformedItem[]): Float32Array[] {
  return items.map((it) => targetsOf(it, it.transform ?? evaluationTransform(it.path)));
}

function evaluateOutputs(outputs: readonly Float32Array[], items: readonly SuitabilityItem[]): Evaluation {
  const acc = groupAccuracies(outputs, evaluationTargets(items));
  const metrics: Record<string, number> = {};
  let sum = 0;
  let groups = 0;
  for (const g of HEAD_GROUPS) {
    const a = acc[g.name] as { correct: number; n: number };
    if (a.n === 0) continue;
    metrics[`dev${g.name[0]?.toUpperCase()}${g.name.slice(1)}Accuracy`] = a.correct / a.n;
    sum += a.correct / a.n;
    groups++;
  }
  metrics['devMeanAccuracy'] = groups === 0 ? 0 : sum / groups;
  return { metrics };
}

function report(outputs: readonly Float32Array[], items: readonly SuitabilityItem[], o: { title: string; facts: Record<string, string>; data: string }): TaskReport {
  const targets = evaluationTargets(items);
  const acc = groupAccuracies(outputs, targets);
  const anatomy = classificationMetrics(
    outputs.map((x) => groupArgmax(x, 'anatomy').index),
    items.map((it) => ANATOMY.indexOf(it.anatomy)),
    { classNames: ANATOMY },
  );
  const metrics: CardMetric[] = [
    ...HEAD_GROUPS.filter((g) => (acc[g.name]?.n ?? 0) > 0).map((g) => ({
      name: `${g.name}Accuracy`,
      value: (acc[g.name]?.correct ?? 0) / (acc[g.name]?.n ?? 1),
      unit: 'fraction',
      data: `${o.data}, ${acc[g.name]?.n} films where the question applies, each with its fixed transform`,
    })),
    ...anatomy.perClass.map((c) => ({ name: `anatomyRecall.${c.label}`, value: c.recall, unit: 'fraction', data: `${o.data}, ${c.support} ${c.label} films` })),
    ...anatomy.confusion.flatMap((row, r) =>
      row.map((count, p) => ({ name: `anatomyConfusion.${ANATOMY[r]}.${ANATOMY[p]}`, value: count, unit: 'films (reference . predicted)', data: o.data })),
    ),
  ];
  return {
    metrics,
    write(dir) {
      mkdirSync(dir, { recursive: true });
      const json = { title: o.title, facts: o.facts, data: o.data, groups: acc, anatomy };
      const jsonPath = join(dir, 'report.json');
      writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
      const head = `<tr><th>reference \\ predicted</th>${ANATOMY.map((a) => `<th>${a}</th>`).join('')}</tr>`;
      const rows = anatomy.confusion.map((row, r) => `<tr><th>${ANATOMY[r]}</th>${row.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
      const groups = HEAD_GROUPS.map((g) => `<tr><td>${g.name}</td><td>${acc[g.name]?.correct}/${acc[g.name]?.n}</td></tr>`).join('');
      const facts = Object.entries(o.facts).map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`).join('');
      const htmlPath = join(dir, 'report.html');
      writeFileSync(
        htmlPath,
        `<!doctype html><meta charset="utf-8"><title>${escapeXml(o.title)}</title><h1>${escapeXml(o.title)}</h1>` +
          `<table>${facts}</table><h2>Accuracy per question</h2><table>${groups}</table>` +
          `<h2>Anatomy confusion (${escapeXml(o.data)})</h2><table>${head}${rows}</table>\n`,
      );
      return { htmlPath, jsonPath };
    },
  };
}

/** Pooled features and logits of items (each with its transform) with the shipped weights. */
async function forward(ctx: FinaliseContext<SuitabilityItem>, items: readonly TransformedItem[]): Promise<{ pooled: Float32Array[]; logits: Float32Array[] }> {
  const size = ctx.recipe.inputSize;
  const pooled: Float32Array[] = [];
  const logits: Float32Array[] = [];
  const loader = ctx.loader(items as SuitabilityItem[]);
  for await (const batch of loader.epoch(0)) {
    const images = batch.fields['image'] as Float32Array;
    const out = forwardVariants(ctx.model, images, batch.size, size, [[]]);
    pooled.push(...out.pooled);
    logits.push(...(out.heads[0] ?? []));
  }
  return { pooled, logits };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The transforms whose detection the card reports, with what the gate must find. */
const CHECKED_TRANSFORMS: readonly { name: string; t: Reorientation; needsSide: boolean }[] = [
  { name: 'turned90', t: { quarterTurns: 1, mirror: false, invert: false }, needsSide: false },
  { name: 'turned180', t: { quarterTurns: 2, mirror: false, invert: false }, needsSide: false },
  { name: 'turned270', t: { quarterTurns: 3, mirror: false, invert: false }, needsSide: false },
  { name: 'inverted', t: { quarterTurns: 0, mirror: false, invert: true }, needsSide: false },
  { name: 'mirrored', t: { quarterTurns: 0, mirror: true, invert: false }, needsSide: true },
];

/**
 * Class-conditional Gaussians with a shared Ledoit–Wolf covariance on pooled features (Lee et al. 2018): a mean per
 * training category, and a threshold per category at the chosen quantile of its own dev films' distances (training
 * films for a category without dev films) times the margin.
 */
function fitOpenSet(
  trainPooled: readonly Float32Array[],
  train: readonly SuitabilityItem[],
  devPooled: readonly Float32Array[],
  dev: readonly SuitabilityItem[],
): { dim: number; choleskyLower: number[]; shrinkage: number; categories: OpenSetCategory[] } {
  const d = trainPooled[0]?.length ?? 0;
  const categories = [...new Set(train.map((it) => it.category))];
  const means = new Map<string, Float64Array>();
  for (const c of categories) {
    const rows = trainPooled.filter((_, i) => train[i]?.category === c);
    const m = new Float64Array(d);
    for (const r of rows) for (let j = 0; j < d; j++) m[j] = (m[j] as number) + (r[j] as number) / rows.length;
    means.set(c, m);
  }
  const centred = trainPooled.map((r, i) => {
    const m = means.get(train[i]?.category as string) as Float64Array;
    return Float64Array.from({ length: d }, (_, j) => (r[j] as number) - (m[j] as number));
  });
  const cov = shrunkCovariance(centred, d);
  const round7 = (v: number): number => Number(v.toPrecision(7));
  const lower = cov.choleskyLower.map(round7);
  const rounded = new Map([...means].map(([c, m]) => [c, [...m].map(round7)]));
  const dist = (c: string, x: ArrayLike<number>): number => mahalanobisDistance(d, rounded.get(c) as number[], lower, x);
  const own = (items: readonly SuitabilityItem[], pooled: readonly Float32Array[], c: string): number[] =>
    items.flatMap((it, i) => (it.category === c ? [dist(c, pooled[i] as Float32Array)] : []));
  return {
    dim: d,
    choleskyLower: lower,
    shrinkage: round7(cov.shrinkage),
    categories: categories.map((c) => {
      const devOwn = own(dev, devPooled, c);
      const sorted = (devOwn.length > 0 ? devOwn : own(train, trainPooled, c)).sort((a, b) => a - b);
      return {
        category: c,
        anatomy: train.find((it) => it.category === c)?.anatomy ?? 'other',
        n: train.filter((it) => it.category === c).length,
        mean: rounded.get(c) as number[],
        threshold: round7(quantile(sorted, OPEN_SET_PERCENTILE) * OPEN_SET_MARGIN),
      };
    }),
  };
}

/**
 * Fit the open-set statistics on the training films as stored, choose each category's threshold on the dev films, and
 * measure what the card reports: every registered task's acceptance and refusal rates per category, the detection of
 * turned, inverted and mirrored dev films, and how often each category would be refused if it had been left out of
 * the statistics.
 */
async function finalise(ctx: FinaliseContext<SuitabilityItem>): Promise<Finalised> {
  const identity = (items: readonly SuitabilityItem[]): TransformedItem[] => items.map((it) => ({ ...it, transform: IDENTITY_REORIENTATION }));
  const train = await forward(ctx, identity(ctx.train));
  const dev = await forward(ctx, identity(ctx.dev));
  const fitted = fitOpenSet(train.pooled, ctx.train, dev.pooled, ctx.dev);
  const gate: GateFile = {
    format: 'physis-gate',
    version: 1,
    groups: HEAD_GROUPS.map((g) => ({ name: g.name, classes: [...g.classes].map(String) })),
    openSet: {
      method: 'class-conditional Gaussians with a shared Ledoit-Wolf covariance (Lee et al. 2018); per-category threshold',
      features: POOLED_FEATURES_DESCRIPTION,
      dim: fitted.dim,
      choleskyLower: fitted.choleskyLower,
      shrinkage: fitted.shrinkage,
      percentile: OPEN_SET_PERCENTILE,
      margin: OPEN_SET_MARGIN,
      categories: fitted.categories,
      data:
        `means and covariance: ${ctx.train.length} training films as stored; thresholds: ${OPEN_SET_MARGIN} × the ` +
        `${OPEN_SET_PERCENTILE} quantile of each category's own distances on the ${ctx.devData} (training films for a category without dev films)`,
    },
    anatomyConfidence: DEFAULT_ANATOMY_CONFIDENCE,
    correctionConfidence: DEFAULT_CORRECTION_CONFIDENCE,
  };
  const metrics: CardMetric[] = [];
  const devCategories = [...new Set(ctx.dev.map((it) => it.category))].sort();
  const verdicts = ctx.dev.map((_, i) => readVerdict(dev.logits[i] as Float32Array, dev.pooled[i] as Float32Array, gate));
  const anatomyCorrect = ctx.dev.filter((it, i) => verdicts[i]?.anatomy.value === it.anatomy).length;
  metrics.push({ name: 'anatomyAccuracyAsStored', value: anatomyCorrect / ctx.dev.length, unit: 'fraction', data: `${ctx.devData}, as stored (no transform)` });
  // a gate that learned phantoms recognises phantoms: the card says how many training films were simulated, and of what
  const simulated = ctx.train.filter((it) => it.simulated === true);
  if (simulated.length > 0) {
    const kinds = [...new Set(simulated.map((it) => it.category))].sort();
    metrics.push({
      name: 'simulatedTrainingFilms',
      value: simulated.length,
      unit: 'count',
      data: `of the ${ctx.train.length} training films, in ${kinds.join(', ')}: simulated (Physis phantoms), so the gate recognising those kinds says nothing about real films of them`,
    });
  }
  for (const c of devCategories) {
    const idx = ctx.dev.map((it, i) => (it.category === c ? i : -1)).filter((i) => i >= 0);
    metrics.push({
      name: `unfamiliar.${c}`,
      value: idx.filter((i) => verdicts[i]?.openSet.unfamiliar).length / idx.length,
      unit: 'fraction',
      data: `${ctx.devData}: ${idx.length} ${c} films as stored, share beyond every category's open-set threshold`,
    });
    // leave-one-category-out of the statistics (means, covariance and thresholds refitted without it; the network
    // itself saw the category in training, so this is optimistic beside a network trained without it)
    const keep = (it: SuitabilityItem): boolean => it.category !== c;
    const loco = fitOpenSet(train.pooled.filter((_, i) => keep(ctx.train[i] as SuitabilityItem)), ctx.train.filter(keep), dev.pooled.filter((_, i) => keep(ctx.dev[i] as SuitabilityItem)), ctx.dev.filter(keep));
    const leftOut: GateFile = { ...gate, openSet: { ...gate.openSet, ...loco } };
    metrics.push({
      name: `openSetLeftOut.${c}`,
      value: idx.filter((i) => readVerdict(dev.logits[i] as Float32Array, dev.pooled[i] as Float32Array, leftOut).openSet.unfamiliar).length / idx.length,
      unit: 'fraction',
      data: `${idx.length} dev ${c} films beyond every threshold when ${c} is left out of the open-set statistics (refitted), not out of the network's training`,
    });
  }
  const tasks = listTasks().filter((t): t is Task & { accepts: Acceptance } => t.accepts !== undefined);
  for (const task of tasks) {
    const a = task.accepts;
    for (const c of devCategories) {
      const idx = ctx.dev.map((it, i) => (it.category === c ? i : -1)).filter((i) => i >= 0);
      const accepted = idx.filter((i) => judgeVerdict(verdicts[i] as NonNullable<(typeof verdicts)[number]>, a, gate).accepted).length;
      const belongs = a.anatomy.includes(ctx.dev[idx[0] as number]?.anatomy ?? '');
      metrics.push({
        name: `${belongs ? 'accepted' : 'refused'}.${task.name}.${c}`,
        value: (belongs ? accepted : idx.length - accepted) / idx.length,
        unit: 'fraction',
        data: `${ctx.devData}: ${idx.length} ${c} films as stored, judged for ${task.name} (${a.describe})`,
      });
    }
    // films of the task's own body part, turned, inverted or mirrored: never answered as they are
    const own = ctx.dev.filter((it) => a.anatomy.includes(it.anatomy) && it.modality === 'radiograph');
    if (own.length === 0) continue;
    for (const x of CHECKED_TRANSFORMS) {
      if (x.needsSide && (a.laterality === undefined || own.every((it) => it.laterality === null))) continue;
      const items = own.filter((it) => !x.needsSide || it.laterality !== null).map((it) => ({ ...it, transform: x.t }));
      const out = await forward(ctx, items);
      let detected = 0;
      let corrected = 0;
      items.forEach((_, i) => {
        const j = judgeVerdict(readVerdict(out.logits[i] as Float32Array, out.pooled[i] as Float32Array, gate), a, gate);
        if (!j.accepted) detected++;
        else if (j.correction !== null) {
          detected++;
          const want = x.t;
          const c = j.correction;
          // the correction undoes the transform exactly when applying both leaves the film as it was
          const undone = c.invert === want.invert && c.mirror === want.mirror && (c.quarterTurns + want.quarterTurns) % 4 === 0;
          if (undone) corrected++;
        }
      });
      metrics.push({
        name: `detected.${task.name}.${x.name}`,
        value: detected / items.length,
        unit: 'fraction',
        data: `${items.length} dev films of ${a.anatomy.join('/')} ${x.name}: refused or corrected, never answered as they are`,
      });
      metrics.push({ name: `correctedExactly.${task.name}.${x.name}`, value: corrected / items.length, unit: 'fraction', data: `the same ${items.length} films: corrected back exactly` });
    }
  }
  return { metrics, artifacts: [{ path: GATE_FILE, role: GATE_ROLE, bytes: new TextEncoder().encode(`${JSON.stringify(gate)}\n`) }] };
}

/** The gate's answer in words. */
function formatVerdict(r: FilmResult): string {
  const a = (r.answer ?? {}) as { verdict?: ReturnType<typeof readVerdict> };
  const v = a.verdict;
  if (v === undefined) return `${r.file}: no verdict`;
  const side = v.anatomy.value === 'hand' ? `, ${v.laterality.value} as seen (p ${v.laterality.p.toFixed(2)})` : '';
  const familiar = v.openSet.unfamiliar ? `; UNFAMILIAR (nearest ${v.openSet.nearest}, distance ${v.openSet.distance.toFixed(1)} > ${v.openSet.threshold.toFixed(1)})` : '';
  return (
    `${r.file}: ${v.anatomy.value} (p ${v.anatomy.p.toFixed(2)}), ${v.view.value} view, ${v.modality.value}, ` +
    `turned ${v.orientation.value}°, ${v.polarity.value} polarity${side}${familiar}`
  );
}

/** The suitability task. */
export const SUITABILITY_TASK: Task<SuitabilityItem, GateState> = {
  name: 'suitability',
  description: 'the suitability gate: body part, view, modality, orientation, polarity and laterality, with open-set rejection',
  recipe: SUITABILITY_RECIPE,
  defaultModel: 'models/suitability',
  inputs: [],
  readLabels: readSuitabilityLabels,
  splitOf: (item) => item.split,
  inputValue: () => null,
  stratum: (item) => item.category,
  target: (item) => ANATOMY.indexOf(item.anatomy),
  sampleModule: SAMPLE_MODULE,
  loaderItem: (item): SuitabilityLoaderItem => {
    const t = (item as TransformedItem).transform;
    return { path: item.path, anatomy: item.anatomy, view: item.view, modality: item.modality, laterality: item.laterality, ...(t === undefined ? {} : { transform: t }) };
  },
  sampleOptions: (recipe, augmentation, cache) => ({ size: recipe.inputSize, augmentation, cache }),
  modelOptions: () => MODEL_OPTIONS,
  // one cross-entropy per question, over the films it applies to (target −1 elsewhere), summed
  loss(output: Tensor, target: Tensor): Tensor {
    const t = target.to('int64');
    const values = target.toFloat32Array();
    const k = HEAD_GROUPS.length;
    let total: Tensor | null = null;
    HEAD_GROUPS.forEach((g, gi) => {
      let any = false;
      for (let i = gi; i < values.length; i += k) if ((values[i] as number) >= 0) any = true;
      if (!any) return; // a batch with no film the question applies to adds nothing (a mean over none is NaN)
      const l = F.crossEntropy(output.narrow(1, HEAD_OFFSETS[g.name], g.classes.length), t.select(1, gi), { ignoreIndex: -1 });
      total = total === null ? l : total.add(l);
    });
    return total ?? output.sum().mul(0);
  },
  targetLength: HEAD_GROUPS.length,
  selection: { metric: 'devMeanAccuracy', mode: 'max' },
  evaluate: evaluateOutputs,
  report,
  // one output tensor (what the graph exports): the groups' logits side by side, each group a softmax of its own
  card: () => ({
    extra: [],
    outputs: [
      {
        name: 'logits',
        unit: 'logits',
        description: `${HEAD_WIDTH} logits in groups, each a softmax: ${HEAD_GROUPS.map((g) => `${g.name} (${g.classes.join(', ')})`).join('; ')}`,
      },
    ],
  }),
  finalise,
  openMember: openGateMember,
  filmFields: () => ({}),
  suitability: () => null,
  // the film as the gate sees it everywhere (reduced display image, no laterality mirror), not the card's generic preparation
  async predict(ctx) {
    const r = ctx.routes[0];
    if (r === undefined) throw new Error('suitability: no member answered');
    const size = ctx.prepared.image.width;
    const image = gateInput(gateDisplay(ctx.radiograph, size), size).image;
    const out = await r.runner.run(image.data, 1, size, [[]]);
    const logits = out.heads[0]?.[0] as Float32Array;
    return { verdict: readVerdict(logits, out.pooled[0] as Float32Array, r.state.gate), probabilities: gateProbabilities(logits) };
  },
  format: formatVerdict,
};

