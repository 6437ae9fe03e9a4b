/**
 * STOW-RS answers (PS3.18 10.5.3) read into one outcome per object sent: stored (from the ReferencedSOPSequence,
 * with its RetrieveURL and any WarningReason) or failed (from the FailedSOPSequence with its FailureReason, or absent
 * from both sequences).
 *
 * Why "absent from both" is a failure: PS3.18 10.5.3 asks the origin server to list every instance it was sent, but
 * an object it cannot parse has no SOPInstanceUID to list it under; Orthanc's DICOMweb plugin then answers 400 with
 * only the stored ones. An object the answer does not acknowledge was not stored, whatever the reason.
 */
import { dicomJsonItems, dicomJsonNumber, dicomJsonString, type DicomJsonDataset } from './dicom-json.js';
import type { Part10Identity } from './part10.js';

/** What became of one object sent. */
export interface StowInstanceOutcome {
  /** Its position among the objects sent, from 0. */
  readonly index: number;
  /** From its File Meta Information; undefined when it is not Part 10. */
  readonly sopInstanceUid: string | undefined;
  readonly sopClassUid: string | undefined;
  readonly stored: boolean;
  /** Where to retrieve it (ReferencedSOPSequence RetrieveURL), when stored and given. */
  readonly retrieveUrl: string | undefined;
  /** WarningReason (0008,1196) of a stored object, FailureReason (0008,1197) of a failed one. */
  readonly reasonCode: number | undefined;
  /** The reason in words, one line; undefined for a plain success. */
  readonly reason: string | undefined;
}

/** The answer to one STOW-RS request. */
export interface StowResult {
  /** The store resource, without query. */
  readonly url: string;
  readonly httpStatus: number;
  /** One per object sent, in order. */
  readonly outcomes: readonly StowInstanceOutcome[];
  readonly storedCount: number;
  readonly failedCount: number;
}

/**
 * Storage status codes a STOW-RS answer uses as FailureReason / WarningReason (PS3.18 10.5.3 refers to the Storage
 * Service Class statuses of PS3.4 B.2.3 and the general statuses of PS3.7 C).
 */
export const STOW_REASONS: ReadonlyMap<number, string> = new Map([
  [0x0110, 'processing failure'],
  [0x0111, 'duplicate SOP instance'],
  [0x0122, 'SOP class not supported'],
  [0x0124, 'not authorized'],
  [0xa700, 'out of resources'],
  [0xa900, 'data set does not match SOP class'],
  [0xb000, 'coercion of data elements'],
  [0xb006, 'elements discarded'],
  [0xb007, 'data set does not match SOP class (warning)'],
  [0xc000, 'cannot understand'],
  [0xc122, 'transfer syntax not supported'],
]);

const REFERENCED_SOP_SEQUENCE = '00081199';
const FAILED_SOP_SEQUENCE = '00081198';
const REFERENCED_SOP_CLASS_UID = '00081150';
const REFERENCED_SOP_INSTANCE_UID = '00081155';
const RETRIEVE_URL = '00081190';
const WARNING_REASON = '00081196';
const FAILURE_REASON = '00081197';

/**
 * A status code in words: `0xC000 cannot understand`; the ranges of PS3.4 B.2.3 (A7xx, A9xx, Cxxx) by their family.
 * @param code - the FailureReason or WarningReason value
 */
export function stowReasonText(code: number): string {
  const hex = `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const known = STOW_REASONS.get(code)
    ?? ((code & 0xff00) === 0xa700 ? 'out of resources'
      : (code & 0xff00) === 0xa900 ? 'data set does not match SOP class'
        : (code & 0xf000) === 0xc000 ? 'cannot understand'
          : undefined);
  return known === undefined ? hex : `${hex} ${known}`;
}

/**
 * One outcome per object sent, from a STOW-RS answer.
 * @param sent - the identity of each object sent, in order (null for one that is not Part 10)
 * @param httpStatus - the answer's HTTP status (200 all stored, 202 some failed or warnings, 409 all failed; PS3.18 Table 10.5.3-1)
 * @param response - the answer's data set, when it had one
 * @param url - the store resource, for the result
 */
export function stowResult(
  sent: readonly (Part10Identity | null)[],
  httpStatus: number,
  response: DicomJsonDataset | undefined,
  url: string,
): StowResult {
  const storedByUid = new Map<string, DicomJsonDataset>();
  const failedByUid = new Map<string, DicomJsonDataset>();
  if (response !== undefined) {
    for (const item of dicomJsonItems(response, REFERENCED_SOP_SEQUENCE)) {
      const uid = dicomJsonString(item, REFERENCED_SOP_INSTANCE_UID);
      if (uid !== undefined) storedByUid.set(uid, item);
    }
    for (const item of dicomJsonItems(response, FAILED_SOP_SEQUENCE)) {
      const uid = dicomJsonString(item, REFERENCED_SOP_INSTANCE_UID);
      if (uid !== undefined) failedByUid.set(uid, item);
    }
  }
  // a success without a body says nothing per instance: all of them were stored (PS3.18 10.5.3, status 200)
  const silentSuccess = response === undefined && httpStatus >= 200 && httpStatus < 300;
  const outcomes = sent.map((id, index): StowInstanceOutcome => {
    const uid = id?.sopInstanceUid;
    const base = { index, sopInstanceUid: uid, sopClassUid: id?.sopClassUid };
    const failed = uid === undefined ? undefined : failedByUid.get(uid);
    if (failed !== undefined) {
      const code = dicomJsonNumber(failed, FAILURE_REASON);
      return { ...base, sopClassUid: base.sopClassUid ?? dicomJsonString(failed, REFERENCED_SOP_CLASS_UID), stored: false, retrieveUrl: undefined, reasonCode: code, reason: code === undefined ? 'failed (no reason given)' : stowReasonText(code) };
    }
    const stored = uid === undefined ? undefined : storedByUid.get(uid);
    if (stored !== undefined) {
      const code = dicomJsonNumber(stored, WARNING_REASON);
      return {
        ...base,
        sopClassUid: base.sopClassUid ?? dicomJsonString(stored, REFERENCED_SOP_CLASS_UID),
        stored: true,
        retrieveUrl: dicomJsonString(stored, RETRIEVE_URL),
        reasonCode: code,
        reason: code === undefined ? undefined : `warning ${stowReasonText(code)}`,
      };
    }
    if (silentSuccess) return { ...base, stored: true, retrieveUrl: undefined, reasonCode: undefined, reason: undefined };
    const why = id === null ? 'not a DICOM Part-10 object (no DICM at byte 128)' : `not acknowledged by the origin server (HTTP ${httpStatus})`;
    return { ...base, stored: false, retrieveUrl: undefined, reasonCode: undefined, reason: why };
  });
  const storedCount = outcomes.filter((o) => o.stored).length;
  return { url, httpStatus, outcomes, storedCount, failedCount: outcomes.length - storedCount };
}
