/**
 * Evaluating a bundle or composite on labelled films, through the same checks as predict: every film first passes
 * the suitability gate (a refused film is counted and named, not scored; a film it corrects is scored as corrected),
 * then the task's own check (likewise), each row is answered by the member
 * its inputs route it to (an ensemble by the weighted mean of its members' un-augmented forwards), and rows that
 * trained or early-stopped the model are flagged.
 *
 * Why: a metric on films the model would have refused, or on its own training films, overstates what a user gets.
 */
import { spreadOf, type PublishedResult } from '../eval/index.js';
import { predictWithFeatures, sha256File, taskLoader, trainingRowHashes, type ItemPass, type TrainingItem } from '../train/index.js';
import { forwardVariants, type ModelSetMember } from '../infer/index.js';
import { preprocess, type PreprocessOptions } from '../preprocess/index.js';
import { readRadiograph, type Radiograph } from '../radiograph/index.js';
import { InputError } from './errors.js';
import type { TaskModels } from './pipeline.js';
import { gateFilm } from './suitability/index.js';
import type { Task } from './task.js';

/** Options of {@link evaluateModels}. */
export interface EvaluateOptions {
  /** Report folder. */
  readonly outDir: string;
  readonly workers?: number;
  readonly batchSize?: number;
  /** What the rows are, in words (the labels file and split). */
  readonly dataSummary: string;
  /** Published results to show beside the task's own list (only tasks whose report has a place for them). */
  readonly published?: readonly PublishedResult[];
}

/** What an evaluation found. */
export interface EvaluateResult {
  /** The task's metrics on the accepted rows. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly accepted: number;
  /** Rows the suitability check refused, with the reason. */
  readonly refused: readonly { readonly id: string; readonly reason: string }[];
  /** Rows that trained (or early-stopped) a member, by member id. */
  readonly overlap: readonly { readonly member: string; readonly train: number; readonly dev: number }[];
  /** Members that list no training rows (overlap not checked). */
  readonly unchecked: readonly string[];
  /** The report's files; null when the check refused every row (there is nothing to score). */
  readonly reportHtml: string | null;
  readonly reportJson: string | null;
}

/**
 * The pass of a film the gate corrected: the corrected film prepared as the card says, one forward with the row's
 * input values (the same values a loader's sample module encodes).
 */
function correctedPass<Item extends TrainingItem, State>(task: Task<Item, State>, m: ModelSetMember, row: Item, film: Radiograph, preprocessing: PreprocessOptions): ItemPass {
  const prepared = preprocess(film, preprocessing);
  const extra = task.inputs.flatMap((spec) => {
    const v = task.inputValue(row, spec.name);
    if (v === null) throw new InputError(`${row.id}: no ${spec.name} for the network's extra input`);
    return [...spec.encode(v)];
  });
  const size = prepared.image.width;
  const pass = forwardVariants(m.model, prepared.image.data, 1, size, [m.model.extraInputs === 0 ? [] : extra]);
  return { outputs: pass.heads[0]?.[0] as Float32Array, pooled: pass.pooled[0] as Float32Array, fields: task.filmFields(film, prepared) };
}

/**
 * Evaluate a task's models on labelled rows.
 * @param models - from openTaskModels
 * @param allRows - the task's labelled items
 * @param o - report folder, loader options, data description
 */
export async function evaluateModels<Item extends TrainingItem, State>(models: TaskModels<State>, allRows: readonly Item[], o: EvaluateOptions): Promise<EvaluateResult> {
  const task = models.task as unknown as Task<Item, State>;
  if (o.published !== undefined && task.reportShowsPublished !== true) {
    throw new InputError(`the ${task.name} report has no table for published results given in a file (its own list is in the task's config)`);
  }
  const { set } = models;
  // the suitability gate first, as for a single film; a film it corrects is scored as corrected (on its own, since the
  // loaders read files as stored)
  const refused: { id: string; reason: string }[] = [];
  const rows: Item[] = [];
  const corrected = new Map<number, Radiograph>();
  const gate = models.gate;
  for (const row of allRows) {
    if (task.accepts === undefined || gate === null) {
      rows.push(row);
      continue;
    }
    try {
      const g = await gateFilm(gate, await readRadiograph(row.path), task.accepts);
      if (g.refused !== null) refused.push({ id: row.id, reason: `suitability gate: ${g.refused}` });
      else {
        if (g.report.corrections.length > 0) corrected.set(rows.length, g.radiograph);
        rows.push(row);
      }
    } catch (e) {
      refused.push({ id: row.id, reason: `unreadable: ${(e as Error).message}` });
    }
  }
  // overlap: by image content, whatever folder the files are in now (hashed only when a member lists its rows)
  let hashes: string[] | null = null;
  const rowHashes = (): string[] => (hashes ??= allRows.map((r) => sha256File(r.path)));
  const overlap: { member: string; train: number; dev: number }[] = [];
  const unchecked: string[] = [];
  for (const m of set.members) {
    const listed = trainingRowHashes(m.bundle);
    if (listed === null) {
      unchecked.push(m.bundle.card.id);
      continue;
    }
    const t = rowHashes().filter((h) => listed.train.has(h)).length;
    const d = rowHashes().filter((h) => listed.dev.has(h)).length;
    if (t + d > 0) overlap.push({ member: m.bundle.card.id, train: t, dev: d });
  }
  const recipe = { ...task.recipe, inputSize: set.inputShape[1] as number, batchSize: o.batchSize ?? 16 };
  // which member answers each row: every member, or (routed) the member of the row's value
  const rowsOf = (m: ModelSetMember): number[] =>
    set.kind === 'routed' && set.routeBy !== undefined ? rows.flatMap((r, i) => (task.inputValue(r, set.routeBy as string) === m.route ? [i] : [])) : rows.map((_, i) => i);
  const passes = new Map<ModelSetMember, Map<number, ItemPass>>();
  for (const m of set.members) {
    const all = rowsOf(m);
    const mine = all.filter((i) => !corrected.has(i));
    const byRow = new Map<number, ItemPass>();
    if (mine.length > 0) {
      // the films prepared as the bundle's card says, whatever the task's default recipe does now
      const loader = taskLoader(task, mine.map((i) => rows[i] as Item), { recipe, workers: o.workers ?? 1, preprocessing: models.preprocessing });
      try {
        const got = await predictWithFeatures(m.model, loader, mine.length, recipe.inputSize);
        mine.forEach((row, j) => byRow.set(row, got[j] as ItemPass));
      } finally {
        await loader.close();
      }
    }
    for (const i of all.filter((x) => corrected.has(x))) byRow.set(i, correctedPass(task, m, rows[i] as Item, corrected.get(i) as Radiograph, models.preprocessing));
    passes.set(m, byRow);
  }
  const outputs: Float32Array[] = [];
  const accepted: Item[] = [];
  rows.forEach((row, i) => {
    const used = set.members.filter((m) => passes.get(m)?.has(i));
    if (used.length === 0) {
      refused.push({ id: row.id, reason: `no member of ${set.dir} answers this row's ${set.routeBy ?? 'inputs'}` });
      return;
    }
    for (const m of used) {
      const p = passes.get(m)?.get(i) as ItemPass;
      const reason = task.suitability(models.states.get(m) as State, p.pooled, p.fields);
      if (reason !== null) {
        refused.push({ id: row.id, reason: set.composite ? `${reason} (check of member ${m.bundle.card.id})` : reason });
        return;
      }
    }
    const first = passes.get(used[0] as ModelSetMember)?.get(i) as ItemPass;
    if (set.kind === 'ensemble') {
      const per = first.outputs.length;
      const out = new Float32Array(per);
      for (let k = 0; k < per; k++) {
        out[k] = spreadOf(used.map((m) => passes.get(m)?.get(i)?.outputs[k] as number), used.map((m) => m.weight)).mean;
      }
      outputs.push(out);
    } else {
      outputs.push(first.outputs);
    }
    accepted.push(row);
  });
  const members = set.members.map((m) => `${m.bundle.card.id}${m.route ? ` [${set.routeBy} ${m.route}]` : ''} sha256 ${m.bundle.card.files.weights.sha256}`);
  const gateWords =
    task.accepts === undefined
      ? ''
      : gate === null
        ? ` (suitability gate skipped: ${models.gateSkipped ?? 'none given'})`
        : ` (suitability gate ${gate.member.bundle.card.id}; ${corrected.size} scored after its correction)`;
  const data = `${o.dataSummary}; ${accepted.length} accepted, ${refused.length} refused by the suitability checks${gateWords}`;
  if (accepted.length === 0) return { metrics: {}, accepted: 0, refused, overlap, unchecked, reportHtml: null, reportJson: null };
  // saliency of the scored films, where the task measures it (one network: the first member's maps)
  const first = set.members[0];
  const saliency = task.reportSaliency !== undefined && first !== undefined ? await task.reportSaliency(first.model, accepted, models.preprocessing) : undefined;
  const report = task.report(outputs, accepted, {
    title: `${set.composite?.manifest.id ?? set.members[0]?.bundle.card.id ?? set.dir}: evaluation`,
    data,
    facts: {
      model: set.composite ? `${set.composite.manifest.id} (${set.kind} of ${set.members.length})` : `${set.members[0]?.bundle.card.id} ${set.members[0]?.bundle.card.version}`,
      members: members.join('; '),
      data,
      ...(overlap.length === 0 ? {} : { overlap: overlap.map((x) => `${x.member}: ${x.train} train + ${x.dev} dev rows`).join('; ') }),
    },
    ...(saliency === undefined ? {} : { images: saliency.images }),
    ...(saliency?.tables === undefined ? {} : { tables: saliency.tables }),
    ...(o.published === undefined ? {} : { published: o.published }),
  });
  const { htmlPath, jsonPath } = report.write(o.outDir);
  const metrics = { ...task.evaluate(outputs, accepted).metrics, ...(saliency?.metrics ?? {}) };
  return { metrics, accepted: accepted.length, refused, overlap, unchecked, reportHtml: htmlPath, reportJson: jsonPath };
}
