/**
 * Write a procedural phantom film as a DICOM Part 10 file: Digital X-Ray Image Storage – For Presentation
 * (1.2.840.10008.5.1.4.1.1.1.1), 16 bits allocated / 12 stored, MONOCHROME2, explicit VR little endian.
 *
 * Why: the task pipelines read ages from PatientBirthDate and StudyDate, the view from ViewPosition and the side
 * from ImageLaterality, as they will on real films, so the phantoms carry them where the standard puts them:
 * Patient (PS3.3 C.7.1.1), General Study (C.7.2.1), DX Series (C.8.11.1), DX Image (C.8.11.3), DX Detector
 * (C.8.11.4; ImagerPixelSpacing, and PixelSpacing calibrated for the known magnification, C.8.11.4.1.1 / 10.7.1.3),
 * DX Positioning (C.8.11.5; ViewPosition from CID 4010), DX Anatomy Imaged (C.8.11.2; ImageLaterality, the
 * anatomic region code) and VOI LUT (C.11.2). Every file says it is simulated: ImageType DERIVED,
 * DerivationDescription and, where given, ImageComments. UIDs are `2.25.` + a 128-bit integer (PS3.5 B.2),
 * derived by hash from the cohort seed, so a cohort is reproducible byte for byte. dcmjs is loaded lazily behind a
 * minimal typed interface, as in radiograph/deidentify. What differs between phantoms (body part, region code,
 * view, orientation) is passed in, never branched on here.
 */
import { createHash } from 'node:crypto';
import { DAYS_PER_MONTH } from '../metadata.js';

/** DX Image Storage – For Presentation (PS3.4 B.5). */
export const DX_PRESENTATION_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.1.1';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

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

/** A coded anatomic region (PS3.3 C.8.11.2.1: AnatomicRegionSequence item; SNOMED CT, PS3.16 CID 4031). */
export interface AnatomicRegionCode {
  readonly codeValue: string;
  readonly codingSchemeDesignator: string;
  readonly codeMeaning: string;
}

/** One phantom film's pixels and attributes. */
export interface PhantomDxFilm {
  /** 12-bit stored values, MONOCHROME2. */
  readonly pixels: Uint16Array;
  readonly rows: number;
  readonly columns: number;
  /** Detector (imager) pixel spacing, mm. */
  readonly imagerPixelSpacingMm: number;
  /** Geometric magnification at the anatomy (PixelSpacing = ImagerPixelSpacing / magnification). */
  readonly magnification: number;
  readonly patientId: string;
  readonly sex: 'M' | 'F';
  /** `YYYYMMDD`. */
  readonly birthDate: string;
  /** `YYYYMMDD`. */
  readonly studyDate: string;
  /** Recorded age in whole days (StudyDate − PatientBirthDate), written as PatientAge (`nnnD`, or `nnnM` from 1000 days). */
  readonly ageDays: number;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly seriesNumber: number;
  readonly instanceNumber: number;
  /** Text for DerivationDescription, e.g. the generator and version. */
  readonly derivation: string;
  /** BodyPartExamined (PS3.16 CID 4031 defined terms), e.g. `SKULL`, `KNEE`. */
  readonly bodyPartExamined: string;
  readonly anatomicRegion: AnatomicRegionCode;
  /** ViewPosition (PS3.3 C.8.11.5.1.1, CID 4010), e.g. `AP`, `LL`. */
  readonly viewPosition: string;
  /** PatientOrientation (PS3.3 C.7.6.1.1.1): the directions of the rows and of the columns. */
  readonly patientOrientation: readonly [string, string];
  /** ImageLaterality (PS3.3 C.8.11.2): `L`, `R`, `B` or `U` (unpaired). */
  readonly imageLaterality: 'L' | 'R' | 'B' | 'U';
  /** ManufacturerModelName: which generator made the film. */
  readonly modelName: string;
  /** PixelSpacingCalibrationDescription: where the magnification was taken. */
  readonly calibrationDescription: string;
  /** ImplementationClassUID of the generator (PS3.7 D.3.3.2). */
  readonly implementationClassUid: string;
  /** ImageComments, e.g. `SIMULATED PHANTOM`; omitted when absent. */
  readonly imageComments?: string;
}

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
 * The attributes of a phantom film that vary film by film (pixels, patient, study, UIDs); each phantom's own writer
 * adds what its body part and view fix (body part, region, view, orientation, laterality, model, calibration).
 */
export type PhantomDxFilmAttributes = Omit<
  PhantomDxFilm,
  | 'bodyPartExamined'
  | 'anatomicRegion'
  | 'viewPosition'
  | 'patientOrientation'
  | 'imageLaterality'
  | 'modelName'
  | 'calibrationDescription'
  | 'implementationClassUid'
  | 'imageComments'
>;

/**
 * PatientAge as an Age String (PS3.5 6.2, AS: `nnnD`, `nnnW`, `nnnM` or `nnnY`): days while they fit in three
 * digits, then months (a 2.7-year-old is `032M`; 999 months is 83 years).
 * @param ageDays - whole days between birth and study
 */
export function ageString(ageDays: number): string {
  const days = Math.max(0, Math.round(ageDays));
  if (days <= 999) return `${String(days).padStart(3, '0')}D`;
  return `${String(Math.min(999, Math.floor(days / DAYS_PER_MONTH))).padStart(3, '0')}M`;
}

/**
 * Encode one phantom film as DICOM Part 10 bytes.
 * @param film - pixels and attributes
 */
export async function encodePhantomDx(film: PhantomDxFilm): Promise<Uint8Array> {
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
    '00020012': el('UI', film.implementationClassUid),
    '00020013': el('SH', 'PHYSIS_PHANTOM'),
  };
  const win = windowOf(film.pixels);
  const patientSpacing = film.imagerPixelSpacingMm / film.magnification;
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
    '00081090': el('LO', film.modelName),
    '00082111': el('ST', film.derivation),
    '00082218': el('SQ', {
      '00080100': el('SH', film.anatomicRegion.codeValue),
      '00080102': el('SH', film.anatomicRegion.codingSchemeDesignator),
      '00080104': el('LO', film.anatomicRegion.codeMeaning),
    }),
    '00100010': el('PN', { Alphabetic: `PHANTOM^${film.patientId}` }),
    '00100020': el('LO', film.patientId),
    '00100030': el('DA', film.birthDate),
    '00100040': el('CS', film.sex),
    '00101010': el('AS', ageString(film.ageDays)),
    '00180015': el('CS', film.bodyPartExamined),
    '00181114': el('DS', ds(film.magnification)),
    '00181164': el('DS', ds(film.imagerPixelSpacingMm), ds(film.imagerPixelSpacingMm)),
    '00185101': el('CS', film.viewPosition),
    '00187004': el('CS', 'SCINTILLATOR'),
    '0020000D': el('UI', film.studyInstanceUid),
    '0020000E': el('UI', film.seriesInstanceUid),
    '00200010': el('SH', '1'),
    '00200011': el('IS', String(film.seriesNumber)),
    '00200013': el('IS', String(film.instanceNumber)),
    '00200020': el('CS', ...film.patientOrientation),
    '00200062': el('CS', film.imageLaterality),
    ...(film.imageComments === undefined ? {} : { '00204000': el('LT', film.imageComments) }),
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
    '00280A04': el('LO', film.calibrationDescription),
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
