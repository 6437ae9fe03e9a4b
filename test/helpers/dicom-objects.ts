/**
 * Code-made DICOM objects for the PACS tests: tiny DX films from the radiograph phantom writer, and a tiny
 * Secondary Capture in a given study written with dcmjs (what the watcher's fake analysis stores back).
 */
import { encodePhantomDx, uidFrom, type PhantomDxFilm } from '../../src/radiograph/index.js';

/**
 * What every code-made test hand shares: a left-hand PA DX film of one instance, marked as a phantom. Callers add the
 * pixels, the patient, the dates, the UIDs and their own names.
 */
export const LEFT_HAND_PA_DX: Pick<
  PhantomDxFilm,
  | 'imagerPixelSpacingMm'
  | 'magnification'
  | 'seriesNumber'
  | 'instanceNumber'
  | 'bodyPartExamined'
  | 'anatomicRegion'
  | 'viewPosition'
  | 'patientOrientation'
  | 'imageLaterality'
  | 'calibrationDescription'
  | 'imageComments'
> = {
  imagerPixelSpacingMm: 0.2,
  magnification: 1.1,
  seriesNumber: 1,
  instanceNumber: 1,
  bodyPartExamined: 'HAND',
  anatomicRegion: { codeValue: '85562004', codingSchemeDesignator: 'SCT', codeMeaning: 'Hand' },
  viewPosition: 'PA',
  patientOrientation: ['R', 'F'],
  imageLaterality: 'L',
  calibrationDescription: 'test',
  imageComments: 'SIMULATED PHANTOM',
};

/** What varies between test films. */
export interface TestFilm {
  /** Seeds every UID: the same key gives the same film, byte for byte. */
  readonly key: string;
  readonly bodyPartExamined: string;
  /** `YYYYMMDD`. */
  readonly studyDate: string;
  /** Put the film into this study (default: a study of its own, from the key). */
  readonly studyInstanceUid?: string;
  /** Seeds PatientID (default: the key); films of one study need one patient, or a PACS splits the study. */
  readonly patientKey?: string;
  readonly instanceNumber?: number;
}

/**
 * A 32×32 DX film (DX For Presentation, explicit VR little endian) with a ramp for pixels.
 * @param film - key, body part, date and study
 */
export async function phantomDxFilm(film: TestFilm): Promise<{ bytes: Uint8Array; patientId: string; studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }> {
  const rows = 32;
  const columns = 32;
  const pixels = new Uint16Array(rows * columns);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7) % 4096;
  const studyInstanceUid = film.studyInstanceUid ?? uidFrom(`physis-pacs-test/${film.key}/study`);
  const seriesInstanceUid = uidFrom(`physis-pacs-test/${film.key}/series`);
  const sopInstanceUid = uidFrom(`physis-pacs-test/${film.key}/sop`);
  const bytes = await encodePhantomDx({
    ...LEFT_HAND_PA_DX,
    pixels,
    rows,
    columns,
    patientId: `TEST-${film.patientKey ?? film.key}`,
    sex: 'F',
    birthDate: '20150101',
    studyDate: film.studyDate,
    ageDays: 3000,
    studyInstanceUid,
    seriesInstanceUid,
    sopInstanceUid,
    instanceNumber: film.instanceNumber ?? 1,
    derivation: 'physis pacs test film',
    bodyPartExamined: film.bodyPartExamined,
    modelName: 'physis-pacs-test',
    implementationClassUid: '2.25.1',
  });
  return { bytes, patientId: `TEST-${film.patientKey ?? film.key}`, studyInstanceUid, seriesInstanceUid, sopInstanceUid };
}

interface DcmElement {
  vr: string;
  Value: unknown[];
}
type DcmDict = Record<string, DcmElement>;
interface Dcmjs {
  data: { DicomDict: new (meta: DcmDict) => { dict: DcmDict; write(): ArrayBuffer } };
}

/** Secondary Capture Image Storage (PS3.4 B.5). */
export const SECONDARY_CAPTURE_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.7';

/**
 * An 8×8 MONOCHROME2 Secondary Capture (modality OT) in the given study, a new series, written with dcmjs.
 * @param study - the study it belongs to and that study's PatientID (a PACS files a study under its patient)
 * @param key - seeds its series and SOP instance UIDs
 */
export async function secondaryCaptureIn(study: { studyInstanceUid: string; patientId: string }, key: string): Promise<{ bytes: Uint8Array; sopInstanceUid: string }> {
  const specifier = 'dcmjs';
  const dcmjs = ((await import(specifier)) as { default: Dcmjs }).default;
  const el = (vr: string, ...values: unknown[]): DcmElement => ({ vr, Value: values });
  const sopInstanceUid = uidFrom(`physis-pacs-test/${key}/sc-sop`);
  const meta: DcmDict = {
    '00020001': el('OB', new Uint8Array([0, 1]).buffer),
    '00020002': el('UI', SECONDARY_CAPTURE_SOP_CLASS_UID),
    '00020003': el('UI', sopInstanceUid),
    '00020010': el('UI', '1.2.840.10008.1.2.1'),
    '00020012': el('UI', '2.25.1'),
  };
  const pixels = new Uint8Array(64).map((_, i) => i * 4);
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = {
    '00080016': el('UI', SECONDARY_CAPTURE_SOP_CLASS_UID),
    '00080018': el('UI', sopInstanceUid),
    '00080020': el('DA', '20240101'),
    '00080060': el('CS', 'OT'),
    '00080064': el('CS', 'WSD'),
    '00100010': el('PN', { Alphabetic: 'PHANTOM^RESULT' }),
    '00100020': el('LO', study.patientId),
    '0020000D': el('UI', study.studyInstanceUid),
    '0020000E': el('UI', uidFrom(`physis-pacs-test/${key}/sc-series`)),
    '00200011': el('IS', '900'),
    '00200013': el('IS', '1'),
    '00280002': el('US', 1),
    '00280004': el('CS', 'MONOCHROME2'),
    '00280010': el('US', 8),
    '00280011': el('US', 8),
    '00280100': el('US', 8),
    '00280101': el('US', 8),
    '00280102': el('US', 7),
    '00280103': el('US', 0),
    '7FE00010': el('OB', pixels.buffer),
  };
  return { bytes: new Uint8Array(dict.write()), sopInstanceUid };
}
