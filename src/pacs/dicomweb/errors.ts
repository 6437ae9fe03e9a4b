/**
 * The DICOMweb client's errors: one class for everything a PACS exchange can go wrong with, whose message is one line
 * naming the service (QIDO-RS, WADO-RS, STOW-RS), the resource URL without its query string, and what happened.
 *
 * Why one line without the query: the message goes to logs and terminals, and a query may carry patient identifiers
 * (PatientID, PatientName matching, PS3.18 8.3.4.1); the path carries only UIDs and the resource type.
 */

import type { StowResult } from './stow.js';

/** Which DICOMweb service a request belongs to (PS3.18 10.4 retrieve, 10.5 store, 10.6 search). */
export type DicomWebService = 'QIDO-RS' | 'WADO-RS' | 'STOW-RS';

/**
 * A DICOMweb exchange that failed: unreachable, timed out, refused with an HTTP status, answered with a body that
 * is not what PS3.18 says, or (STOW-RS) refused some of the instances sent.
 *
 * Why: callers (the watcher, the CLI, the server) print `String(error)` as one line and branch on `status`.
 * @param service - the DICOMweb service
 * @param url - the resource URL; its query string is dropped from the message
 * @param detail - what happened, one line
 * @param status - the HTTP status, when the origin server answered
 * @param options - the cause, and for a STOW-RS refusal the per-instance result
 */
export class DicomWebError extends Error {
  override name = 'DicomWebError';
  readonly service: DicomWebService;
  /** The resource URL without query string. */
  readonly url: string;
  /** HTTP status of the answer; undefined when none came (unreachable, timeout). */
  readonly status: number | undefined;
  /** For a STOW-RS that refused some instances: what became of each one sent. */
  readonly stowResult: StowResult | undefined;

  constructor(
    service: DicomWebService,
    url: string,
    detail: string,
    status?: number,
    options?: ErrorOptions & { readonly stowResult?: StowResult },
  ) {
    const bare = withoutQuery(url);
    super(`${service} ${bare} ${oneLine(detail, 600)}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.service = service;
    this.url = bare;
    this.status = status;
    this.stowResult = options?.stowResult;
  }
}

/**
 * A multipart body that does not follow RFC 2046 5.1.1 (no boundary parameter, no opening or closing delimiter, a
 * part without the blank line after its headers).
 * @param message - what is wrong, one line
 */
export class MultipartError extends Error {
  override name = 'MultipartError';
}

/**
 * A response body that is not the DICOM JSON model of PS3.18 F.2 (not an array of data sets, a tag that is not eight
 * hex digits, an element without `vr`, a search result without its UID).
 * @param message - what is wrong, one line
 */
export class DicomJsonError extends Error {
  override name = 'DicomJsonError';
}

/** The URL without query string or fragment. */
function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}

/**
 * Collapse whitespace and cut to a length, so a server's message (Orthanc's come with newlines and tabs) stays one line.
 * @param text - any text
 * @param maxChars - the most characters kept, an ellipsis marking a cut
 */
export function oneLine(text: string, maxChars = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= maxChars ? flat : `${flat.slice(0, maxChars - 1)}…`;
}
