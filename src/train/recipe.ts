/**
 * Training recipes as data: typed defaults, a JSON recipe file merged over them, then `key.path=value`
 * overrides; and the overrides that reproduce a given configuration.
 *
 * Why: as in MONAI bundles (a JSON config plus command-line overrides, `--key#path value`), the recipe is
 * data, not a block of flag parsing: every field of a task's default configuration can be changed without
 * new code, the defaults double as the schema (an unknown key or a value of the wrong type is refused with
 * the valid keys listed, so a typo never trains silently with the default), and {@link recipeDiff} turns a
 * configuration back into the overrides a model card's reproduce command needs.
 *
 * Types follow the default's: numbers (finite), booleans (`true`/`false`), strings (the text after `=`,
 * verbatim), arrays (JSON of the same length, element types checked), objects (merged key by key). `null`
 * is accepted where the default is null or an array; a key whose default is null takes any JSON value.
 *
 * @example
 * const config = applyRecipe(DEFAULTS, { file: 'recipe.json', set: ['optimizer.lr=3e-4', 'augmentation.scale=[0.9,1.1]'] });
 * recipeDiff(DEFAULTS, config); // → ['optimizer.lr=0.0003', 'augmentation.scale=[0.9,1.1]', ...fields the file changed]
 */
import { readFileSync } from 'node:fs';
import { RecipeError } from './run-errors.js';

/** A JSON value, as recipes hold. */
export type RecipeValue =
  null | boolean | number | string | readonly RecipeValue[] | { readonly [key: string]: RecipeValue };

/** Options of {@link applyRecipe}. */
export interface ApplyRecipeOptions {
  /** A JSON recipe file: an object with any subset of the defaults' keys. */
  readonly file?: string;
  /** `key.path=value` overrides, applied in order after the file (so they win). */
  readonly set?: readonly string[];
}

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function expected(def: unknown): string {
  if (def === null) return 'any JSON value';
  if (Array.isArray(def)) return `an array of ${def.length} (or null)`;
  if (isDict(def)) return 'an object';
  return `a ${typeof def}`;
}

function cloneJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneJson);
  if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneJson(x)]));
  return v;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function joinKey(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

/** Check `value` against the default's type and return a fresh, merged value. */
function merge(def: unknown, current: unknown, value: unknown, key: string, source: string): unknown {
  const wrong = (): RecipeError =>
    new RecipeError(`recipe key "${key}" must be ${expected(def)}, got ${describe(value)} (${source})`, key);
  if (def === null) return cloneJson(value);
  if (typeof def === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong();
    return value;
  }
  if (typeof def === 'boolean' || typeof def === 'string') {
    if (typeof value !== typeof def) throw wrong();
    return value;
  }
  if (Array.isArray(def)) {
    if (value === null) return null;
    if (!Array.isArray(value) || value.length !== def.length) throw wrong();
    return def.map((d, i) => merge(d, d, value[i], joinKey(key, i), source));
  }
  if (isDict(def)) {
    if (!isDict(value)) throw wrong();
    const base = isDict(current) ? current : def;
    const out: Dict = {};
    for (const k of Object.keys(def)) out[k] = cloneJson(base[k]);
    for (const [k, v] of Object.entries(value)) {
      const child = joinKey(key, k);
      if (!Object.hasOwn(def, k)) throw unknownKey(child, def, key, source);
      out[k] = merge(def[k], base[k], v, child, source);
    }
    return out;
  }
  throw new RecipeError(`recipe key "${key}" has a default of unsupported type ${typeof def}`, key);
}

function unknownKey(key: string, level: Dict, parent: string, source: string): RecipeError {
  const where = parent === '' ? 'at the top level' : `under "${parent}"`;
  return new RecipeError(
    `unknown recipe key "${key}" (${source}); valid keys ${where}: ${Object.keys(level).join(', ')}`,
    key,
  );
}

/** Parse the text of an override against the default's type. */
function parseSetValue(def: unknown, text: string, key: string, source: string): unknown {
  const bad = (): RecipeError =>
    new RecipeError(
      `recipe key "${key}" must be ${expected(def)}, got ${JSON.stringify(text)} (${source})`,
      key,
    );
  if (typeof def === 'string') return text;
  if (typeof def === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw bad();
    return n;
  }
  if (typeof def === 'boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw bad();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a key whose default is null takes a bare string too (e.g. a path)
    if (def === null) return text;
    throw bad();
  }
  return parsed;
}

/**
 * The configuration after a recipe file and overrides, checked against the defaults and deeply frozen.
 * @param defaults - the task's default configuration; also the schema. Not modified.
 * @param o - the recipe file and the `key.path=value` overrides (applied after the file)
 * @throws RecipeError for an unreadable file, invalid JSON, an unknown key or a value of the wrong type
 */
export function applyRecipe<C extends object>(defaults: C, o: ApplyRecipeOptions = {}): C {
  const defs = defaults as Dict;
  let config = cloneJson(defs) as Dict;
  if (o.file !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(o.file, 'utf8'));
    } catch (e) {
      throw new RecipeError(
        `cannot read recipe ${o.file}: ${e instanceof Error ? e.message : String(e)}`,
        '',
      );
    }
    if (!isDict(raw))
      throw new RecipeError(`recipe ${o.file} must hold a JSON object, got ${describe(raw)}`, '');
    config = merge(defs, config, raw, '', `in ${o.file}`) as Dict;
  }
  for (const assignment of o.set ?? []) {
    const eq = assignment.indexOf('=');
    const source = `set ${assignment}`;
    if (eq <= 0) throw new RecipeError(`override "${assignment}" must be key.path=value`, '');
    const key = assignment.slice(0, eq).trim();
    const parts = key.split('.');
    // walk the defaults (the schema) and the current config side by side, down to the parent of the leaf
    let def: unknown = defs;
    let cur: Dict = config;
    let path = '';
    for (const [depth, part] of parts.entries()) {
      if (!isDict(def))
        throw new RecipeError(
          `recipe key "${path}" is not an object, so "${key}" does not exist (${source})`,
          key,
        );
      const child = joinKey(path, part);
      if (!Object.hasOwn(def, part)) throw unknownKey(child, def, path, source);
      if (depth === parts.length - 1) {
        const value = parseSetValue(def[part], assignment.slice(eq + 1), child, source);
        cur[part] = merge(def[part], cur[part], value, child, source);
      } else {
        // an object default never holds null (null is refused for objects), so cur[part] is a dict
        const next = cur[part];
        if (!isDict(next))
          throw new RecipeError(
            `recipe key "${child}" is not an object in the current recipe (${source})`,
            key,
          );
        cur = next;
      }
      def = def[part];
      path = child;
    }
  }
  return deepFreeze(config) as C;
}

function equalJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a))
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => equalJson(x, b[i]));
  if (isDict(a)) {
    if (!isDict(b)) return false;
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equalJson(a[k], b[k]))
    );
  }
  return Object.is(a, b);
}

function formatValue(def: unknown, v: unknown): string {
  if (typeof v === 'string') {
    // under a null default a string that reads as JSON (e.g. "12") is quoted, so it parses back as a string
    if (def === null) {
      try {
        JSON.parse(v);
        return JSON.stringify(v);
      } catch {
        return v;
      }
    }
    return v;
  }
  if (Object.is(v, -0)) return '-0'; // JSON.stringify(-0) is "0"
  return JSON.stringify(v);
}

function diffInto(def: unknown, v: unknown, path: string, out: string[]): void {
  if (equalJson(def, v)) return;
  if (isDict(def) && isDict(v)) {
    for (const k of Object.keys(def)) diffInto(def[k], v[k], joinKey(path, k), out);
    return;
  }
  out.push(`${path}=${formatValue(def, v)}`);
}

/**
 * The `key.path=value` overrides that turn the defaults into `config`, in the defaults' key order.
 *
 * Why: a model card records how to reproduce its model; listing only what differs from the task's
 * defaults keeps that command short and shows at a glance what was changed.
 * `applyRecipe(defaults, { set: recipeDiff(defaults, config) })` deep-equals `config`.
 * @param defaults - the task's default configuration
 * @param config - a configuration made from it (by {@link applyRecipe})
 */
export function recipeDiff<C extends object>(defaults: C, config: C): string[] {
  const out: string[] = [];
  const defs = defaults as Dict;
  const conf = config as Dict;
  for (const k of Object.keys(defs)) diffInto(defs[k], conf[k], k, out);
  return out;
}

/** The `--set` overrides that switch a recipe's augmentation to the identity (what `--no-augment` trains with). */
export const NO_AUGMENTATION_KEYS: readonly string[] = Object.freeze([
  'augmentation.rotationDeg=0',
  'augmentation.scale=[1,1]',
  'augmentation.translate=0',
  'augmentation.brightness=0',
  'augmentation.contrast=[1,1]',
  'augmentation.gamma=[1,1]',
]);
