/**
 * Typed clinical metadata from a DICOM data set (PS3.3 modules: Patient C.7.1.1, General Study C.7.2.1,
 * General Series C.7.3.1, DX Image C.8.11, Image Plane C.7.6.2), plus the date and age arithmetic.
 */
import type { DataSet } from 'dicom-parser';
import { TextDecoder } from 'node:util';
import type { ChronologicalAge, Laterality, PatientSex, PixelSpacing, RadiographMetadata } from './types.js';
import { CONTROL_CHARACTERS } from './escape-for-terminal.js';

/** Days per month on average (Gregorian year 365.2425 d / 12), the convention for ages in months. */
export const DAYS_PER_MONTH = 365.2425 / 12;

/** Metadata with every field null, for images that carry none. */
export const EMPTY_METADATA: RadiographMetadata = {
  modality: null,
  bodyPartExamined: null,
  viewPosition: null,
  laterality: null,
  lateralitySource: null,
  patientSex: null,
  patientBirthDate: null,
  studyDate: null,
  patientAge: null,
  age: null,
  spacing: null,
  manufacturer: null,
  sopClassUid: null,
  sopInstanceUid: null,
  seriesInstanceUid: null,
  studyInstanceUid: null,
};

/** Specific Character Set (0008,0005) defined terms -> WHATWG encoding labels (PS3.3 C.12.1.1.2). */
const CHARSETS: Readonly<Record<string, string>> = {
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/**
 * Parse a DICOM DA value (`YYYYMMDD`, or the ACR-NEMA `YYYY.MM.DD`) to an ISO date, or null when it is not a
 * real calendar date.
 * @param value - the DA string
 */
export function parseDicomDate(value: string | null | undefined): string | null {
  if (!value) return null;
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/**
 * Chronological age in months between two ISO dates: whole days / (365.2425 / 12). Null when negative.
 * @param birthIso - PatientBirthDate as ISO
 * @param studyIso - StudyDate as ISO
 */
export function ageMonthsBetween(birthIso: string, studyIso: string): number | null {
  const days = (Date.parse(`${studyIso}T00:00:00Z`) - Date.parse(`${birthIso}T00:00:00Z`)) / 86_400_000;
  if (!Number.isFinite(days) || days < 0) return null;
  return days / DAYS_PER_MONTH;
}

/**
 * Parse an Age String (AS, PS3.5 6.2: `nnnD`, `nnnW`, `nnnM`, `nnnY`) to months.
 * @param value - e.g. `010Y`, `018M`
 */
export function parseAgeString(value: string | null | undefined): number | null {
  if (!value) return null;
  const m = /^(\d{1,3})\s*([DWMY])$/i.exec(value.trim());
  if (!m) return null;
  const n = Number(m[1]);
  switch ((m[2] ?? '').toUpperCase()) {
    case 'D':
      return n / DAYS_PER_MONTH;
    case 'W':
      return (n * 7) / DAYS_PER_MONTH;
    case 'M':
      return n;
    default:
      return n * 12;
  }
}

/** One TextDecoder per encoding label, created on first use (construction is not free with full ICU). */
const DECODERS = new Map<string, TextDecoder>();
const LATIN1 = new TextDecoder('latin1');

/** Printable text: C0/C1 control characters (terminal escapes) dropped, trailing blanks/NULs trimmed (PS3.5 6.2 padding). */
function clean(value: string): string {
  return value.replace(CONTROL_CHARACTERS, '').trim();
}

/** A reader for string attributes of one data set that honours its Specific Character Set. */
export class DicomStrings {
  private readonly decoder: TextDecoder;
  constructor(private readonly ds: DataSet) {
    const charset = (ds.string('x00080005') ?? '').split('\\').filter((s) => s.length > 0);
    // With code extensions (ISO 2022) the last named set is the one used for non-ASCII text in practice.
    const label = CHARSETS[charset[charset.length - 1] ?? ''] ?? 'latin1';
    let decoder = DECODERS.get(label);
    if (!decoder) {
      try {
        decoder = new TextDecoder(label);
      } catch {
        decoder = new TextDecoder('latin1');
      }
      DECODERS.set(label, decoder);
    }
    this.decoder = decoder;
  }

  /** Value `index` of a string attribute (backslash-separated), cleaned; null if absent or empty. */
  get(tag: string, index = 0): string | null {
    const el = this.ds.elements[tag];
    if (!el || el.length <= 0) return null;
    const bytes = this.ds.byteArray;
    if (el.dataOffset + el.length > bytes.length) return null;
    const text = this.decoder.decode(bytes.subarray(el.dataOffset, el.dataOffset + el.length));
    const value = clean(text.split('\\')[index] ?? '');
    return value.length > 0 ? value : null;
  }

  /** All numeric values of a DS/IS attribute; invalid entries are dropped. */
  numbers(tag: string): number[] {
    const el = this.ds.elements[tag];
    if (!el || el.length <= 0) return [];
    const bytes = this.ds.byteArray;
    if (el.dataOffset + el.length > bytes.length) return [];
    const text = LATIN1.decode(bytes.subarray(el.dataOffset, el.dataOffset + el.length));
    return text
      .split('\\')
      .map((s) => clean(s))
      .filter((s) => s.length > 0)
      .map(Number)
      .filter((n) => Number.isFinite(n));
  }
}

function spacingFrom(
  strings: DicomStrings,
  tag: string,
  source: PixelSpacing['source'],
): PixelSpacing | null {
  const v = strings.numbers(tag);
  const [row, col] = v;
  if (v.length !== 2 || row === undefined || col === undefined || !(row > 0) || !(col > 0)) return null;
  return { rowMm: row, columnMm: col, source };
}

function asLaterality(value: string | null): Laterality | null {
  const v = value?.toUpperCase();
  return v === 'L' || v === 'R' || v === 'U' || v === 'B' ? v : null;
}

function asSex(value: string | null): PatientSex | null {
  const v = value?.toUpperCase();
  return v === 'M' || v === 'F' || v === 'O' ? v : null;
}

/**
 * Read the metadata Physis's tasks need from a parsed data set; disagreements go to `warnings`.
 * Spacing prefers PixelSpacing (calibrated to the patient) and falls back to ImagerPixelSpacing *with that source
 * named*, never relabelled (PS3.3 10.7.1.3).
 * @param ds - a dicom-parser data set
 * @param warnings - collects human-readable notes
 */
export function readDicomMetadata(ds: DataSet, warnings: string[]): RadiographMetadata {
  const s = new DicomStrings(ds);
  const imageLaterality = asLaterality(s.get('x00200062'));
  const seriesLaterality = asLaterality(s.get('x00200060'));
  const patientBirthDate = parseDicomDate(s.get('x00100030'));
  const studyDate = parseDicomDate(s.get('x00080020')) ?? parseDicomDate(s.get('x00080022'));
  const patientAge = s.get('x00101010');
  let age: ChronologicalAge | null = null;
  const fromDates = patientBirthDate && studyDate ? ageMonthsBetween(patientBirthDate, studyDate) : null;
  const fromAgeString = parseAgeString(patientAge);
  if (fromDates !== null && fromDates < 150 * 12) {
    age = { ageMonths: fromDates, source: 'dates' };
    if (fromAgeString !== null && Math.abs(fromAgeString - fromDates) > 12) {
      warnings.push(
        `PatientAge ${patientAge} disagrees with StudyDate − PatientBirthDate (${fromDates.toFixed(1)} months)`,
      );
    }
  } else if (fromAgeString !== null) {
    age = { ageMonths: fromAgeString, source: 'PatientAge' };
  }
  if (patientBirthDate && studyDate && fromDates === null) warnings.push(`StudyDate ${studyDate} is before PatientBirthDate ${patientBirthDate}: an implausible age, not used`);
  // an age outside a human lifespan (PatientAge 999Y) is a header error: not used
  if (age !== null && (age.ageMonths < 0 || age.ageMonths > 130 * 12)) {
    warnings.push(`age ${patientAge ?? `${age.ageMonths.toFixed(0)} months`} is implausible; not used`);
    age = null;
  }
  const pixelSpacing = spacingFrom(s, 'x00280030', 'PixelSpacing');
  const imagerSpacing = spacingFrom(s, 'x00181164', 'ImagerPixelSpacing');
  if (!pixelSpacing && imagerSpacing) {
    warnings.push('spacing is ImagerPixelSpacing (at the detector, not corrected for magnification)');
  }
  return {
    modality: s.get('x00080060'),
    bodyPartExamined: s.get('x00180015'),
    viewPosition: s.get('x00185101'),
    laterality: imageLaterality ?? seriesLaterality,
    lateralitySource: imageLaterality ? 'ImageLaterality' : seriesLaterality ? 'Laterality' : null,
    patientSex: asSex(s.get('x00100040')),
    patientBirthDate,
    studyDate,
    patientAge,
    age,
    spacing: pixelSpacing ?? imagerSpacing,
    manufacturer: s.get('x00080070'),
    sopClassUid: s.get('x00080016'),
    sopInstanceUid: s.get('x00080018'),
    seriesInstanceUid: s.get('x0020000e'),
    studyInstanceUid: s.get('x0020000d'),
  };
}
