/**
 * A model set: what a folder given as `--bundle` holds, opened once — a single bundle, a fold ensemble or a
 * routed composite (one member per value of an input, e.g. per sex) — with every member's network built from the
 * weights bytes `loadBundle` verified.
 *
 * Why here and generic: predict, explain, evaluate and the server all accept any of the three, and the choice of
 * member depends only on the composite's `routeBy` input, never on the task (the pattern of ONNX Runtime's
 * sessions over verified model files; the configuration management of IEC 62304).
 *
 * @example
 * const set = openModelSet('runs/my-model');
 * set.members.length; // 1
 * membersFor(set, { sex: 'F' }); // [the single member]
 * disposeModelSet(set);
 */
import type { ZooModel } from '../models/index.js';
import { loadBundle, type ModelBundle } from './bundle.js';
import { isCompositeDir, loadComposite, type CompositeBundle, type CompositeKind } from './composite.js';
import { CompositeMemberError } from './errors.js';
import { loadBundleModel } from './torch-predictor.js';

/** One opened member: its verified bundle, its network, its weight in an ensemble mean and its route value. */
export interface ModelSetMember {
  readonly bundle: ModelBundle;
  readonly model: ZooModel;
  /** Weight in an ensemble mean (1 unless composite.json says otherwise). */
  readonly weight: number;
  /** routed: the value of `routeBy` this member answers. */
  readonly route?: string;
}

/** A bundle or composite folder, opened. */
export interface ModelSet {
  readonly dir: string;
  readonly kind: 'single' | CompositeKind;
  /** routed: the input whose value chooses the member. */
  readonly routeBy?: string;
  /** The composite, or null for a single bundle. */
  readonly composite: CompositeBundle | null;
  readonly members: readonly ModelSetMember[];
  /** The task every member was trained for. */
  readonly task: string;
  /** [channels, height, width] that every member takes. */
  readonly inputShape: readonly number[];
}

/**
 * Open a bundle folder or a composite folder with every member's network (each weights file read and hashed once).
 * @param dir - a bundle or composite folder
 * @param o - `task`: refuse a set made for another task
 * @throws CompositeMemberError when the set's task is not `o.task`; the errors of loadBundle / loadComposite
 */
export function openModelSet(dir: string, o: { task?: string } = {}): ModelSet {
  const composite = isCompositeDir(dir) ? loadComposite(dir) : null;
  const bundles = composite ? composite.members : [loadBundle(dir)];
  const first = bundles[0] as ModelBundle;
  const task = composite ? composite.manifest.task : first.card.task;
  if (o.task !== undefined && task !== o.task) {
    throw new CompositeMemberError(`${dir}: a model for task '${task}', not '${o.task}'`);
  }
  const members: ModelSetMember[] = [];
  try {
    bundles.forEach((bundle, i) => {
      const pinned = composite?.manifest.members[i];
      members.push({
        bundle,
        model: loadBundleModel(bundle),
        weight: pinned?.weight ?? 1,
        ...(pinned?.route === undefined ? {} : { route: pinned.route }),
      });
    });
  } catch (e) {
    for (const m of members) m.model.dispose();
    throw e;
  }
  const routeBy = composite?.manifest.routeBy;
  return {
    dir,
    kind: composite ? composite.manifest.kind : 'single',
    ...(routeBy === undefined ? {} : { routeBy }),
    composite,
    members,
    task,
    inputShape: first.card.input.shape,
  };
}

/** Free every member's network. @param set - from {@link openModelSet} */
export function disposeModelSet(set: ModelSet): void {
  for (const m of set.members) m.model.dispose();
}

/**
 * The members that answer a film with these input values: every member of a single bundle or ensemble; for a
 * routed composite the member whose route is the film's value of `routeBy`.
 * @param set - the opened set
 * @param inputs - the film's resolved input values (a routed set needs its `routeBy` value)
 * @throws CompositeMemberError when a routed set has no member for the value, or the value is missing
 */
export function membersFor(set: ModelSet, inputs: Readonly<Record<string, string | null | undefined>>): ModelSetMember[] {
  if (set.kind !== 'routed' || set.routeBy === undefined) return [...set.members];
  const value = inputs[set.routeBy];
  if (value === undefined || value === null) {
    throw new CompositeMemberError(`${set.dir}: routed by ${set.routeBy}, but the film's ${set.routeBy} is unknown`);
  }
  const member = set.members.find((m) => m.route === value);
  if (!member) throw new CompositeMemberError(`${set.dir}: no member for ${set.routeBy} ${value}`);
  return [member];
}

/**
 * Refuse a film whose input values fall outside the subset a member was trained on (a male-only model shown a
 * girl's film, or a film of unknown sex), with the reason in words; null when the member accepts them.
 * @param member - a set member
 * @param inputs - the film's resolved input values
 */
export function subsetRefusal(member: ModelSetMember, inputs: Readonly<Record<string, string | null | undefined>>): string | null {
  const subset = member.bundle.card.trainingData.subset ?? {};
  for (const [name, value] of Object.entries(subset)) {
    const given = inputs[name];
    if (given === undefined || given === null) {
      return `${member.bundle.card.id} was trained on ${name} ${value} only and the film's ${name} is unknown`;
    }
    if (given !== value) return `${member.bundle.card.id} was trained on ${name} ${value} only, the film is ${name} ${given}`;
  }
  return null;
}
