/**
 * Typed errors for reading radiographs. Every failure to read a file ends in one of these, with a
 * message that names the file and the reason, so a folder command can report it on one line and go on.
 */

/** Base class: a radiograph file could not be read. `file` names it (a path or a caller-given label). */
export class RadiographError extends Error {
  override name = 'RadiographError';
  /** The file (or label) that failed. */
  readonly file: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.file = file;
  }
}

/** The bytes are neither DICOM (Part 10 or a bare data set) nor PNG nor JPEG. */
export class NotDicomError extends RadiographError {
  override name = 'NotDicomError';
}

/** The DICOM structure is broken: truncated, a length past the end of the file, nesting too deep, bad values. */
export class MalformedDicomError extends RadiographError {
  override name = 'MalformedDicomError';
}

/** The transfer syntax is known but no codec for it is available, or it is not a transfer syntax at all. */
export class UnsupportedTransferSyntaxError extends RadiographError {
  override name = 'UnsupportedTransferSyntaxError';
}

/** The data set has no Pixel Data (0x7FE0,0x0010), e.g. a structured report, a query or a private encoding. */
export class NoPixelDataError extends RadiographError {
  override name = 'NoPixelDataError';
}

/** Image attributes are missing, inconsistent with each other or with the pixel data (rows, bits, length). */
export class InvalidImageError extends RadiographError {
  override name = 'InvalidImageError';
}

/** Declared dimensions exceed Physis's bound on pixels per image; rejected before allocating. */
export class ImageTooLargeError extends RadiographError {
  override name = 'ImageTooLargeError';
}

/** A codec failed on the compressed frame (corrupt stream, or its header disagrees with the data set). */
export class CodecError extends RadiographError {
  override name = 'CodecError';
}

/** The photometric interpretation or sample layout cannot be turned into a grayscale radiograph. */
export class UnsupportedPhotometricError extends RadiographError {
  override name = 'UnsupportedPhotometricError';
}

/** A sidecar or CSV with metadata for a PNG/JPEG is malformed. */
export class MetadataError extends RadiographError {
  override name = 'MetadataError';
}
