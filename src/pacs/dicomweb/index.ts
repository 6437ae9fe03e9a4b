/**
 * DICOMweb (PS3.18): a client for QIDO-RS search, WADO-RS retrieve and STOW-RS store over Node's fetch, the DICOM
 * JSON model it reads, and the multipart/related reader and writer it moves Part-10 objects with.
 */
export { DicomWebClient, type DicomWebAuth, type DicomWebClientOptions, type InstanceRef, type RetrieveOptions, type SeriesRef, type StoreOptions } from './client.js';
export { DicomWebError, DicomJsonError, MultipartError, type DicomWebService } from './errors.js';
export {
  readDicomJsonArray,
  readDicomJsonDataset,
  dicomJsonItems,
  dicomJsonNumber,
  dicomJsonString,
  dicomJsonStrings,
  type DicomJsonDataset,
  type DicomJsonElement,
  type DicomJsonPersonName,
  type DicomJsonValue,
} from './dicom-json.js';
export { encodeMultipart, multipartBoundary, parseMediaType, parseMultipart, type MediaType, type MultipartInput, type MultipartPart } from './multipart.js';
export { part10Identity, type Part10Identity } from './part10.js';
export {
  qidoRequest,
  studyDateMatch,
  studyRecord,
  seriesRecord,
  instanceRecord,
  type DicomDateRange,
  type InstanceRecord,
  type QidoLevel,
  type QidoQuery,
  type SeriesRecord,
  type StudyRecord,
} from './qido.js';
export { stowResult, stowReasonText, STOW_REASONS, type StowInstanceOutcome, type StowResult } from './stow.js';
