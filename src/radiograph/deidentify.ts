/**
 * De-identification of DICOM files Physis writes or stores: the PS3.15 Annex E Basic Application
 * Confidentiality Profile (Table E.1-1 actions D/Z/X/U for the identifying attributes, all private tags removed),
 * by default with the Retain Patient Characteristics Option (sex, age, size, weight: the bone-age and infant-age
 * tasks need them), consistent UID remapping, and the De-identification Method Code Sequence recorded
 * (PS3.3 C.7.1.1, codes from PS3.16 CID 7050). Reading and writing go through dcmjs, loaded lazily.
 */
import { createHmac } from 'node:crypto';
import { MalformedDicomError } from './errors.js';
import { ageMonthsBetween, parseDicomDate } from './metadata.js';

/** Table E.1-1 basic-profile actions: Z zero-length, X remove, U replace UID (D is applied as Z for non-PN text). */
type Action = 'Z' | 'X' | 'U';

/** Attributes with their Basic Profile action (PS3.15 Table E.1-1), by tag `GGGGEEEE`. */
export const BASIC_PROFILE: ReadonlyMap<string, Action> = new Map<string, Action>([
  ['00020003', 'U'], // MediaStorageSOPInstanceUID
  ['00080014', 'U'], // InstanceCreatorUID
  ['00080018', 'U'], // SOPInstanceUID
  ['00080020', 'Z'], // StudyDate
  ['00080021', 'X'], // SeriesDate
  ['00080022', 'X'], // AcquisitionDate
  ['00080023', 'Z'], // ContentDate
  ['0008002A', 'X'], // AcquisitionDateTime
  ['00080030', 'Z'], // StudyTime
  ['00080031', 'X'], // SeriesTime
  ['00080032', 'X'], // AcquisitionTime
  ['00080033', 'Z'], // ContentTime
  ['00080050', 'Z'], // AccessionNumber
  ['00080080', 'X'], // InstitutionName
  ['00080081', 'X'], // InstitutionAddress
  ['00080090', 'Z'], // ReferringPhysicianName
  ['00080092', 'X'], // ReferringPhysicianAddress
  ['00080094', 'X'], // ReferringPhysicianTelephoneNumbers
  ['00080096', 'X'], // ReferringPhysicianIdentificationSequence
  ['00081010', 'X'], // StationName
  ['00081030', 'X'], // StudyDescription
  ['0008103E', 'X'], // SeriesDescription
  ['00081040', 'X'], // InstitutionalDepartmentName
  ['00081048', 'X'], // PhysiciansOfRecord
  ['00081050', 'X'], // PerformingPhysicianName
  ['00081060', 'X'], // NameOfPhysiciansReadingStudy
  ['00081070', 'X'], // OperatorsName
  ['00081080', 'X'], // AdmittingDiagnosesDescription
  ['00081110', 'X'], // ReferencedStudySequence
  ['00081111', 'X'], // ReferencedPerformedProcedureStepSequence
  ['00081120', 'X'], // ReferencedPatientSequence
  ['00081140', 'X'], // ReferencedImageSequence
  ['00081155', 'U'], // ReferencedSOPInstanceUID
  ['00082111', 'X'], // DerivationDescription
  ['00100010', 'Z'], // PatientName
  ['00100020', 'Z'], // PatientID
  ['00100021', 'X'], // IssuerOfPatientID
  ['00100030', 'Z'], // PatientBirthDate
  ['00100032', 'X'], // PatientBirthTime
  ['00100040', 'Z'], // PatientSex (kept with the Retain Patient Characteristics Option)
  ['00101000', 'X'], // OtherPatientIDs
  ['00101001', 'X'], // OtherPatientNames
  ['00101002', 'X'], // OtherPatientIDsSequence
  ['00101005', 'X'], // PatientBirthName
  ['00101010', 'X'], // PatientAge (kept with the option)
  ['00101020', 'X'], // PatientSize (kept with the option)
  ['00101030', 'X'], // PatientWeight (kept with the option)
  ['00101040', 'X'], // PatientAddress
  ['00101060', 'X'], // PatientMotherBirthName
  ['00101090', 'X'], // MedicalRecordLocator
  ['00102154', 'X'], // PatientTelephoneNumbers
  ['00102160', 'X'], // EthnicGroup
  ['00102180', 'X'], // Occupation
  ['001021B0', 'X'], // AdditionalPatientHistory
  ['00104000', 'X'], // PatientComments
  ['00181000', 'X'], // DeviceSerialNumber
  ['00181004', 'X'], // PlateID
  ['00181007', 'X'], // CassetteID
  ['00181030', 'X'], // ProtocolName
  ['0018700A', 'X'], // DetectorID
  ['0020000D', 'U'], // StudyInstanceUID
  ['0020000E', 'U'], // SeriesInstanceUID
  ['00200010', 'Z'], // StudyID
  ['00200052', 'U'], // FrameOfReferenceUID
  ['00200200', 'U'], // SynchronizationFrameOfReferenceUID
  ['00204000', 'X'], // ImageComments
  ['00321032', 'X'], // RequestingPhysician
  ['00321060', 'X'], // RequestedProcedureDescription
  ['00380010', 'X'], // AdmissionID
  ['00400244', 'X'], // PerformedProcedureStepStartDate
  ['00400245', 'X'], // PerformedProcedureStepStartTime
  ['00400253', 'X'], // PerformedProcedureStepID
  ['00400254', 'X'], // PerformedProcedureStepDescription
  ['00400275', 'X'], // RequestAttributesSequence
  ['0040A124', 'U'], // UID
  ['0040A730', 'X'], // ContentSequence
  ['00880140', 'U'], // StorageMediaFileSetUID
  ['30060024', 'U'], // ReferencedFrameOfReferenceUID
]);

/** Attributes the Retain Patient Characteristics Option (113108) keeps. */
const PATIENT_CHARACTERISTICS = new Set(['00100040', '00101010', '00101020', '00101030']);
/** UIDs that name standard things, not instances: never remapped. */
const STANDARD_UID_TAGS = new Set(['00020002', '00020010', '00020012', '00080016', '00081150']);

/** Options for `deidentifyDicom`. */
export interface DeidentifyOptions {
  /** Secret key for UID remapping: the same key maps the same UID to the same new UID (consistent across files). */
  readonly uidKey: string;
  /** Keep PatientSex/Age/Size/Weight (PS3.15 E.3.6, code 113108). Default true. */
  readonly retainPatientCharacteristics?: boolean;
}

/** A remapped UID: `2.25.` + the first 128 bits of HMAC-SHA-256(key, uid) as a decimal (PS3.5 B.2). */
export function remapUid(uid: string, key: string): string {
  const digest = createHmac('sha256', key).update(uid.replace(/\0/g, '').trim()).digest();
  let n = 0n;
  for (const byte of digest.subarray(0, 16)) n = (n << 8n) | BigInt(byte);
  return `2.25.${n.toString()}`;
}

interface DcmElement {
  vr: string;
  Value?: unknown[];
  _rawValue?: unknown;
}
type DcmDict = Record<string, DcmElement>;
interface DcmFile {
  meta: DcmDict;
  dict: DcmDict;
  write(): ArrayBuffer;
}
interface Dcmjs {
  data: { DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DcmFile } };
}

let dcmjsModule: Promise<Dcmjs> | null = null;

function setValue(el: DcmElement, value: unknown[]): void {
  el.Value = value;
  delete el._rawValue;
}

function clean(dict: DcmDict, options: DeidentifyOptions, depth: number): void {
  const retain = options.retainPatientCharacteristics !== false;
  for (const tag of Object.keys(dict)) {
    const el = dict[tag];
    if (!el) continue;
    const group = parseInt(tag.slice(0, 4), 16);
    // Private attributes (odd groups) are removed by the basic profile; curves (50xx) and overlay comments too.
    if (
      group % 2 === 1 ||
      (group >= 0x5000 && group <= 0x50ff) ||
      (group >= 0x6000 && group <= 0x60ff && tag.endsWith('4000'))
    ) {
      delete dict[tag];
      continue;
    }
    const action = retain && PATIENT_CHARACTERISTICS.has(tag) ? undefined : BASIC_PROFILE.get(tag);
    if (action === 'X') {
      delete dict[tag];
    } else if (action === 'Z') {
      setValue(el, []);
    } else if (el.vr === 'UI' && !STANDARD_UID_TAGS.has(tag)) {
      // Every instance UID (listed as U or not) is remapped consistently, so references stay intact.
      const values = (el.Value ?? []).map((v) => {
        const s = String(v);
        return s.startsWith('1.2.840.10008.') ? s : remapUid(s, options.uidKey);
      });
      setValue(el, values);
    } else if (el.vr === 'SQ' && depth < 64) {
      for (const item of (el.Value ?? []) as DcmDict[]) clean(item, options, depth + 1);
    }
  }
}

/**
 * De-identify a DICOM Part 10 file (PS3.15 Annex E basic profile, Retain Patient Characteristics by default).
 * PatientAge is filled in from the birth and study dates before they are removed, so the age tasks keep it.
 * @param bytes - the file
 * @param file - name for errors
 * @param options - the UID key and options
 */
export async function deidentifyDicom(
  bytes: Uint8Array,
  file: string,
  options: DeidentifyOptions,
): Promise<Uint8Array> {
  if (options.uidKey.length < 16)
    throw new MalformedDicomError(
      file,
      'uidKey must be at least 16 characters (it protects the UID mapping)',
    );
  const specifier = 'dcmjs';
  dcmjsModule ??= (import(specifier) as Promise<{ default: Dcmjs }>).then((m) => m.default);
  const dcmjs = await dcmjsModule;
  let parsed: DcmFile;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(bytes.slice().buffer, { ignoreErrors: true });
  } catch (e) {
    throw new MalformedDicomError(
      file,
      `cannot parse for de-identification: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const { dict, meta } = parsed;
  const retain = options.retainPatientCharacteristics !== false;
  if (retain && !dict['00101010']) {
    const birth = parseDicomDate(String(dict['00100030']?.Value?.[0] ?? ''));
    const study = parseDicomDate(String(dict['00080020']?.Value?.[0] ?? ''));
    const months = birth && study ? ageMonthsBetween(birth, study) : null;
    if (months !== null) {
      // AS: nnnM below 2 years, nnnY above (PS3.5 6.2), the granularity radiology reports use.
      const value =
        months < 24
          ? `${String(Math.floor(months)).padStart(3, '0')}M`
          : `${String(Math.floor(months / 12)).padStart(3, '0')}Y`;
      dict['00101010'] = { vr: 'AS', Value: [value] };
    }
  }
  clean(dict, options, 0);
  clean(meta, options, 0);
  const codes = [{ value: '113100', meaning: 'Basic Application Confidentiality Profile' }];
  if (retain) codes.push({ value: '113108', meaning: 'Retain Patient Characteristics Option' });
  dict['00120062'] = { vr: 'CS', Value: ['YES'] };
  dict['00120063'] = {
    vr: 'LO',
    Value: [`Physis: PS3.15 E.1 basic profile${retain ? ', retain patient characteristics' : ''}`],
  };
  dict['00120064'] = {
    vr: 'SQ',
    Value: codes.map((c) => ({
      '00080100': { vr: 'SH', Value: [c.value] },
      '00080102': { vr: 'SH', Value: ['DCM'] },
      '00080104': { vr: 'LO', Value: [c.meaning] },
    })),
  };
  try {
    return new Uint8Array(parsed.write());
  } catch (e) {
    throw new MalformedDicomError(
      file,
      `cannot write the de-identified file: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
