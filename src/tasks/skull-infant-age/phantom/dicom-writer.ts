/**
 * Write a phantom film as a DICOM Part 10 file: Digital X-Ray Image Storage – For Presentation
 * (1.2.840.10008.5.1.4.1.1.1.1), 16 bits allocated / 12 stored, MONOCHROME2, explicit VR little endian.
 *
 * Why: the infant-age pipeline reads ages from PatientBirthDate and StudyDate and the view from ViewPosition, as
 * it will on real films, so the phantoms carry them where the standard puts them: Patient (PS3.3 C.7.1.1), General
 * Study (C.7.2.1), DX Series (C.8.11.1), DX Image (C.8.11.3), DX Detector (C.8.11.4; ImagerPixelSpacing, and
 * PixelSpacing calibrated for the known magnification, C.8.11.4.1.1 / 10.7.1.3), DX Positioning (C.8.11.5:
 * ViewPosition AP, or LL for left lateral, a defined term of CID 4010 / PS3.3 C.8.11.5.1.1) and VOI LUT (C.11.2).
 * UIDs are `2.25.` + a 128-bit integer (PS3.5 B.2), derived by hash from the cohort seed, so a cohort is
 * reproducible byte for byte. dcmjs is loaded lazily behind a minimal typed interface, as in radiograph/deidentify.
 */
import { createHash } from 'node:crypto';

/** DX Image Storage – For Presentation (PS3.4 B.5). */
export const DX_PRESENTATION_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.1.1';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** This generator's implementation class UID (PS3.7 D.3.3.2), a fixed 2.25 UID. */
const IMPLEMENTATION_CLASS_UID = uidFrom('physis skull phantom generator implementation');

interface DcmElement {
  vr: string;
  Value: unknown[];
}
type DcmDict = Record<string, DcmElement>;
interface DcmDictInstance {
  dict: DcmDict;
  write(): ArrayBuffer;
}
interface DcmjsWriter {
  data: { DicomDict: new (meta: DcmDict) => DcmDictInstance };
}

let dcmjsModule: Promise<DcmjsWriter> | null = null;

/**
 * A `2.25.` UID from the first 128 bits of SHA-256 of a text (PS3.5 B.2: a UUID-derived UID root).
 * @param text - what the UID names, e.g. `seed/patient/visit/view`
 */
export function uidFrom(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  let n = 0n;
  for (const byte of digest.subarray(0, 16)) n = (n << 8n) | BigInt(byte);
  return `2.25.${n.toString()}`;
}

/** One film's attributes. */
export interface PhantomDicomFilm {
  readonly pixels: Uint16Array;
  readonly rows: number;
  readonly columns: number;
  /** Detector (imager) pixel spacing, mm. */
  readonly imagerPixelSpacingMm: number;
  readonly magnification: number;
  readonly view: 'AP' | 'LATERAL';
  readonly patientId: string;
  readonly sex: 'M' | 'F';
  /** `YYYYMMDD`. */
  readonly birthDate: string;
  /** `YYYYMMDD`. */
  readonly studyDate: string;
  /** Recorded age in whole days (StudyDate − PatientBirthDate), written as PatientAge `nnnD`. */
  readonly ageDays: number;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly seriesNumber: number;
  readonly instanceNumber: number;
  /** Text for DerivationDescription, e.g. the generator and version. */
  readonly derivation: string;
}

/** Decimal String value (PS3.5 6.2: at most 16 characters). */
function ds(v: number): string {
  for (let digits = 8; digits >= 1; digits--) {
    const s = String(Number(v.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(v));
}

/** VOI window from the 0.5th and 99.5th percentiles of the stored values. */
function windowOf(pixels: Uint16Array): { center: number; width: number } {
  const hist = new Uint32Array(4096);
  for (const v of pixels) hist[Math.min(4095, v)] = (hist[Math.min(4095, v)] ?? 0) + 1;
  const lo = pixels.length * 0.005;
  const hi = pixels.length * 0.995;
  let acc = 0;
  let p0 = 0;
  let p1 = 4095;
  let seenLo = false;
  for (let v = 0; v < 4096; v++) {
    acc += hist[v] ?? 0;
    if (!seenLo && acc >= lo) {
      p0 = v;
      seenLo = true;
    }
    if (acc >= hi) {
      p1 = v;
      break;
    }
  }
  const width = Math.max(2, p1 - p0);
  return { center: p0 + width / 2, width };
}

/**
 * Encode one film as DICOM Part 10 bytes.
 * @param film - pixels and attributes
 */
export async function encodePhantomDicom(film: PhantomDicomFilm): Promise<Uint8Array> {
  const specifier = 'dcmjs';
  dcmjsModule ??= (import(specifier) as Promise<{ default: DcmjsWriter }>).then((m) => m.default);
  const dcmjs = await dcmjsModule;
  const el = (vr: string, ...values: unknown[]): DcmElement => ({ vr, Value: values });
  const version = new Uint8Array([0, 1]);
  const meta: DcmDict = {
    '00020001': el('OB', version.buffer),
    '00020002': el('UI', DX_PRESENTATION_SOP_CLASS_UID),
    '00020003': el('UI', film.sopInstanceUid),
    '00020010': el('UI', EXPLICIT_VR_LITTLE_ENDIAN),
    '00020012': el('UI', IMPLEMENTATION_CLASS_UID),
    '00020013': el('SH', 'PHYSIS_PHANTOM'),
  };
  const win = windowOf(film.pixels);
  const patientSpacing = film.imagerPixelSpacingMm / film.magnification;
  const lateral = film.view === 'LATERAL';
  const pixelBytes = new Uint8Array(film.pixels.byteLength);
  pixelBytes.set(new Uint8Array(film.pixels.buffer, film.pixels.byteOffset, film.pixels.byteLength));
  const dataset: DcmDict = {
    '00080005': el('CS', 'ISO_IR 100'),
    '00080008': el('CS', 'DERIVED', 'PRIMARY'),
    '00080016': el('UI', DX_PRESENTATION_SOP_CLASS_UID),
    '00080018': el('UI', film.sopInstanceUid),
    '00080020': el('DA', film.studyDate),
    '00080023': el('DA', film.studyDate),
    '00080030': el('TM', '090000'),
    '00080033': el('TM', '090000'),
    '00080050': el('SH'),
    '00080060': el('CS', 'DX'),
    '00080068': el('CS', 'FOR PRESENTATION'),
    '00080070': el('LO', 'Physis'),
    '00080090': el('PN'),
    '00081090': el('LO', 'procedural skull phantom'),
    '00082111': el('ST', film.derivation),
    '00082218': el('SQ', {
      '00080100': el('SH', '89546000'),
      '00080102': el('SH', 'SCT'),
      '00080104': el('LO', 'Bone structure of cranium'),
    }),
    '00100010': el('PN', { Alphabetic: `PHANTOM^${film.patientId}` }),
    '00100020': el('LO', film.patientId),
    '00100030': el('DA', film.birthDate),
    '00100040': el('CS', film.sex),
    '00101010': el('AS', `${String(Math.min(999, film.ageDays)).padStart(3, '0')}D`),
    '00180015': el('CS', 'SKULL'),
    '00181114': el('DS', ds(film.magnification)),
    '00181164': el('DS', ds(film.imagerPixelSpacingMm), ds(film.imagerPixelSpacingMm)),
    '00185101': el('CS', lateral ? 'LL' : 'AP'),
    '00187004': el('CS', 'SCINTILLATOR'),
    '0020000D': el('UI', film.studyInstanceUid),
    '0020000E': el('UI', film.seriesInstanceUid),
    '00200010': el('SH', '1'),
    '00200011': el('IS', String(film.seriesNumber)),
    '00200013': el('IS', String(film.instanceNumber)),
    // rows run towards the patient's left (AP, facing the patient) or posterior (left lateral); columns to the feet
    '00200020': el('CS', lateral ? 'P' : 'L', 'F'),
    '00200062': el('CS', 'U'),
    '00280002': el('US', 1),
    '00280004': el('CS', 'MONOCHROME2'),
    '00280010': el('US', film.rows),
    '00280011': el('US', film.columns),
    '00280030': el('DS', ds(patientSpacing), ds(patientSpacing)),
    '00280100': el('US', 16),
    '00280101': el('US', 12),
    '00280102': el('US', 11),
    '00280103': el('US', 0),
    '00280301': el('CS', 'NO'),
    '00280A02': el('CS', 'GEOMETRY'),
    '00280A04': el('LO', 'magnification at the head centre'),
    '00281040': el('CS', 'LOG'),
    '00281041': el('SS', 1),
    '00281050': el('DS', ds(win.center)),
    '00281051': el('DS', ds(win.width)),
    '00281052': el('DS', '0'),
    '00281053': el('DS', '1'),
    '00281054': el('LO', 'US'),
    '00282110': el('CS', '00'),
    '00400555': el('SQ'),
    '20500020': el('CS', 'IDENTITY'),
    '7FE00010': el('OW', pixelBytes.buffer),
  };
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dataset;
  return new Uint8Array(dict.write());
}
