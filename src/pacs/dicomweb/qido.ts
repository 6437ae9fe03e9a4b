/**
 * QIDO-RS queries and results (PS3.18 10.6): the filters Physis searches a PACS by, turned into query parameters
 * (8.3.4), and the study, series and instance results (10.6.3.3, the attributes of Tables 10.6.3-3 to 10.6.3-5) read
 * from the DICOM JSON model into typed records.
 *
 * Why typed records: the watcher and the server need a handful of fields (UIDs, dates, modality, body part) and must
 * not fish them out of `Record<string, …>` by tag each time; everything else stays reachable in `dataset`.
 */
import { dicomJsonNumber, dicomJsonString, dicomJsonStrings, type DicomJsonDataset } from './dicom-json.js';
import { DicomJsonError } from './errors.js';

/** Query/retrieve levels of PS3.18 10.6.1 (search resources). */
export type QidoLevel = 'studies' | 'series' | 'instances';

/**
 * A StudyDate window, inclusive, as DICOM range matching has it (PS3.4 C.2.2.2.5.1): either end may be open.
 * Dates are `YYYYMMDD`.
 */
export interface DicomDateRange {
  readonly fromDate?: string;
  readonly toDate?: string;
}

/** What to search for (PS3.18 8.3.4 query parameters); every field optional. */
export interface QidoQuery {
  /** ModalitiesInStudy (0008,0061) at the study level, Modality (0008,0060) at series and instance level, e.g. `DX`. */
  readonly modality?: string;
  /** BodyPartExamined (0018,0015), e.g. `HAND`; a series attribute, so not every PACS matches it at the study level. */
  readonly bodyPartExamined?: string;
  /** StudyDate (0008,0020): one date `YYYYMMDD` or a window. */
  readonly studyDate?: string | DicomDateRange;
  /** Search within one study (the `studies/{uid}/series` and `studies/{uid}/instances` resources). */
  readonly studyInstanceUid?: string;
  /** Search within one series (with studyInstanceUid: `studies/{uid}/series/{uid}/instances`). */
  readonly seriesInstanceUid?: string;
  /** Match one instance. */
  readonly sopInstanceUid?: string;
  /** Other attribute matches, by keyword or tag (`{ AccessionNumber: 'A1*' }`), PS3.18 8.3.4.1. */
  readonly match?: Readonly<Record<string, string>>;
  /** Extra attributes to return (8.3.4.3), by keyword or tag; `'all'` for every available one. */
  readonly includeField?: readonly string[] | 'all';
  /** The most results to return (8.3.4.4). */
  readonly limit?: number;
  /** How many results to skip (8.3.4.4). */
  readonly offset?: number;
  /** Ask for fuzzy matching of person names (8.3.4.2). */
  readonly fuzzyMatching?: boolean;
}

/** A study found by QIDO-RS. */
export interface StudyRecord {
  readonly studyInstanceUid: string;
  /** `YYYYMMDD`. */
  readonly studyDate: string | undefined;
  readonly studyTime: string | undefined;
  readonly accessionNumber: string | undefined;
  readonly studyDescription: string | undefined;
  readonly modalitiesInStudy: readonly string[];
  readonly numberOfStudyRelatedSeries: number | undefined;
  readonly numberOfStudyRelatedInstances: number | undefined;
  readonly retrieveUrl: string | undefined;
  /** Every attribute returned, patient attributes included: never log it. */
  readonly dataset: DicomJsonDataset;
}

/** A series found by QIDO-RS. */
export interface SeriesRecord {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string | undefined;
  readonly seriesNumber: number | undefined;
  readonly seriesDescription: string | undefined;
  readonly bodyPartExamined: string | undefined;
  readonly numberOfSeriesRelatedInstances: number | undefined;
  readonly retrieveUrl: string | undefined;
  /** Every attribute returned, patient attributes included: never log it. */
  readonly dataset: DicomJsonDataset;
}

/** An instance found by QIDO-RS. */
export interface InstanceRecord {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string | undefined;
  readonly instanceNumber: number | undefined;
  readonly modality: string | undefined;
  readonly bodyPartExamined: string | undefined;
  /** `YYYYMMDD`. */
  readonly studyDate: string | undefined;
  readonly rows: number | undefined;
  readonly columns: number | undefined;
  readonly retrieveUrl: string | undefined;
  /** Every attribute returned, patient attributes included: never log it. */
  readonly dataset: DicomJsonDataset;
}

/** Tags read into the records (PS3.6 data dictionary). */
export const TAGS = {
  sopClassUid: '00080016',
  sopInstanceUid: '00080018',
  studyDate: '00080020',
  studyTime: '00080030',
  accessionNumber: '00080050',
  modality: '00080060',
  modalitiesInStudy: '00080061',
  retrieveUrl: '00081190',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  bodyPartExamined: '00180015',
  studyInstanceUid: '0020000D',
  seriesInstanceUid: '0020000E',
  seriesNumber: '00200011',
  instanceNumber: '00200013',
  numberOfStudyRelatedSeries: '00201206',
  numberOfStudyRelatedInstances: '00201208',
  numberOfSeriesRelatedInstances: '00201209',
  rows: '00280010',
  columns: '00280011',
} as const;

/**
 * Attributes the records read that a server need not return by default (PS3.18 Tables 10.6.3-3 to 10.6.3-5 list
 * the defaults): BodyPartExamined is in none of them, StudyDate only at the study level or for a search across studies.
 */
const RECORD_INCLUDES: Record<QidoLevel, readonly string[]> = {
  studies: [],
  series: ['BodyPartExamined'],
  instances: ['BodyPartExamined', 'StudyDate', 'Modality', 'Rows', 'Columns'],
};

const DATE = /^\d{8}$/;

function checkDate(d: string, what: string): string {
  if (!DATE.test(d)) throw new RangeError(`${what} must be YYYYMMDD, got '${d}'`);
  return d;
}

/**
 * The StudyDate match value: one date, or a range `from-to` with either end open (PS3.4 C.2.2.2.5.1).
 * @param date - a `YYYYMMDD` date or a window
 */
export function studyDateMatch(date: string | DicomDateRange): string {
  if (typeof date === 'string') return checkDate(date, 'studyDate');
  const from = date.fromDate === undefined ? '' : checkDate(date.fromDate, 'studyDate.fromDate');
  const to = date.toDate === undefined ? '' : checkDate(date.toDate, 'studyDate.toDate');
  if (from === '' && to === '') throw new RangeError('studyDate window has neither fromDate nor toDate');
  if (from !== '' && to !== '' && from > to) throw new RangeError(`studyDate window ${from}-${to} ends before it starts`);
  return `${from}-${to}`;
}

/**
 * The resource path (relative to the service root) and query parameters of a search (PS3.18 10.6.1, 8.3.4).
 *
 * Why the hierarchical resources for study and series UIDs: every origin server supports them (10.6.1), while a UID
 * as a query key at a lower level is optional matching.
 * @param level - what to search for
 * @param query - the filters
 */
export function qidoRequest(level: QidoLevel, query: QidoQuery = {}): { path: string; params: URLSearchParams } {
  const params = new URLSearchParams();
  let path: string = level;
  const study = query.studyInstanceUid;
  const series = query.seriesInstanceUid;
  if (level === 'series' && study !== undefined) path = `studies/${encodeURIComponent(study)}/series`;
  else if (level === 'instances' && study !== undefined && series !== undefined) {
    path = `studies/${encodeURIComponent(study)}/series/${encodeURIComponent(series)}/instances`;
  } else if (level === 'instances' && study !== undefined) path = `studies/${encodeURIComponent(study)}/instances`;
  else if (study !== undefined) params.set('StudyInstanceUID', study);
  if (series !== undefined && !(level === 'instances' && study !== undefined)) params.set('SeriesInstanceUID', series);
  if (query.sopInstanceUid !== undefined) params.set('SOPInstanceUID', query.sopInstanceUid);
  if (query.modality !== undefined) params.set(level === 'studies' ? 'ModalitiesInStudy' : 'Modality', query.modality);
  if (query.bodyPartExamined !== undefined) params.set('BodyPartExamined', query.bodyPartExamined);
  if (query.studyDate !== undefined) params.set('StudyDate', studyDateMatch(query.studyDate));
  for (const [k, v] of Object.entries(query.match ?? {})) params.set(k, v);
  if (query.includeField === 'all') params.append('includefield', 'all');
  else {
    const fields = new Set([...RECORD_INCLUDES[level], ...(query.includeField ?? [])]);
    for (const f of fields) params.append('includefield', f);
  }
  if (query.fuzzyMatching !== undefined) params.set('fuzzymatching', String(query.fuzzyMatching));
  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError(`limit must be a positive integer, got ${query.limit}`);
    params.set('limit', String(query.limit));
  }
  if (query.offset !== undefined) {
    if (!Number.isInteger(query.offset) || query.offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${query.offset}`);
    params.set('offset', String(query.offset));
  }
  return { path, params };
}

function requiredUid(ds: DicomJsonDataset, tag: string, keyword: string, what: string): string {
  const uid = dicomJsonString(ds, tag);
  if (uid === undefined) throw new DicomJsonError(`${what} without ${keyword} (${tag.slice(0, 4)},${tag.slice(4)})`);
  return uid;
}

/**
 * A study result as a typed record.
 * @param ds - one data set of a QIDO-RS studies answer
 */
export function studyRecord(ds: DicomJsonDataset): StudyRecord {
  return {
    studyInstanceUid: requiredUid(ds, TAGS.studyInstanceUid, 'StudyInstanceUID', 'a QIDO-RS study result'),
    studyDate: dicomJsonString(ds, TAGS.studyDate),
    studyTime: dicomJsonString(ds, TAGS.studyTime),
    accessionNumber: dicomJsonString(ds, TAGS.accessionNumber),
    studyDescription: dicomJsonString(ds, TAGS.studyDescription),
    modalitiesInStudy: dicomJsonStrings(ds, TAGS.modalitiesInStudy),
    numberOfStudyRelatedSeries: dicomJsonNumber(ds, TAGS.numberOfStudyRelatedSeries),
    numberOfStudyRelatedInstances: dicomJsonNumber(ds, TAGS.numberOfStudyRelatedInstances),
    retrieveUrl: dicomJsonString(ds, TAGS.retrieveUrl),
    dataset: ds,
  };
}

/**
 * A series result as a typed record.
 * @param ds - one data set of a QIDO-RS series answer
 * @param studyInstanceUid - the study searched in, for servers that leave it out of results under `studies/{uid}/series`
 */
export function seriesRecord(ds: DicomJsonDataset, studyInstanceUid?: string): SeriesRecord {
  return {
    studyInstanceUid: dicomJsonString(ds, TAGS.studyInstanceUid) ?? studyInstanceUid ?? requiredUid(ds, TAGS.studyInstanceUid, 'StudyInstanceUID', 'a QIDO-RS series result'),
    seriesInstanceUid: requiredUid(ds, TAGS.seriesInstanceUid, 'SeriesInstanceUID', 'a QIDO-RS series result'),
    modality: dicomJsonString(ds, TAGS.modality),
    seriesNumber: dicomJsonNumber(ds, TAGS.seriesNumber),
    seriesDescription: dicomJsonString(ds, TAGS.seriesDescription),
    bodyPartExamined: dicomJsonString(ds, TAGS.bodyPartExamined),
    numberOfSeriesRelatedInstances: dicomJsonNumber(ds, TAGS.numberOfSeriesRelatedInstances),
    retrieveUrl: dicomJsonString(ds, TAGS.retrieveUrl),
    dataset: ds,
  };
}

/**
 * An instance result as a typed record.
 * @param ds - one data set of a QIDO-RS instances answer
 * @param scope - the study and series searched in, for servers that leave them out of results under those resources
 */
export function instanceRecord(ds: DicomJsonDataset, scope: { studyInstanceUid?: string; seriesInstanceUid?: string } = {}): InstanceRecord {
  const what = 'a QIDO-RS instance result';
  return {
    studyInstanceUid: dicomJsonString(ds, TAGS.studyInstanceUid) ?? scope.studyInstanceUid ?? requiredUid(ds, TAGS.studyInstanceUid, 'StudyInstanceUID', what),
    seriesInstanceUid: dicomJsonString(ds, TAGS.seriesInstanceUid) ?? scope.seriesInstanceUid ?? requiredUid(ds, TAGS.seriesInstanceUid, 'SeriesInstanceUID', what),
    sopInstanceUid: requiredUid(ds, TAGS.sopInstanceUid, 'SOPInstanceUID', what),
    sopClassUid: dicomJsonString(ds, TAGS.sopClassUid),
    instanceNumber: dicomJsonNumber(ds, TAGS.instanceNumber),
    modality: dicomJsonString(ds, TAGS.modality),
    bodyPartExamined: dicomJsonString(ds, TAGS.bodyPartExamined),
    studyDate: dicomJsonString(ds, TAGS.studyDate),
    rows: dicomJsonNumber(ds, TAGS.rows),
    columns: dicomJsonNumber(ds, TAGS.columns),
    retrieveUrl: dicomJsonString(ds, TAGS.retrieveUrl),
    dataset: ds,
  };
}
