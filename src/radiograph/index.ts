/**
 * Radiograph I/O: DICOM (every common transfer syntax), PNG and JPEG -> Radiograph {pixels, VOI, metadata},
 * the VOI/inversion to display values, and typed errors for everything that cannot be read; the project's one
 * CSV reader; and the anatomy-independent parts of the procedural phantoms (seeded random stream, detector model,
 * DICOM DX and PNG writers).
 */
export type {
  ChronologicalAge,
  Laterality,
  LookupTable,
  PatientSex,
  Photometric,
  PixelSpacing,
  Radiograph,
  RadiographMetadata,
  Voi,
  VoiLutFunction,
  VoiWindow,
} from './types.js';
export {
  CodecError,
  CsvError,
  ImageTooLargeError,
  InvalidImageError,
  MalformedDicomError,
  MetadataError,
  NoPixelDataError,
  NotDicomError,
  OutputPathError,
  RadiographError,
  UnsupportedPhotometricError,
  UnsupportedTransferSyntaxError,
} from './errors.js';
export { readRadiograph, readRadiographBytes, readSidecarFor, listFiles, type ReadOptions } from './read.js';
export { readDicom, parseDicomDataSet, looksLikeDicom, dicomHeaderMetadata, type DicomLimits } from './dicom.js';
export {
  readPng,
  readJpeg,
  parseSidecar,
  metadataFromSidecar,
  isPng,
  isJpeg,
  type SidecarMetadata,
} from './raster.js';
export {
  parseDicomDate,
  parseAgeString,
  ageMonthsBetween,
  DAYS_PER_MONTH,
  EMPTY_METADATA,
} from './metadata.js';
export {
  toDisplay,
  applyWindow,
  applyVoiLut,
  applyRange,
  minMax,
  selectedWindow,
  type DisplayOptions,
} from './voi.js';
export { decodeRle } from './rle.js';
export { encodeGrayPng } from './png-writer.js';
export { deidentifyDicom, remapUid, BASIC_PROFILE, type DeidentifyOptions } from './deidentify.js';
export { readMetadataCsv } from './metadata-csv.js';
export { csvField, parseCsv, parseCsvTable, type CsvRecord, type CsvTable } from './csv.js';
export { escapeForTerminal } from './escape-for-terminal.js';
export { planOutputPaths, isSameFile } from './output-paths.js';
export * from './phantom/index.js';
