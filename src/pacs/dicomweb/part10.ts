/**
 * The identity of a DICOM Part-10 object from its File Meta Information alone (PS3.10 7.1): SOP Class, SOP Instance
 * and Transfer Syntax UIDs.
 *
 * Why only the meta group: STOW-RS answers name instances by SOPInstanceUID (PS3.18 10.5.3), so the client must know
 * which object it sent under which UID; the meta group is always explicit VR little endian and comes first, so
 * reading it costs a few hundred bytes and never the data set, whatever its transfer syntax or size.
 */

/** What the File Meta Information says an object is. */
export interface Part10Identity {
  /** MediaStorageSOPClassUID (0002,0002). */
  readonly sopClassUid: string | undefined;
  /** MediaStorageSOPInstanceUID (0002,0003). */
  readonly sopInstanceUid: string | undefined;
  /** TransferSyntaxUID (0002,0010). */
  readonly transferSyntaxUid: string | undefined;
}

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function uidText(bytes: Uint8Array, start: number, length: number): string {
  // UI values are padded with NUL to even length (PS3.5 6.2)
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1').replace(/[\0 ]+$/, '');
}

/**
 * Read the identity of a Part-10 object, or null when the bytes are not Part 10 (no `DICM` at byte 128, or a meta
 * group that runs past the end).
 * @param bytes - the object
 */
export function part10Identity(bytes: Uint8Array): Part10Identity | null {
  if (bytes.length < 132) return null;
  if (bytes[128] !== 0x44 || bytes[129] !== 0x49 || bytes[130] !== 0x43 || bytes[131] !== 0x4d) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found: Record<number, string> = {};
  let at = 132;
  while (at + 8 <= bytes.length) {
    const group = view.getUint16(at, true);
    if (group !== 0x0002) break;
    const element = view.getUint16(at + 2, true);
    const vr = String.fromCharCode(bytes[at + 4] ?? 0, bytes[at + 5] ?? 0);
    let length: number;
    let valueAt: number;
    if (LONG_VRS.has(vr)) {
      if (at + 12 > bytes.length) return null;
      length = view.getUint32(at + 8, true);
      valueAt = at + 12;
    } else {
      length = view.getUint16(at + 6, true);
      valueAt = at + 8;
    }
    if (valueAt + length > bytes.length) return null;
    if (element === 0x0002 || element === 0x0003 || element === 0x0010) found[element] = uidText(bytes, valueAt, length);
    at = valueAt + length;
  }
  return { sopClassUid: found[0x0002], sopInstanceUid: found[0x0003], transferSyntaxUid: found[0x0010] };
}
