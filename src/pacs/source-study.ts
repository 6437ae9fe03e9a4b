/**
 * What an SR or SC needs of the analysed film to join its study: the Patient and General Study modules and the
 * film's SOP Class, SOP Instance and Series UIDs, read from the film's bytes.
 *
 * Why: a result written back to a PACS goes into the SAME study as the film (same StudyInstanceUID, patient and
 * study attributes copied; PS3.3 C.7.1.1, C.7.2.1) and references the film as its source (PS3.3 C.17.2.1 Current
 * Requested Procedure Evidence, C.7.6.1.1.4 Source Image Sequence). Parsing is the project's one DICOM parser
 * (src/radiograph), with its bounds on hostile input.
 */
import type { DataSet } from 'dicom-parser';
import { parseDicomDataSet } from '../radiograph/index.js';
import { PacsObjectError } from './errors.js';

/** The analysed film's identity and study, as the result objects copy and reference them. */
export interface SourceStudy {
  readonly specificCharacterSet: string | null;
  readonly patientName: string | null;
  readonly patientId: string | null;
  readonly issuerOfPatientId: string | null;
  readonly patientBirthDate: string | null;
  readonly patientSex: string | null;
  readonly studyInstanceUid: string;
  readonly studyDate: string | null;
  readonly studyTime: string | null;
  readonly referringPhysicianName: string | null;
  readonly studyId: string | null;
  readonly accessionNumber: string | null;
  readonly studyDescription: string | null;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string | null;
  /** PatientOrientation (PS3.3 C.7.6.1.1.1) of the film: row and column directions. */
  readonly patientOrientation: readonly string[] | null;
  /** The film's side, `L` or `R` (ImageLaterality, else the series' Laterality; PS3.3 C.7.6.1.1.5); null otherwise. */
  readonly laterality: 'L' | 'R' | null;
}

/** Text decoders for the character sets a film may declare (PS3.3 C.12.1.1.2); Latin-1 otherwise. */
const CHARSETS: Readonly<Record<string, string>> = {
  'ISO_IR 192': 'utf-8',
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/**
 * A reader of text values of a data set (or a sequence item's data set) in the character set the object declares.
 * @param ds - the data set
 * @param charset - the top-level SpecificCharacterSet (items inherit it, PS3.5 7.5.3)
 */
export function dicomText(ds: DataSet, charset: string | null): (tag: string, index?: number) => string | null {
  const label = CHARSETS[(charset ?? '').split('\\').filter((s) => s.length > 0).pop() ?? ''] ?? 'latin1';
  const decoder = new TextDecoder(label);
  return (tag, index = 0) => {
    const el = ds.elements[tag];
    if (el === undefined || el.length <= 0) return null;
    const text = decoder.decode(ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length));
    const value = (text.split('\\')[index] ?? '').replace(/[\0 ]+$/, '').replace(/^ +/, '');
    return value.length > 0 ? value : null;
  };
}

/**
 * Read the source film's study and identity from its bytes.
 * @param bytes - the film's DICOM Part 10 bytes
 * @param file - its name, for messages
 * @throws PacsObjectError when StudyInstanceUID, SeriesInstanceUID, SOPClassUID or SOPInstanceUID is missing (a result
 *   cannot join or reference a film without them)
 */
export function sourceStudyOf(bytes: Uint8Array, file = 'source film'): SourceStudy {
  const ds = parseDicomDataSet(bytes, file);
  const charset = ds.string('x00080005') ?? null;
  const text = dicomText(ds, charset);
  const need = (tag: string, name: string): string => {
    const v = text(tag);
    if (v === null) throw new PacsObjectError(file, `has no ${name} (${tag.slice(1, 5)},${tag.slice(5)}): a result cannot join its study`);
    return v;
  };
  const orientation = [text('x00200020', 0), text('x00200020', 1)];
  const side = text('x00200062') ?? text('x00200060');
  return {
    specificCharacterSet: charset,
    patientName: text('x00100010'),
    patientId: text('x00100020'),
    issuerOfPatientId: text('x00100021'),
    patientBirthDate: text('x00100030'),
    patientSex: text('x00100040'),
    studyInstanceUid: need('x0020000d', 'StudyInstanceUID'),
    studyDate: text('x00080020'),
    studyTime: text('x00080030'),
    referringPhysicianName: text('x00080090'),
    studyId: text('x00200010'),
    accessionNumber: text('x00080050'),
    studyDescription: text('x00081030'),
    sopClassUid: need('x00080016', 'SOPClassUID'),
    sopInstanceUid: need('x00080018', 'SOPInstanceUID'),
    seriesInstanceUid: need('x0020000e', 'SeriesInstanceUID'),
    modality: text('x00080060'),
    patientOrientation: orientation.every((o): o is string => o !== null) ? orientation : null,
    laterality: side === 'L' || side === 'R' ? side : null,
  };
}

/**
 * The Patient (PS3.3 C.7.1.1) and General Study (C.7.2.1) attributes of a result object, copied from its film; type 2
 * attributes the film lacks are written empty.
 * Why: the PACS files the result under the film's patient and study only if these match.
 * @param s - the film's study
 */
export function patientAndStudyOf(s: SourceStudy): Record<string, unknown> {
  const pn = (v: string | null): unknown => (v === null ? '' : [{ Alphabetic: v }]);
  return {
    PatientName: pn(s.patientName),
    PatientID: s.patientId ?? '',
    ...(s.issuerOfPatientId === null ? {} : { IssuerOfPatientID: s.issuerOfPatientId }),
    PatientBirthDate: s.patientBirthDate ?? '',
    PatientSex: s.patientSex ?? '',
    StudyInstanceUID: s.studyInstanceUid,
    StudyDate: s.studyDate ?? '',
    StudyTime: s.studyTime ?? '',
    ReferringPhysicianName: pn(s.referringPhysicianName),
    StudyID: s.studyId ?? '',
    AccessionNumber: s.accessionNumber ?? '',
    ...(s.studyDescription === null ? {} : { StudyDescription: s.studyDescription }),
  };
}
