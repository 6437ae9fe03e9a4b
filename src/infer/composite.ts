/**
 * Composite bundles: a folder whose `composite.json` names member bundles (folders relative to it) with each
 * member's card id and weights sha256 — a fold ensemble, or one model per sex.
 *
 * Why: a fold ensemble and one model per sex (Larson et al., Radiology 2018) are both several bundles answering as
 * one. A composite does not copy its members; it pins them. Loading verifies every member as `loadBundle` does
 * and then checks that its card id and weights hash are the ones recorded when the composite was made, so a
 * member replaced after validation (a retrained fold, the other sex's model) is refused, not silently used
 * (the configuration management of IEC 62304, as for single bundles).
 *
 * @example
 * saveComposite('ens', { kind: 'ensemble', id: 'my-ensemble', task: 'my-task', members: ['fold-1', 'fold-2'] });
 * loadComposite('ens').members.length; // 2
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { loadBundle, physisVersion, type ModelBundle } from './bundle.js';
import { BundleIncompleteError, CompositeError, CompositeMemberError } from './errors.js';
import type { CardMetric } from './model-card.js';

/** The manifest file that makes a folder a composite bundle. */
export const COMPOSITE_FILE = 'composite.json';

/**
 * Current composite manifest schema version; bump when a field changes meaning. Version 2 routes members by any
 * input (`routeBy`, each member's `route`) where version 1 knew only sex, and states the interval's unit.
 */
export const COMPOSITE_SCHEMA_VERSION = 2;

/**
 * How a composite combines its members: `ensemble` averages them; `routed` answers each film with the member whose
 * `route` equals the film's value of the input named by `routeBy` (e.g. one model per sex, as Larson et al. 2018).
 */
export type CompositeKind = 'ensemble' | 'routed';

/** One member as composite.json pins it. */
export interface CompositeMember {
  /** Member bundle folder, relative to the composite folder (no absolute paths, so the pair can be moved). */
  readonly path: string;
  /** The member card's `id` when the composite was made. */
  readonly id: string;
  /** The member card's weights sha256 when the composite was made. */
  readonly weightsSha256: string;
  /** routed: the value of the composite's `routeBy` input this member answers (its card's subset must agree). */
  readonly route?: string;
  /** ensemble: the member's weight in the mean (default equal weights). */
  readonly weight?: number;
}

/**
 * The interval rule of a composite that does not use its members' own: a constant half-width around the
 * composite's prediction, with what it was calibrated on and the coverage measured.
 */
export interface CompositeInterval {
  readonly level: number;
  readonly halfWidth: number;
  /** Unit of the half-width (the output's unit, e.g. months). */
  readonly unit: string;
  /** Plain words: the method and the data (e.g. out-of-fold residuals of 1023 images, split conformal). */
  readonly method: string;
  /** Share of calibration cases inside their interval (in-sample). */
  readonly coverage: number;
  /** Two-fold cross-conformal coverage (calibrated on one half, measured on the other), when measured. */
  readonly coverageHeldOut?: number;
  readonly n: number;
}

/** composite.json as stored. */
export interface CompositeManifest {
  readonly format: 'physis-composite';
  readonly schemaVersion: number;
  readonly kind: CompositeKind;
  /** routed: the input whose value chooses the member. */
  readonly routeBy?: string;
  readonly id: string;
  readonly task: string;
  readonly members: readonly CompositeMember[];
  /** What the composite is and how its members were made (shown to users; never a number without its data). */
  readonly description: string;
  readonly metrics: readonly CardMetric[];
  readonly interval90?: CompositeInterval;
  readonly createdAt: string;
  readonly physisVersion: string;
}

/** A verified composite: its manifest and every member bundle, in manifest order. */
export interface CompositeBundle {
  readonly dir: string;
  readonly manifest: CompositeManifest;
  readonly members: readonly ModelBundle[];
}

/** What a caller gives {@link saveComposite}: members as folders (relative to `dir`); ids and hashes are read. */
export interface CompositeDraft {
  readonly kind: CompositeKind;
  readonly routeBy?: string;
  readonly id: string;
  readonly task: string;
  readonly members: readonly (string | { readonly path: string; readonly route?: string; readonly weight?: number })[];
  readonly description: string;
  readonly metrics?: readonly CardMetric[];
  readonly interval90?: CompositeInterval;
  readonly createdAt?: Date;
}

/** Whether a folder is a composite bundle (holds composite.json). @param dir - a folder */
export function isCompositeDir(dir: string): boolean {
  return existsSync(join(dir, COMPOSITE_FILE));
}

function checkMemberPath(path: string, source: string, i: number): void {
  if (path.length === 0 || isAbsolute(path) || normalize(path).startsWith('..')) {
    // inside the composite folder only, so the composite and its members move (and are verified) together
    throw new CompositeError(`${source}: members[${i}].path '${path}' must be a folder inside the composite folder`);
  }
}

/**
 * Check a parsed composite.json and return it typed.
 * @param value - the parsed JSON
 * @param source - the file it came from, for messages
 */
export function validateComposite(value: unknown, source = COMPOSITE_FILE): CompositeManifest {
  const fail = (field: string, why: string): never => {
    throw new CompositeError(`${source}: ${field} ${why}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(field, 'must be an object');
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v.length > 0 ? v : fail(field, 'must be a non-empty string'));
  const num = (v: unknown, field: string): number => (typeof v === 'number' && Number.isFinite(v) ? v : fail(field, 'must be a finite number'));
  const c = obj(value, 'composite');
  if (c['format'] !== 'physis-composite') fail('format', `must be 'physis-composite', got ${JSON.stringify(c['format'])}`);
  if (c['schemaVersion'] === 1) {
    throw new CompositeError(`${source}: composite schema 1; upgrade it once with \`physis bundle upgrade <dir>\``);
  }
  if (c['schemaVersion'] !== COMPOSITE_SCHEMA_VERSION) {
    fail('schemaVersion', `must be ${COMPOSITE_SCHEMA_VERSION}, got ${JSON.stringify(c['schemaVersion'])}`);
  }
  const kind = c['kind'];
  if (kind !== 'ensemble' && kind !== 'routed') fail('kind', `must be 'ensemble' or 'routed', got ${JSON.stringify(kind)}`);
  const routeBy = kind === 'routed' ? str(c['routeBy'], 'routeBy (the input that chooses the member)') : undefined;
  str(c['id'], 'id');
  str(c['task'], 'task');
  str(c['description'], 'description');
  if (!Array.isArray(c['members']) || c['members'].length === 0) fail('members', 'must be a non-empty array');
  const members = c['members'] as unknown[];
  const routes: string[] = [];
  members.forEach((m, i) => {
    const o = obj(m, `members[${i}]`);
    checkMemberPath(str(o['path'], `members[${i}].path`), source, i);
    str(o['id'], `members[${i}].id`);
    if (typeof o['weightsSha256'] !== 'string' || !/^[0-9a-f]{64}$/.test(o['weightsSha256'])) {
      fail(`members[${i}].weightsSha256`, 'must be 64 lowercase hex digits');
    }
    if (o['weight'] !== undefined && !(num(o['weight'], `members[${i}].weight`) > 0)) fail(`members[${i}].weight`, 'must be > 0');
    if (kind === 'routed') routes.push(str(o['route'], `members[${i}].route (the ${routeBy ?? ''} value it answers)`));
  });
  if (kind === 'routed' && new Set(routes).size !== routes.length) {
    fail('members', `of a routed composite must answer different ${routeBy ?? ''} values, got [${routes.join(', ')}]`);
  }
  if (kind === 'ensemble' && members.length < 2) fail('members', 'of an ensemble must be at least two');
  if (!Array.isArray(c['metrics'])) fail('metrics', 'must be an array');
  (c['metrics'] as unknown[]).forEach((e, i) => {
    const m = obj(e, `metrics[${i}]`);
    str(m['name'], `metrics[${i}].name`);
    num(m['value'], `metrics[${i}].value`);
    str(m['data'], `metrics[${i}].data (the data the metric was measured on)`);
  });
  if (c['interval90'] !== undefined) {
    const iv = obj(c['interval90'], 'interval90');
    num(iv['level'], 'interval90.level');
    if (!(num(iv['halfWidth'], 'interval90.halfWidth') >= 0)) fail('interval90.halfWidth', 'must be >= 0');
    str(iv['unit'], 'interval90.unit');
    str(iv['method'], 'interval90.method');
    num(iv['coverage'], 'interval90.coverage');
    if (iv['coverageHeldOut'] !== undefined) num(iv['coverageHeldOut'], 'interval90.coverageHeldOut');
    num(iv['n'], 'interval90.n');
  }
  if (Number.isNaN(Date.parse(str(c['createdAt'], 'createdAt')))) fail('createdAt', 'must be an ISO 8601 date');
  str(c['physisVersion'], 'physisVersion');
  return value as CompositeManifest;
}

function checkMember(dir: string, manifest: CompositeManifest, m: CompositeMember, i: number): ModelBundle {
  const memberDir = join(dir, m.path);
  if (!existsSync(memberDir)) {
    throw new BundleIncompleteError(`${dir}: member ${i + 1} '${m.path}' (${m.id}) named in ${COMPOSITE_FILE} is missing`);
  }
  const bundle = loadBundle(memberDir);
  const card = bundle.card;
  if (card.id !== m.id || card.files.weights.sha256 !== m.weightsSha256) {
    throw new CompositeMemberError(
      `${memberDir}: member ${i + 1} is ${card.id} with weights sha256 ${card.files.weights.sha256}, but ${COMPOSITE_FILE} ` +
        `pins ${m.id} with ${m.weightsSha256} (member replaced after the composite was made)`,
    );
  }
  if (card.task !== manifest.task) {
    throw new CompositeMemberError(`${memberDir}: member task '${card.task}' is not the composite's '${manifest.task}'`);
  }
  if (manifest.kind === 'routed' && manifest.routeBy !== undefined && card.trainingData.subset?.[manifest.routeBy] !== m.route) {
    const has = card.trainingData.subset?.[manifest.routeBy];
    throw new CompositeMemberError(
      `${memberDir}: the ${manifest.routeBy} ${m.route ?? '?'} member's card says it was trained on ` +
        `${has === undefined ? `every ${manifest.routeBy}` : `${manifest.routeBy} ${has} only`}`,
    );
  }
  return bundle;
}

/**
 * Open a composite folder: validate composite.json, verify every member bundle (files and hashes, as
 * `loadBundle`), and check each member is the one pinned (card id, weights sha256, and for a routed
 * composite the subset its card says it was trained on).
 * @param dir - the composite folder
 * @throws BundleIncompleteError when composite.json or a member folder is missing
 * @throws CompositeError when composite.json is malformed
 * @throws CompositeMemberError when a member is not the one pinned, of another task, or trained on another subset
 * @throws BundleIntegrityError when a member's own files do not match its card
 */
export function loadComposite(dir: string): CompositeBundle {
  const path = join(dir, COMPOSITE_FILE);
  if (!existsSync(path)) throw new BundleIncompleteError(`${dir}: '${COMPOSITE_FILE}' is missing`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CompositeError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const manifest = validateComposite(parsed, path);
  const members = manifest.members.map((m, i) => checkMember(dir, manifest, m, i));
  const shapes = new Set(members.map((b) => b.card.input.shape.join('x')));
  if (shapes.size > 1) throw new CompositeMemberError(`${dir}: members take different input shapes (${[...shapes].join(', ')})`);
  return { dir, manifest, members };
}

/**
 * Write composite.json pinning the given member folders (each verified and its id and weights hash read now),
 * then re-open it as {@link loadComposite} would.
 * @param dir - the composite folder (must exist and hold the members)
 * @param draft - kind, id, task, member folders relative to `dir`, description, metrics and interval
 */
export function saveComposite(dir: string, draft: CompositeDraft): CompositeBundle {
  const members: CompositeMember[] = draft.members.map((m, i) => {
    const spec = typeof m === 'string' ? { path: m } : m;
    checkMemberPath(spec.path, join(dir, COMPOSITE_FILE), i);
    const b = loadBundle(join(dir, spec.path));
    return {
      path: spec.path,
      id: b.card.id,
      weightsSha256: b.card.files.weights.sha256,
      ...(spec.route === undefined ? {} : { route: spec.route }),
      ...(spec.weight === undefined ? {} : { weight: spec.weight }),
    };
  });
  const manifest: CompositeManifest = {
    format: 'physis-composite',
    schemaVersion: COMPOSITE_SCHEMA_VERSION,
    kind: draft.kind,
    ...(draft.routeBy === undefined ? {} : { routeBy: draft.routeBy }),
    id: draft.id,
    task: draft.task,
    members,
    description: draft.description,
    metrics: draft.metrics ?? [],
    ...(draft.interval90 ? { interval90: draft.interval90 } : {}),
    createdAt: (draft.createdAt ?? new Date()).toISOString(),
    physisVersion: physisVersion(),
  };
  const path = join(dir, COMPOSITE_FILE);
  validateComposite(manifest, path);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, path);
  return loadComposite(dir);
}
