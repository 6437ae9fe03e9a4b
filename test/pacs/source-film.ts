/**
 * A tiny source DX film for the PACS writers' tests, made in code with the phantom DX writer: a 64 x 48 ramp with a
 * bright square, with the patient, study and UIDs a result object must copy or reference.
 */
import { encodePhantomDx, uidFrom, type PhantomDxFilm } from '../../src/radiograph/index.js';
import { LEFT_HAND_PA_DX } from '../helpers/dicom-objects.js';

/** The film's attributes (its UIDs are what the SR and SC must keep or reference). */
export const RAMP_64X48: Omit<PhantomDxFilm, 'pixels'> = {
  ...LEFT_HAND_PA_DX,
  rows: 48,
  columns: 64,
  patientId: 'PACS-TEST-1',
  sex: 'F',
  birthDate: '20200115',
  studyDate: '20260301',
  ageDays: 2237,
  studyInstanceUid: uidFrom('pacs-test/study'),
  seriesInstanceUid: uidFrom('pacs-test/series'),
  sopInstanceUid: uidFrom('pacs-test/instance'),
  derivation: 'Physis PACS test ramp',
  modelName: 'pacs-test',
  implementationClassUid: uidFrom('pacs-test/implementation'),
};

/** The film's 12-bit pixels: a horizontal ramp with a bright 16 x 16 square at (40, 8). */
export function rampPixels(): Uint16Array {
  const { rows, columns } = RAMP_64X48;
  const px = new Uint16Array(rows * columns);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) px[y * columns + x] = x >= 40 && x < 56 && y >= 8 && y < 24 ? 4000 : Math.round((x / columns) * 3000);
  }
  return px;
}

/** The film's Part 10 bytes. */
export function rampFilmBytes(): Promise<Uint8Array> {
  return encodePhantomDx({ ...RAMP_64X48, pixels: rampPixels() });
}
