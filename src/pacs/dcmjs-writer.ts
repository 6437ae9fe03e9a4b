/**
 * The one adapter over dcmjs for the objects Physis writes back to a PACS: a naturalized data set (DICOM keywords,
 * sequences as arrays of objects) → Part 10 bytes, explicit VR little endian, with the File Meta Information.
 *
 * Why: no hand-rolled DICOM writer; dcmjs knows each keyword's tag and VR (PS3.6) and encodes sequences and
 * strings (PS3.5 7, 6.2). It is loaded lazily on first use, as the style asks of heavy dependencies.
 */
import { uidFrom } from '../radiograph/index.js';

/** A naturalized data set: DICOM keywords to values (strings, numbers, arrays, nested data sets). */
export type NaturalDataset = { readonly [keyword: string]: unknown };

interface DcmjsData {
  DicomMetaDictionary: { denaturalizeDataset(ds: NaturalDataset): Record<string, unknown> };
  DicomDict: new (meta: Record<string, unknown>) => { dict: Record<string, unknown>; write(): ArrayBuffer };
}

let dcmjsData: Promise<DcmjsData> | null = null;

/** Explicit VR Little Endian (PS3.5 A.2). */
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** Physis' ImplementationClassUID for the objects it writes back (PS3.7 D.3.3.2). */
export const PHYSIS_PACS_IMPLEMENTATION_UID = uidFrom('physis/pacs/implementation');

/**
 * Encode a data set as a DICOM Part 10 file (PS3.10 7.1), explicit VR little endian.
 * @param dataset - naturalized; must carry SOPClassUID and SOPInstanceUID
 */
export async function writePart10(dataset: NaturalDataset): Promise<Uint8Array> {
  const specifier = 'dcmjs';
  dcmjsData ??= (import(specifier) as Promise<{ default: { data: DcmjsData } }>).then((m) => m.default.data);
  const { DicomMetaDictionary, DicomDict } = await dcmjsData;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset['SOPClassUID'],
    MediaStorageSOPInstanceUID: dataset['SOPInstanceUID'],
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: PHYSIS_PACS_IMPLEMENTATION_UID,
    ImplementationVersionName: 'PHYSIS',
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
