/**
 * The one inference pipeline every task runs: read the film, preprocess it as the bundle's card says, resolve the
 * task's inputs (never defaulted), choose the members that answer, refuse a film outside a member's training subset
 * or failing the task's suitability check (with the reason), then the task's answer, the saliency map and the
 * model provenance. A batch never stops at one film: a file that cannot be read or analysed gets an error result.
 *
 * Why one pipeline: predict, explain, evaluate and the server must give the same answer for the same film and
 * bundle; transformers.js pipelines and MONAI's inferers put pre- and post-processing around one model call the same
 * way for every task.
 *
 * @example
 * const models = openTaskModels(getTask('hand-bone-age'), 'models/hand-bone-age');
 * const r = await analyseFilm(models, 'samples/hand-0.png', { given: {} });
 * r.answer; // { boneAgeMonthsBySex: { M: 42.7…, F: 41.2… }, … }
 * await closeTaskModels(models);
 */
import { writeFileSync } from 'node:fs';
import { encodeRgbaPng, gradCam, heatmapOnFilm, stageBeforeLast, type SaliencyMap } from '../explain/index.js';
import {
  createMemberRunner,
  disposeModelSet,
  membersFor,
  openModelSet,
  subsetRefusal,
  type MemberRunner,
  type ModelSet,
  type ModelSetMember,
  type PredictorBackend,
} from '../infer/index.js';
import { preprocess, type PreprocessOptions, type PreprocessResult } from '../preprocess/index.js';
import { readRadiograph, type Radiograph } from '../radiograph/index.js';
import { tensor, tidy } from '../torch/index.js';
import type { TrainingItem } from '../train/index.js';
import { InputError } from './errors.js';
import { closeGate, gateFilm, type Gate, type GateOutcome } from './suitability/index.js';
import { inputRefusal, resolveInputs, variantsOf, type GivenInputs } from './inputs.js';
import type { FilmContext, FilmResult, GateSummary, GateViewVerdict, MemberRoute, ModelProvenance, ResolvedInput, Task, Variant } from './task.js';

/** A task with its opened model set and each member's parsed artifacts. */
export interface TaskModels<State = unknown> {
  readonly task: Task<TrainingItem, State>;
  readonly set: ModelSet;
  readonly states: ReadonlyMap<ModelSetMember, State>;
  /** How every member preprocesses (from the card; all members of a set must agree). */
  readonly preprocessing: PreprocessOptions & { readonly size: number };
  /** Which runtime answers: `auto` is ONNX Runtime for a member whose bundle ships a graph, libtorch otherwise. */
  readonly backend: 'auto' | PredictorBackend;
  /** Each member's runner, made on first use (ONNX Runtime sessions are opened asynchronously). */
  readonly runners: Map<ModelSetMember, Promise<MemberRunner>>;
  /** The suitability gate every film passes first (null: skipped, and every result says so). */
  readonly gate: Gate | null;
  /** Why the gate is skipped, for the results' warning. */
  readonly gateSkipped: string | null;
}

const PREPROCESSING_KEYS = new Set(['size', 'crop', 'lateralityTarget', 'normalize', 'clahe', 'padValue', 'display', 'fit', 'stretchVia', 'stretchFilter']);

/**
 * The preprocessing options a card records, checked: every key known, `size` equal to the input shape.
 * Why: the bundle says how its films were prepared; using anything else gives an answer it was never validated on.
 * @param member - a set member
 * @throws InputError naming the card and the key
 */
export function cardPreprocessing(member: Pick<ModelSetMember, 'bundle'>): PreprocessOptions & { readonly size: number } {
  const { card, dir } = member.bundle;
  const p = card.input.preprocessing;
  for (const key of Object.keys(p)) {
    if (!PREPROCESSING_KEYS.has(key)) throw new InputError(`${dir}/card.json: input.preprocessing.${key} is not a preprocessing option Physis knows`);
  }
  const size = card.input.shape[1];
  if (size === undefined || p['size'] !== size || card.input.shape[2] !== size) {
    throw new InputError(`${dir}/card.json: input.preprocessing.size ${String(p['size'])} does not match input.shape ${card.input.shape.join('x')}`);
  }
  return { ...(p as PreprocessOptions), size };
}

/**
 * Open a bundle or composite folder for a task: verify it, build every member's network, parse its artifacts. The
 * models take the gate over: {@link closeTaskModels} closes it.
 * @param task - the task
 * @param dir - a bundle or composite folder
 * @param o - `backend`: which runtime answers (default `auto`: ONNX Runtime where the bundle ships a graph)
 */
export function openTaskModels<Item extends TrainingItem, State>(
  task: Task<Item, State>,
  dir: string,
  o: { backend?: 'auto' | PredictorBackend; gate?: Gate | null; gateSkipped?: string } = {},
): TaskModels<State> {
  const set = openModelSet(dir, { task: task.name });
  try {
    const states = new Map<ModelSetMember, State>();
    for (const m of set.members) states.set(m, task.openMember(m));
    const first = cardPreprocessing(set.members[0] as ModelSetMember);
    for (const m of set.members.slice(1)) {
      if (JSON.stringify(cardPreprocessing(m)) !== JSON.stringify(first)) {
        throw new InputError(`${dir}: members preprocess differently (${m.bundle.dir})`);
      }
    }
    const gate = o.gate ?? null;
    return {
      task: task as unknown as Task<TrainingItem, State>,
      set,
      states,
      preprocessing: first,
      backend: o.backend ?? 'auto',
      runners: new Map(),
      gate,
      gateSkipped: gate !== null || task.accepts === undefined ? null : (o.gateSkipped ?? 'no suitability gate was given'),
    };
  } catch (e) {
    disposeModelSet(set);
    throw e;
  }
}

/** Free the networks, close any ONNX Runtime session and the gate. @param models - from {@link openTaskModels} */
export async function closeTaskModels(models: TaskModels<unknown>): Promise<void> {
  if (models.gate !== null) await closeGate(models.gate);
  const runners = await Promise.allSettled(models.runners.values());
  for (const r of runners) if (r.status === 'fulfilled') await r.value.dispose();
  models.runners.clear();
  disposeModelSet(models.set);
}

/** The member's runner, made once per set. */
function runnerOf<State>(models: TaskModels<State>, m: ModelSetMember): Promise<MemberRunner> {
  let r = models.runners.get(m);
  if (r === undefined) {
    r = createMemberRunner(m, models.backend);
    models.runners.set(m, r);
  }
  return r;
}

function provenance(m: ModelSetMember, backend?: PredictorBackend): ModelProvenance {
  const c = m.bundle.card;
  return {
    id: c.id,
    version: c.version,
    weightsSha256: c.files.weights.sha256,
    dir: m.bundle.dir,
    ...(m.route === undefined ? {} : { route: m.route }),
    ...(backend === undefined ? {} : { backend }),
  };
}

/** Options of {@link analyseFilm}. */
export interface AnalyseOptions {
  readonly given: GivenInputs;
  /** Where the manifest row came from, for messages. */
  readonly source?: string;
  /** Write the heat map, laid over the film, here. */
  readonly heatmapPath?: string;
  /**
   * The film already read (as `file` reads) and, where it has been, judged by this set's gate for this task: a caller
   * that judges one film for several tasks (ingestion) reads and gates it once instead of once per task.
   */
  readonly film?: { readonly radiograph: Radiograph; readonly gate?: GateOutcome };
  /**
   * Called with the heat map (the same Grad-CAM mean as the written overlay, on the model input's grid) and the film
   * it explains (as analysed: after the gate's corrections), for a caller that lays it over the film itself.
   */
  readonly onSaliency?: (s: { readonly map: Float32Array; readonly prepared: PreprocessResult; readonly radiograph: Radiograph; readonly method: string }) => void;
}

function errorResult(file: string, task: string, e: unknown): FilmResult {
  const err = e instanceof Error ? e : new Error(String(e));
  return { file, task, error: { name: err.name, message: err.message.replace(/\s*\n\s*/g, ' ') } };
}

/** Which members answer which variants, member-major in set order. */
function routesOf<State>(models: TaskModels<State>, variants: readonly Variant[]): { member: ModelSetMember; variants: number[] }[] {
  const byMember = new Map<ModelSetMember, number[]>();
  variants.forEach((v, i) => {
    for (const m of membersFor(models.set, v.values)) byMember.set(m, [...(byMember.get(m) ?? []), i]);
  });
  return models.set.members.filter((m) => byMember.has(m)).map((m) => ({ member: m, variants: byMember.get(m) as number[] }));
}

/**
 * Analyse one film with a task's models; never throws for a problem of the film itself (its result carries
 * `error` or `rejected` instead).
 * @param models - from {@link openTaskModels}
 * @param file - the film's path
 * @param o - given inputs, heat-map path
 */
export async function analyseFilm<State>(models: TaskModels<State>, file: string, o: AnalyseOptions): Promise<FilmResult> {
  const { task, set } = models;
  let radiograph: Radiograph;
  try {
    radiograph = o.film?.radiograph ?? (await readRadiograph(file));
  } catch (e) {
    return errorResult(file, task.name, e);
  }
  const firstMember = set.members[0] as ModelSetMember;
  const composite = set.composite
    ? { composite: { id: set.composite.manifest.id, kind: set.composite.manifest.kind, dir: set.dir } }
    : { model: provenance(firstMember, (await runnerOf(models, firstMember)).backend) };
  // the suitability gate first: a film outside what the task accepts never reaches its model
  const warned = [...radiograph.warnings];
  let gate: { gate?: GateSummary } = {};
  let gateVerdict: GateViewVerdict | undefined;
  if (task.accepts !== undefined) {
    if (models.gate === null) {
      warned.push(`not checked by the suitability gate: ${models.gateSkipped ?? 'no gate was given'}`);
    } else {
      try {
        const g = o.film?.gate ?? (await gateFilm(models.gate, radiograph, task.accepts));
        gate = { gate: g.report };
        warned.push(...g.report.corrections, ...g.report.metadata);
        if (g.refused !== null) {
          return { file, task: task.name, ...composite, ...gate, rejected: { reason: g.refused }, ...(warned.length > 0 ? { warnings: warned } : {}) };
        }
        radiograph = g.radiograph;
        gateVerdict = g.report.verdictAfterCorrection ?? g.report.verdict;
      } catch (e) {
        return { ...errorResult(file, task.name, e), ...composite, ...(warned.length > 0 ? { warnings: warned } : {}) };
      }
    }
  }
  const warnings = warned.length > 0 ? { warnings: warned } : {};
  let inputs: Record<string, ResolvedInput> = {};
  try {
    inputs = resolveInputs(task.inputs, radiograph, o.given, o.source, gateVerdict);
    // an input the model needs but nobody knows, or one outside its range, is a refusal with the reason, not an error
    const unusable = inputRefusal(task.inputs, inputs);
    if (unusable !== null) return { file, task: task.name, inputs, ...composite, ...gate, ...warnings, rejected: { reason: unusable } };
    const variants = variantsOf(task.inputs, inputs);
    const prepared = preprocess(radiograph, models.preprocessing);
    const size = prepared.image.width;
    const fields = task.filmFields(radiograph, prepared);
    const planned = routesOf(models, variants);
    const runners = await Promise.all(planned.map((r) => runnerOf(models, r.member)));
    const members = set.composite ? { members: planned.map((r, i) => provenance(r.member, runners[i]?.backend)) } : {};
    const base = { file, task: task.name, inputs, ...composite, ...members, ...gate, ...warnings };
    const known: Record<string, string | null> = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value]));
    const routes: MemberRoute<State>[] = [];
    for (const [ri, r] of planned.entries()) {
      const runner = runners[ri] as MemberRunner;
      // a routed member is checked against the value it was chosen for; any other against what is known of the film
      const refusal =
        set.kind === 'routed'
          ? r.variants.map((i) => subsetRefusal(r.member, (variants[i] as Variant).values)).find((x) => x !== null)
          : subsetRefusal(r.member, known);
      if (refusal) return { ...base, rejected: { reason: refusal } };
      const state = models.states.get(r.member) as State;
      const pass = await runner.run(prepared.image.data, 1, size, r.variants.map((v) => (variants[v] as Variant).extra));
      const firstPass = { pooled: pass.pooled[0] as Float32Array, outputs: pass.outputs.map((o) => o[0] as number), heads: pass.heads.map((h) => h[0] as Float32Array) };
      const reason = task.suitability(state, firstPass.pooled, fields);
      if (reason !== null) {
        return { ...base, rejected: { reason: set.composite ? `${reason} (check of member ${r.member.bundle.card.id})` : reason } };
      }
      routes.push({ member: r.member, state, variants: r.variants, firstPass, runner });
    }
    const iv = set.composite?.manifest.interval90;
    const ctx: FilmContext<State> = {
      file,
      radiograph,
      prepared,
      inputs,
      variants,
      setKind: set.kind,
      routes,
      ...(iv ? { compositeInterval: iv } : {}),
      ...(set.composite ? { compositeId: set.composite.manifest.id } : {}),
    };
    const answer = await task.predict(ctx);
    let heat = {};
    if (o.heatmapPath !== undefined || o.onSaliency !== undefined) {
      const s = meanSaliency(task, routes, variants, prepared, set.composite !== null);
      if (o.heatmapPath !== undefined) {
        // on the film as analysed, at its own shape, not on the square model input
        const picture = heatmapOnFilm(s.map, prepared, radiograph);
        writeFileSync(o.heatmapPath, encodeRgbaPng(picture.rgba, picture.width, picture.height));
        heat = { heatmap: o.heatmapPath, heatmapMethod: s.method };
      }
      o.onSaliency?.({ map: s.map, prepared, radiograph, method: s.method });
    }
    return { ...base, answer, ...heat };
  } catch (e) {
    return { ...errorResult(file, task.name, e), ...(Object.keys(inputs).length > 0 ? { inputs } : {}), ...composite, ...gate, ...warnings };
  }
}

/**
 * The Grad-CAM map (Selvaraju et al. 2017) of every member and variant that answered, averaged: with an unknown
 * input the map is the mean over its values, so the picture does not pretend to know; a composite shows the mean of
 * its members'. The map is scaled on the film and 0 on the letterbox padding.
 */
function meanSaliency<State>(
  task: Task<TrainingItem, State>,
  routes: readonly MemberRoute<State>[],
  variants: readonly Variant[],
  prepared: PreprocessResult,
  isComposite: boolean,
): { map: Float32Array; method: string } {
  const { image, letterbox } = prepared;
  const size = image.width;
  const region = { x: letterbox.offsetX, y: letterbox.offsetY, width: letterbox.contentWidth, height: letterbox.contentHeight };
  const targets: string[] = [];
  const methods = new Set<string>();
  const featureSizes = new Set<string>();
  const maps: SaliencyMap[] = routes.flatMap((r) =>
    r.variants.map((i, j) => {
      const extra = (variants[i] as Variant).extra;
      const model = r.member.model;
      const k = model.extraInputs;
      const heads = r.firstPass.heads[j];
      const target = task.saliencyTarget === undefined || heads === undefined ? undefined : task.saliencyTarget(heads);
      if (target !== undefined) targets.push(target.describe);
      methods.add(target?.method === 'hirescam' ? 'HiResCAM' : 'Grad-CAM');
      // a finer map where the task asks for one and this model can be cut there; the last feature map otherwise
      const stage = stageBeforeLast(model, target?.stagesBeforeLast ?? 0);
      const map = tidy(() =>
        gradCam(model, tensor(image.data, [1, 1, size, size]), {
          ...(k === 0 ? {} : { extra: tensor([...extra], [1, k]) }),
          region,
          ...(stage === undefined ? {} : { stage }),
          ...(target === undefined
            ? {}
            : { outputIndex: target.outputIndex, ...(target.mode === undefined ? {} : { mode: target.mode }), ...(target.method === undefined ? {} : { method: target.method }) }),
        }),
      );
      featureSizes.add(`${map.featureSize[0]}×${map.featureSize[1]}`);
      return map;
    }),
  );
  const data = new Float32Array(size * size);
  for (const m of maps) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + (m.data[i] as number) / maps.length;
  const explained = `${targets.length === 0 ? '' : ` of ${[...new Set(targets)].join(' / ')}`} on the ${[...featureSizes].join(' / ')} feature map`;
  const name = [...methods].join(' / ');
  if (!isComposite) return { map: data, method: `${name}${explained}` };
  const described = routes.map((r) => `${r.member.bundle.card.id} × ${r.variants.map((i) => Object.values((variants[i] as Variant).values).join('/')).join('/')}`);
  return { map: data, method: `mean of ${maps.length} ${name} maps${explained} (${described.join(', ')})` };
}
