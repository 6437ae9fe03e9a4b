/**
 * Typed errors for reading radiographs. Every failure to read a file ends in one of these, with a
 * message that names the file and the reason, so a folder command can report it on one line and go on.
 */

/** Base class: a radiograph file could not be read. `file` names it (a path or a caller-given label). */
export class RadiographError extends Error {
  override name = 'RadiographError';
  /** The file (or label) that failed. */
  readonly file: string;
  /**
   * @param file - the file (or label, e.g. `labels.csv:12`) that failed
   * @param reason - why, in words
   * @param options - `cause`: the lower-level error this one wraps
   */
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
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

/**
 * A CSV (labels, manifest, per-image metadata) breaks RFC 4180 or the caller's header contract: unterminated
 * or stray quote, a ragged row, a missing or repeated column. The message is `file:line: reason` (just `file:`
 * when the problem is the whole file) so an editor can jump to it.
 */
export class CsvError extends RadiographError {
  override name = 'CsvError';
  /** The CSV as the caller named it (a path or a label). */
  readonly source: string;
  /** The 1-based line of the problem, or null when it concerns the whole file (empty file). */
  readonly line: number | null;
  /** The reason, without the location. */
  readonly reason: string;
  /**
   * @param source - the CSV's path or label
   * @param line - 1-based line, or null for the whole file
   * @param reason - why, in words
   */
  constructor(source: string, line: number | null, reason: string) {
    super(line === null ? source : `${source}:${line}`, reason);
    this.source = source;
    this.line = line;
    this.reason = reason;
  }
}

/**
 * Output file names cannot be planned as asked (a suffix with a path separator, or too long to leave room for
 * a name under the 255-byte limit). Not a RadiographError: no input file is at fault.
 */
export class OutputPathError extends Error {
  override name = 'OutputPathError';
}
