/**
 * PACS: the DICOM objects Physis writes back into the analysed film's study — a Structured Report of the result
 * (PS3.16 TID 1500, IHE AI Results) and a Secondary Capture picture with the heat map and the answer burned in —
 * and their reader for `physis inspect`. Written with dcmjs, loaded lazily.
 *
 * @example
 * const source = sourceStudyOf(filmBytes);
 * const sr = await writeStructuredReport({ source, ...reportContentOf(task, result) });
 * const image = await renderResultImage({ display, saliency, lines: resultCaption(task, result) });
 * const sc = await writeSecondaryCapture({ source, image, derivationDescription: 'Grad-CAM over the film' });
 */
export { PacsObjectError } from './errors.js';
export { sourceStudyOf, patientAndStudyOf, type SourceStudy } from './source-study.js';
export {
  writeStructuredReport,
  structuredReportDataset,
  COMPREHENSIVE_SR_SOP_CLASS_UID,
  PHYSIS_MANUFACTURER,
  type AlgorithmIdentification,
  type GateVerdictSummary,
  type StructuredReportContent,
  type StructuredReportInput,
  type NewInstance,
} from './structured-report.js';
export { REPORT_CONCEPTS } from './report-concepts.js';
export {
  renderResultImage,
  writeSecondaryCapture,
  secondaryCaptureDataset,
  SECONDARY_CAPTURE_SOP_CLASS_UID,
  REVIEW_NOTICE,
  type ResultImageInput,
  type SecondaryCaptureInput,
  type RgbImage,
} from './secondary-capture.js';
export { reportContentOf, resultCaption, algorithmOf } from './result-report.js';
export { readResultObject, type ResultObject, type ReadStructuredReport, type ReadSecondaryCapture, type ResultObjectIdentity } from './read-report.js';
export { newUid } from './dicom-values.js';
// DICOMweb transport (PS3.18) and the watcher's core
export {
  DicomWebClient,
  DicomWebError,
  DicomJsonError,
  MultipartError,
  readDicomJsonArray,
  readDicomJsonDataset,
  dicomJsonItems,
  dicomJsonNumber,
  dicomJsonString,
  dicomJsonStrings,
  encodeMultipart,
  multipartBoundary,
  parseMediaType,
  parseMultipart,
  part10Identity,
  qidoRequest,
  studyDateMatch,
  studyRecord,
  seriesRecord,
  instanceRecord,
  stowResult,
  stowReasonText,
  STOW_REASONS,
  type DicomWebAuth,
  type DicomWebClientOptions,
  type DicomWebService,
  type DicomJsonDataset,
  type DicomJsonElement,
  type DicomJsonPersonName,
  type DicomJsonValue,
  type DicomDateRange,
  type InstanceRecord,
  type InstanceRef,
  type MediaType,
  type MultipartInput,
  type MultipartPart,
  type Part10Identity,
  type QidoLevel,
  type QidoQuery,
  type RetrieveOptions,
  type SeriesRecord,
  type SeriesRef,
  type StoreOptions,
  type StowInstanceOutcome,
  type StowResult,
  type StudyRecord,
} from './dicomweb/index.js';
export {
  pollOnce,
  type HandledInstances,
  type PollEvent,
  type PollFailure,
  type PollOptions,
  type PollStage,
  type PollSummary,
  type WatchFilter,
} from './watch.js';
export {
  pacsRoundTrip,
  pacsSourcePath,
  resultsStored,
  PACS_RESULTS_STORED,
  RADIOGRAPH_SOP_CLASS_UIDS,
  type FilmAnalysis,
  type RoundTrip,
  type RoundTripOptions,
  type TaskLine,
  type WrittenObject,
} from './round-trip.js';
