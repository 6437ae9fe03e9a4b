/**
 * The DICOM JSON model (PS3.18 F.2) as QIDO-RS and STOW-RS answer it: typed elements, a validating reader and
 * accessors that read a string, a list of strings or a number from a tag.
 *
 * Why validate: every field a caller uses (a UID to retrieve, a study date to window on) comes from a server's JSON;
 * reading it through one checked shape turns a malformed answer into one DicomJsonError instead of an `undefined`
 * deep in the watcher.
 */
import { DicomJsonError } from './errors.js';

/** A Person Name value (PS3.18 F.2.2: component groups, each `^`-separated). */
export interface DicomJsonPersonName {
  readonly Alphabetic?: string;
  readonly Ideographic?: string;
  readonly Phonetic?: string;
}

/** One value of an element: text, a number (IS, DS, binary VRs of one value), a person name or a sequence item. */
export type DicomJsonValue = string | number | DicomJsonPersonName | DicomJsonDataset | null;

/** One element (PS3.18 F.2.2): its VR and at most one of Value, InlineBinary, BulkDataURI. */
export interface DicomJsonElement {
  readonly vr: string;
  readonly Value?: readonly DicomJsonValue[];
  readonly InlineBinary?: string;
  readonly BulkDataURI?: string;
}

/** A data set: eight upper-case hex digits (group, element) to element (PS3.18 F.2.1.1). */
export type DicomJsonDataset = Readonly<Record<string, DicomJsonElement>>;

const TAG = /^[0-9A-Fa-f]{8}$/;
const VR = /^[A-Z]{2}$/;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function checkDataset(x: unknown, where: string, depth: number): DicomJsonDataset {
  if (!isRecord(x)) throw new DicomJsonError(`${where} is not a JSON object`);
  // PS3.18 F.2 nests sequences; a server that nests deeper than any real IOD is sending something else
  if (depth > 32) throw new DicomJsonError(`${where} nests sequences more than 32 deep`);
  const out: Record<string, DicomJsonElement> = {};
  for (const [tag, el] of Object.entries(x)) {
    if (!TAG.test(tag)) throw new DicomJsonError(`${where}: '${tag.slice(0, 20)}' is not a tag (eight hex digits)`);
    if (!isRecord(el) || typeof el['vr'] !== 'string' || !VR.test(el['vr'])) {
      throw new DicomJsonError(`${where}: element ${tag} has no valid 'vr'`);
    }
    const value = el['Value'];
    if (value !== undefined) {
      if (!Array.isArray(value)) throw new DicomJsonError(`${where}: element ${tag} has a 'Value' that is not an array`);
      if (el['vr'] === 'SQ') value.forEach((item, i) => checkDataset(item, `${where} ${tag}[${i}]`, depth + 1));
      for (const v of value as unknown[]) {
        if (!(typeof v === 'string' || typeof v === 'number' || v === null || isRecord(v))) {
          throw new DicomJsonError(`${where}: element ${tag} has a value of type ${Array.isArray(v) ? 'array' : typeof v}`);
        }
      }
    }
    out[tag.toUpperCase()] = el as unknown as DicomJsonElement;
  }
  return out;
}

/**
 * Check that a parsed JSON answer is an array of DICOM JSON data sets (PS3.18 F.2.1) and return it typed.
 * @param json - the parsed body of a QIDO-RS answer (application/dicom+json)
 * @param what - what it answers, for the error message, e.g. `QIDO-RS instances`
 */
export function readDicomJsonArray(json: unknown, what: string): DicomJsonDataset[] {
  if (!Array.isArray(json)) throw new DicomJsonError(`${what}: the answer is not a JSON array of data sets`);
  return json.map((x, i) => checkDataset(x, `${what} result ${i + 1}`, 0));
}

/**
 * Check that a parsed JSON answer is one DICOM JSON data set (a STOW-RS response, PS3.18 10.5.3) and return it typed.
 * @param json - the parsed body
 * @param what - what it answers, for the error message
 */
export function readDicomJsonDataset(json: unknown, what: string): DicomJsonDataset {
  return checkDataset(json, what, 0);
}

/**
 * The values of an element as strings: text as is, numbers in decimal, person names by their Alphabetic group;
 * empty when absent or empty.
 * @param dataset - a data set
 * @param tag - eight hex digits, e.g. `00080060`
 */
export function dicomJsonStrings(dataset: DicomJsonDataset, tag: string): string[] {
  const values = dataset[tag]?.Value ?? [];
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number') out.push(String(v));
    else if (v !== null && typeof (v as DicomJsonPersonName).Alphabetic === 'string') {
      out.push((v as DicomJsonPersonName).Alphabetic ?? '');
    }
  }
  return out;
}

/**
 * The first value of an element as a string (see {@link dicomJsonStrings}), undefined when absent or empty text.
 * @param dataset - a data set
 * @param tag - eight hex digits
 */
export function dicomJsonString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const v = dicomJsonStrings(dataset, tag)[0];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * The first value of a numeric element (IS, DS, US, UL…) as a number; JSON numbers per PS3.18 F.2.3, and decimal
 * strings too, which some servers send for IS and DS. Undefined when absent or not a finite number.
 * @param dataset - a data set
 * @param tag - eight hex digits
 */
export function dicomJsonNumber(dataset: DicomJsonDataset, tag: string): number | undefined {
  const v = dataset[tag]?.Value?.[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The items of a sequence element (SQ), empty when absent.
 * @param dataset - a data set
 * @param tag - eight hex digits
 */
export function dicomJsonItems(dataset: DicomJsonDataset, tag: string): DicomJsonDataset[] {
  const el = dataset[tag];
  if (el === undefined || el.vr !== 'SQ') return [];
  return (el.Value ?? []).filter((v): v is DicomJsonDataset => v !== null && typeof v === 'object');
}
