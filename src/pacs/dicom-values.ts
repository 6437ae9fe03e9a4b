/**
 * Small value encoders shared by the SR and SC writers: UIDs, Decimal Strings, DICOM dates and times, and the Code
 * Sequence Macro item of a coded concept.
 */
import { randomUUID } from 'node:crypto';
import type { CodedConcept } from '../tasks/index.js';
import { PacsObjectError } from './errors.js';

/**
 * A fresh UID, `2.25.` + the decimal value of a random UUID (PS3.5 B.2).
 * Why: each SR and SC is a new instance in a new series of the source study; nothing about them is known in advance.
 */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/**
 * A Decimal String (PS3.5 6.2 DS: at most 16 characters), as many significant digits as fit.
 * @param v - a finite number
 */
export function decimalString(v: number): string {
  if (!Number.isFinite(v)) throw new PacsObjectError('value', `${v} is not a finite number`);
  for (let digits = 15; digits >= 1; digits--) {
    const s = String(Number(v.toPrecision(digits)));
    if (s.length <= 16 && !s.includes('e')) return s;
  }
  return v.toExponential(6);
}

/**
 * DICOM DA and TM of a moment in UTC (PS3.5 6.2: `YYYYMMDD`, `HHMMSS.FFFFFF`).
 * @param at - the moment
 */
export function dicomDateTime(at: Date): { readonly date: string; readonly time: string } {
  const iso = at.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: `${iso.slice(11, 19).replace(/:/g, '')}.${iso.slice(20, 23)}` };
}

/**
 * The Code Sequence Macro item of a concept (PS3.3 8.8): CodeValue, or LongCodeValue when the value exceeds the
 * 16 characters of SH (PS3.3 8.8.1.1).
 * @param c - the concept; its meaning must fit LO (64 characters)
 */
export function codeItem(c: CodedConcept): Record<string, string> {
  if (c.meaning.length > 64) throw new PacsObjectError('code', `CodeMeaning of ${c.scheme} ${c.value} is longer than 64 characters`);
  if (c.value.length === 0) throw new PacsObjectError('code', `empty CodeValue (meaning "${c.meaning}")`);
  return {
    ...(c.value.length > 16 ? { LongCodeValue: c.value } : { CodeValue: c.value }),
    CodingSchemeDesignator: c.scheme,
    CodeMeaning: c.meaning,
  };
}

/**
 * SpecificCharacterSet of an object (PS3.3 C.12.1.1.2): none when every text is ASCII (the default repertoire, which
 * every reader handles), else UTF-8 (`ISO_IR 192`; a refusal reason may say `≤`, a patient name may be `Müller`).
 * @param values - everything whose text the object carries
 */
export function characterSetFor(values: unknown): { SpecificCharacterSet?: string } {
  return /[^\x20-\x7e]/.test(JSON.stringify(values)) ? { SpecificCharacterSet: 'ISO_IR 192' } : {};
}
