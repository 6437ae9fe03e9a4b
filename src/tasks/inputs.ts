/**
 * Resolving a film's extra inputs (sex, chronological age, view…): the command line, then the manifest, then the
 * DICOM header, and never a default. When two sources disagree the higher one wins and the result says so; when
 * none knows a categorical input the film is answered for each of its values (and says so).
 *
 * Why: the hand model takes sex as an input, and Greulich–Pyle standards differ by sex; a silent default would shift
 * every answer for the other sex (DICOM PatientSex O or empty is unknown, PS3.3 C.7.1.1).
 */
import type { Radiograph } from '../radiograph/index.js';
import { InputError } from './errors.js';
import type { GateViewVerdict, InputSpec, ResolvedInput, Variant } from './task.js';

/** The raw values given for a film, by input name. */
export interface GivenInputs {
  /** Parsed `--<name>` values (already validated). */
  readonly cli?: Readonly<Record<string, string | null | undefined>>;
  /** Raw manifest columns. */
  readonly manifest?: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolve every input of a task for one film.
 * @param specs - the task's inputs
 * @param radiograph - the film (for DICOM values)
 * @param given - command-line and manifest values
 * @param source - the manifest's name and line, for messages
 * @param gate - the suitability gate's verdict on the film (the last source), when the gate ran
 */
export function resolveInputs(
  specs: readonly InputSpec[],
  radiograph: Radiograph,
  given: GivenInputs,
  source = 'manifest',
  gate?: GateViewVerdict,
): Record<string, ResolvedInput> {
  const out: Record<string, ResolvedInput> = {};
  for (const spec of specs) {
    const rawManifest = given.manifest?.[spec.name];
    const candidates: [Exclude<ResolvedInput['source'], 'unknown'>, string | null][] = [
      ['cli', given.cli?.[spec.name] ?? null],
      ['manifest', rawManifest === undefined ? null : spec.parse(rawManifest, `${source} column '${spec.name}'`)],
      ['dicom', spec.fromRadiograph(radiograph)],
      ['gate', gate === undefined || spec.fromGate === undefined ? null : spec.fromGate(gate)],
    ];
    const known = candidates.filter((c): c is [Exclude<ResolvedInput['source'], 'unknown'>, string] => c[1] !== null);
    const first = known[0];
    if (!first) {
      out[spec.name] = { value: null, source: 'unknown' };
      continue;
    }
    const other = known.find((c) => c[1] !== first[1]);
    out[spec.name] = other
      ? { value: first[1], source: first[0], conflict: `${first[0]} says ${first[1]} but ${other[0]} says ${other[1]}; using ${first[0]}` }
      : { value: first[1], source: first[0] };
  }
  return out;
}

/**
 * The combinations of input values a film is answered for: one when every input is known, else one per value of
 * each unknown categorical input (in the order the input lists its values).
 * @param specs - the task's inputs
 * @param inputs - the film's resolved inputs
 * @throws InputError when an input without a value list is unknown
 */
export function variantsOf(specs: readonly InputSpec[], inputs: Readonly<Record<string, ResolvedInput>>): Variant[] {
  let combos: Record<string, string>[] = [{}];
  for (const spec of specs) {
    const known = inputs[spec.name]?.value ?? null;
    const values = known !== null ? [known] : spec.values;
    if (values === undefined || values.length === 0) {
      throw new InputError(`the film's ${spec.name} is unknown; give it with --${spec.name} or a manifest column '${spec.name}'`);
    }
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [spec.name]: v })));
  }
  return combos.map((values) => ({ values, extra: specs.flatMap((s) => [...s.encode(values[s.name] as string)]) }));
}

/**
 * Why a film cannot be answered for its inputs: an input without a value list that no source knows (it is never
 * defaulted), or a known value the input refuses (outside the model's range). Null when every input is usable.
 * @param specs - the task's inputs
 * @param inputs - the film's resolved inputs
 */
export function inputRefusal(specs: readonly InputSpec[], inputs: Readonly<Record<string, ResolvedInput>>): string | null {
  for (const spec of specs) {
    const value = inputs[spec.name]?.value ?? null;
    if (value === null) {
      if (spec.values === undefined || spec.values.length === 0) {
        return `the film's ${spec.name} is unknown (${spec.description}); give it with --${spec.name} or a manifest column '${spec.name}'`;
      }
      continue;
    }
    const reason = spec.refusal?.(value) ?? null;
    if (reason !== null) return reason;
  }
  return null;
}
