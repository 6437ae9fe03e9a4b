import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRle } from '../../src/radiograph/index.js';

function frame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    dv.setUint32(4 + 4 * i, offset, true);
    offset += s.length;
  });
  return Uint8Array.from([...header, ...segments.flat()]);
}

void test('PackBits literal, replicate and no-op runs (PS3.5 G.3.1)', () => {
  // literal 2 bytes [1, 2]; replicate 3x 9 (header -2 = 254); no-op 128; literal 1 byte [7]
  const out = decodeRle(frame([[1, 1, 2, 254, 9, 128, 0, 7]]), 6, 1, 1);
  assert.deepEqual(Array.from(out), [1, 2, 9, 9, 9, 7]);
});

void test('16-bit samples: MSB segment first, output little-endian', () => {
  const out = decodeRle(
    frame([
      [1, 0x12, 0x34],
      [1, 0x56, 0x78],
    ]),
    2,
    1,
    2,
  );
  assert.deepEqual(Array.from(out), [0x56, 0x12, 0x78, 0x34]);
});

void test('a segment count that disagrees with the image is refused', () => {
  assert.throws(() => decodeRle(frame([[0, 1]]), 1, 1, 2), /declares 1 segments, expected 2/);
});

void test('a segment that decodes short is refused', () => {
  assert.throws(() => decodeRle(frame([[0, 1]]), 4, 1, 1), /decodes to 1 bytes, expected 4/);
});

void test('output never exceeds the declared size, whatever the runs say', () => {
  const out = decodeRle(frame([[129, 5, 129, 6]]), 4, 1, 1);
  assert.equal(out.length, 4);
  assert.deepEqual(Array.from(out), [5, 5, 5, 5]);
});
