import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CodecError,
  UnsupportedTransferSyntaxError,
  readRadiographBytes,
} from '../../src/radiograph/index.js';
import { writeImage } from './dicom-writer.js';

/** SOI + a frame header (SOFn) declaring width × height at a precision, then EOI: enough for the header check. */
function jpegHeader(marker: number, precision: number, width: number, height: number): Uint8Array {
  return Uint8Array.from([
    0xff,
    0xd8,
    0xff,
    marker,
    0x00,
    0x0b,
    precision,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x01,
    0x01,
    0x11,
    0x00,
    0xff,
    0xd9,
  ]);
}

function encapsulated(ts: string, frame: Uint8Array): Uint8Array {
  return writeImage({
    rows: 2,
    columns: 2,
    bitsAllocated: 8,
    values: [0, 0, 0, 0],
    transferSyntax: ts,
    extra: [{ tag: 0x7fe00010, vr: 'OB', fragments: [frame] }],
  });
}

const CASES = [
  {
    name: 'jpeg_baseline_header_60000x60000_in_2x2_image',
    bytes: () => encapsulated('1.2.840.10008.1.2.4.50', jpegHeader(0xc0, 8, 60000, 60000)),
    error: CodecError,
    reason: /codestream is 60000x60000 but the data set says 2x2/,
  },
  {
    name: 'jpeg_lossless_header_mismatch',
    bytes: () => encapsulated('1.2.840.10008.1.2.4.70', jpegHeader(0xc3, 16, 3, 2)),
    error: CodecError,
    reason: /codestream is 3x2/,
  },
  {
    name: 'jpeg_extended_12bit',
    bytes: () => encapsulated('1.2.840.10008.1.2.4.51', jpegHeader(0xc1, 12, 2, 2)),
    error: UnsupportedTransferSyntaxError,
    reason: /12-bit JPEG Extended .* 8-bit JPEG only/,
  },
  {
    name: 'jpeg_baseline_garbage_after_valid_header',
    bytes: () => encapsulated('1.2.840.10008.1.2.4.50', jpegHeader(0xc0, 8, 2, 2)),
    error: CodecError,
    reason: /libjpeg-turbo/,
  },
];
for (const { name, bytes, error, reason } of CASES) {
  void test(`encapsulated ${name} -> ${error.name}`, async () => {
    await assert.rejects(readRadiographBytes(bytes(), `${name}.dcm`), (e: unknown) => {
      assert.ok(e instanceof error, `got ${String(e)}`);
      assert.match(e.message, reason);
      return true;
    });
  });
}
