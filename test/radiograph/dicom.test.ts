import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ImageTooLargeError,
  InvalidImageError,
  MalformedDicomError,
  NoPixelDataError,
  NotDicomError,
  RadiographError,
  UnsupportedPhotometricError,
  UnsupportedTransferSyntaxError,
  readRadiographBytes,
  type Radiograph,
} from '../../src/radiograph/index.js';
import { TS, encodeRle, writeDicom, writeImage, type El, type ImageSpec } from './dicom-writer.js';

const ramp = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

async function read(bytes: Uint8Array, name = 'synthetic.dcm'): Promise<Radiograph> {
  return readRadiographBytes(bytes, name);
}

// Each case is named by its parameters; expected pixel values are the stored values (no rescale here).
const PIXEL_CASES: { name: string; spec: ImageSpec }[] = [];
for (const [tsName, ts] of Object.entries(TS)) {
  PIXEL_CASES.push(
    {
      name: `u8_ramp_4x3_${tsName}`,
      spec: { rows: 3, columns: 4, bitsAllocated: 8, values: ramp(12, (i) => i * 20), transferSyntax: ts },
    },
    {
      name: `u16_ramp_5x5_${tsName}`,
      spec: { rows: 5, columns: 5, values: ramp(25, (i) => i * 2500), transferSyntax: ts },
    },
    {
      name: `s16_signed_4x4_${tsName}`,
      spec: {
        rows: 4,
        columns: 4,
        pixelRepresentation: 1,
        values: ramp(16, (i) => (i - 8) * 1000),
        transferSyntax: ts,
      },
    },
    {
      name: `u12in16_garbageHighBits_3x3_${tsName}`,
      spec: {
        rows: 3,
        columns: 3,
        bitsStored: 12,
        values: ramp(9, (i) => i * 500),
        garbageHighBits: true,
        transferSyntax: ts,
      },
    },
    {
      name: `s12in16_signed_garbage_3x3_${tsName}`,
      spec: {
        rows: 3,
        columns: 3,
        bitsStored: 12,
        pixelRepresentation: 1,
        values: ramp(9, (i) => (i - 4) * 400),
        garbageHighBits: true,
        transferSyntax: ts,
      },
    },
  );
}

for (const { name, spec } of PIXEL_CASES) {
  void test(`decodes ${name} to its stored values`, async () => {
    const r = await read(writeImage(spec), `${name}.dcm`);
    assert.equal(r.rows, spec.rows);
    assert.equal(r.columns, spec.columns);
    assert.deepEqual(Array.from(r.pixels), spec.values);
    assert.equal(r.transferSyntaxUid, spec.transferSyntax);
  });
}

const PREAMBLE_CASES: { name: string; transform: (b: Uint8Array) => Uint8Array }[] = [
  { name: 'part10_with_preamble', transform: (b) => b },
  { name: 'DICM_at_byte_0_no_preamble', transform: (b) => b.subarray(128) },
  { name: 'meta_group_at_byte_0_no_DICM', transform: (b) => b.subarray(132) },
];
for (const { name, transform } of PREAMBLE_CASES) {
  void test(`reads ${name}`, async () => {
    const values = ramp(6, (i) => i * 7);
    const r = await read(transform(writeImage({ rows: 2, columns: 3, values })));
    assert.deepEqual(Array.from(r.pixels), values);
  });
}

void test('reads a bare implicit-VR data set with no preamble and no meta group', async () => {
  const values = ramp(6, (i) => i * 3);
  const r = await read(
    writeImage({ rows: 2, columns: 3, values, preamble: false, meta: false, transferSyntax: TS.implicitLE }),
  );
  assert.deepEqual(Array.from(r.pixels), values);
});

void test('applies RescaleSlope/Intercept (Modality LUT, PS3.3 C.11.1)', async () => {
  const values = [0, 100, 1000, 4095];
  const r = await read(
    writeImage({ rows: 2, columns: 2, bitsStored: 12, values, rescale: { slope: 0.5, intercept: -1024 } }),
  );
  assert.deepEqual(
    Array.from(r.pixels),
    values.map((v) => v * 0.5 - 1024),
  );
});

void test('applies a Modality LUT Sequence instead of rescale', async () => {
  const lutItem: El[] = [
    { tag: 0x00283002, vr: 'US', value: [4, 10, 16] },
    { tag: 0x00283006, vr: 'OW', value: [100, 200, 300, 400] },
  ];
  const r = await read(
    writeImage({
      rows: 1,
      columns: 6,
      values: [0, 10, 11, 12, 13, 50],
      rescale: { slope: 5, intercept: 5 },
      extra: [{ tag: 0x00283000, vr: 'SQ', value: [lutItem] }],
    }),
  );
  // Below the first mapped value -> first entry; above the last -> last entry (C.11.1.1.1).
  assert.deepEqual(Array.from(r.pixels), [100, 100, 200, 300, 400, 400]);
});

void test('reads multiple windows with their explanations and the VOILUTFunction', async () => {
  const r = await read(
    writeImage({
      rows: 1,
      columns: 2,
      values: [0, 1],
      windows: [
        { center: 40, width: 400 },
        { center: 300, width: 1500 },
      ],
      voiLutFunction: 'SIGMOID',
      extra: [{ tag: 0x00281055, vr: 'LO', value: 'SOFT\\BONE' }],
    }),
  );
  assert.equal(r.voi.kind, 'window');
  if (r.voi.kind !== 'window') return;
  assert.equal(r.voi.function, 'SIGMOID');
  assert.deepEqual(
    r.voi.windows.map((w) => [w.center, w.width, w.explanation]),
    [
      [40, 400, 'SOFT'],
      [300, 1500, 'BONE'],
    ],
  );
});

void test('reads an RGB RLE image as luminance with a warning', async () => {
  const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100]);
  const elements: El[] = [
    { tag: 0x00280002, vr: 'US', value: [3] },
    { tag: 0x00280004, vr: 'CS', value: 'RGB' },
    { tag: 0x00280006, vr: 'US', value: [0] },
    { tag: 0x00280010, vr: 'US', value: [2] },
    { tag: 0x00280011, vr: 'US', value: [2] },
    { tag: 0x00280100, vr: 'US', value: [8] },
    { tag: 0x00280101, vr: 'US', value: [8] },
    { tag: 0x00280102, vr: 'US', value: [7] },
    { tag: 0x00280103, vr: 'US', value: [0] },
    { tag: 0x7fe00010, vr: 'OB', fragments: [encodeRle(rgb, 3, 1)] },
  ];
  const r = await read(writeDicom(elements, { transferSyntax: TS.rle }));
  const expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 100];
  r.pixels.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] ?? 0)) < 1e-3, `pixel ${i}: ${v}`));
  assert.match(r.warnings.join(' '), /colour image \(RGB\) reduced to luminance/);
});

void test('decodes only frame 1 of a multi-frame image and says so', async () => {
  const values = ramp(8, (i) => i);
  const r = await read(
    writeImage({ rows: 2, columns: 2, values, extra: [{ tag: 0x00280008, vr: 'IS', value: '2' }] }),
  );
  assert.deepEqual(Array.from(r.pixels), values.slice(0, 4));
  assert.equal(r.numberOfFrames, 2);
  assert.match(r.warnings.join(' '), /2 frames; only frame 1/);
});

// Bad input: each gets a typed error naming the file and the reason.
/** A data set of `depth` nested undefined-length sequences, built iteratively (explicit VR LE). */
function nestedSequences(depth: number): Uint8Array {
  const open = Uint8Array.from([
    0x08, 0x00, 0x40, 0x11, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff,
    0xff, 0xff,
  ]);
  const close = Uint8Array.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  const head = writeDicom([]);
  const out = new Uint8Array(head.length + depth * (open.length + close.length));
  out.set(head, 0);
  for (let i = 0; i < depth; i++) out.set(open, head.length + i * open.length);
  for (let i = 0; i < depth; i++) out.set(close, head.length + depth * open.length + i * close.length);
  return out;
}
const BAD_CASES: {
  name: string;
  bytes: () => Uint8Array;
  error: new (...a: never[]) => RadiographError;
  reason: RegExp;
}[] = [
  {
    name: 'text_file',
    bytes: () => new Uint8Array(Buffer.from('hello, not an image\n')),
    error: NotDicomError,
    reason: /not a DICOM, PNG or JPEG/,
  },
  { name: 'empty_file', bytes: () => new Uint8Array(0), error: NotDicomError, reason: /\(empty\)/ },
  {
    name: 'no_pixel_data',
    bytes: () => writeDicom([{ tag: 0x00080060, vr: 'CS', value: 'SR' }]),
    error: NoPixelDataError,
    reason: /no Pixel Data \(7FE0,0010\) in this SR object/,
  },
  {
    name: 'pixel_data_shorter_than_rows_x_columns',
    bytes: () => writeImage({ rows: 4, columns: 4, values: [1, 2], extra: [] }),
    error: InvalidImageError,
    reason: /Pixel Data holds 4 bytes but 4x4x1 at 16 bits needs 32/,
  },
  {
    name: 'absurd_dimensions_65535x65535',
    bytes: () => writeImage({ rows: 65535, columns: 65535, values: [1, 2] }),
    error: ImageTooLargeError,
    reason: /65535x65535 = 4294836225 pixels exceeds the limit/,
  },
  {
    name: 'missing_rows',
    bytes: () =>
      writeImage({
        rows: 2,
        columns: 2,
        values: [1, 2, 3, 4],
        extra: [{ tag: 0x00280010, vr: 'US', value: [] }],
      }),
    error: InvalidImageError,
    reason: /missing Rows \(0028,0010\)/,
  },
  {
    name: 'bits_stored_above_bits_allocated',
    bytes: () => writeImage({ rows: 1, columns: 2, values: [1, 2], bitsStored: 20, highBit: 15 }),
    error: InvalidImageError,
    reason: /BitsStored 20 is outside/,
  },
  {
    name: 'unknown_transfer_syntax',
    bytes: () => writeImage({ rows: 1, columns: 2, values: [1, 2], transferSyntax: '1.2.3.4.5' }),
    error: UnsupportedTransferSyntaxError,
    reason: /unknown transfer syntax '1.2.3.4.5'/,
  },
  {
    name: 'mpeg2_transfer_syntax',
    bytes: () =>
      writeImage({ rows: 1, columns: 2, values: [1, 2], transferSyntax: '1.2.840.10008.1.2.4.100' }),
    error: UnsupportedTransferSyntaxError,
    reason: /MPEG2 Main Profile/,
  },
  {
    name: 'palette_color_without_tables',
    bytes: () =>
      writeImage({ rows: 1, columns: 2, values: [1, 2], bitsAllocated: 8, photometric: 'PALETTE COLOR' }),
    error: UnsupportedPhotometricError,
    reason: /PALETTE COLOR without its palette tables/,
  },
  {
    name: 'element_length_past_end_of_file',
    bytes: () => {
      const b = writeImage({ rows: 2, columns: 2, values: [1, 2, 3, 4] });
      // Truncate inside the pixel data: the OW length now runs past the end.
      return b.subarray(0, b.length - 3);
    },
    error: MalformedDicomError,
    reason: /cannot parse DICOM/,
  },
  {
    name: 'sequence_nested_20000_deep',
    bytes: () => nestedSequences(20000),
    error: MalformedDicomError,
    reason: /nested too deeply/,
  },
  {
    name: 'rle_segment_offsets_outside_frame',
    bytes: () => {
      const frame = encodeRle(new Uint8Array(8), 1, 2);
      new DataView(frame.buffer).setUint32(4, 1_000_000, true);
      return writeImage({
        rows: 2,
        columns: 2,
        values: [0, 0, 0, 0],
        transferSyntax: TS.rle,
        extra: [{ tag: 0x7fe00010, vr: 'OB', fragments: [frame] }],
      });
    },
    error: RadiographError,
    reason: /RLE segment 0 has offsets/,
  },
];
for (const { name, bytes, error, reason } of BAD_CASES) {
  void test(`rejects ${name} with ${error.name}`, async () => {
    await assert.rejects(read(bytes(), `${name}.dcm`), (e: unknown) => {
      assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`);
      assert.match(e.message, new RegExp(`^${name}\\.dcm: `));
      assert.match(e.message, reason);
      return true;
    });
  });
}

const COLOUR_LAYOUTS: { name: string; planar: number; bytes: number[] }[] = [
  // Pixels: red, green, blue, gray(100).
  { name: 'rgb_interleaved_2x2', planar: 0, bytes: [255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 100, 100] },
  { name: 'rgb_planar_2x2', planar: 1, bytes: [255, 0, 0, 100, 0, 255, 0, 100, 0, 0, 255, 100] },
];
for (const { name, planar, bytes } of COLOUR_LAYOUTS) {
  void test(`native ${name} reduces to BT.601 luminance`, async () => {
    const elements: El[] = [
      { tag: 0x00280002, vr: 'US', value: [3] },
      { tag: 0x00280004, vr: 'CS', value: 'RGB' },
      { tag: 0x00280006, vr: 'US', value: [planar] },
      { tag: 0x00280010, vr: 'US', value: [2] },
      { tag: 0x00280011, vr: 'US', value: [2] },
      { tag: 0x00280100, vr: 'US', value: [8] },
      { tag: 0x00280101, vr: 'US', value: [8] },
      { tag: 0x00280102, vr: 'US', value: [7] },
      { tag: 0x7fe00010, vr: 'OB', value: Uint8Array.from(bytes) },
    ];
    const r = await read(writeDicom(elements));
    const expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 100];
    r.pixels.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] ?? 0)) < 1e-3, `pixel ${i}: ${v}`));
  });
}

void test('PALETTE COLOR indices map through the 16-bit palette to luminance', async () => {
  const descriptor = [3, 10, 16]; // 3 entries, first mapped index 10, 16-bit entries
  const r = await read(
    writeImage({
      rows: 1,
      columns: 4,
      bitsAllocated: 8,
      values: [10, 11, 12, 200],
      photometric: 'PALETTE COLOR',
      extra: [
        { tag: 0x00281101, vr: 'US', value: descriptor },
        { tag: 0x00281102, vr: 'US', value: descriptor },
        { tag: 0x00281103, vr: 'US', value: descriptor },
        { tag: 0x00281201, vr: 'OW', value: [65535, 0, 0] },
        { tag: 0x00281202, vr: 'OW', value: [0, 65535, 0] },
        { tag: 0x00281203, vr: 'OW', value: [0, 0, 65535] },
      ],
    }),
  );
  // Index 10 -> red, 11 -> green, 12 -> blue, 200 -> clamped to the last entry (blue).
  const expected = [0.299 * 255, 0.587 * 255, 0.114 * 255, 0.114 * 255];
  r.pixels.forEach((v, i) => assert.ok(Math.abs(v - (expected[i] ?? 0)) < 1e-3, `pixel ${i}: ${v}`));
  assert.match(r.warnings.join(' '), /PALETTE COLOR image reduced to luminance/);
});

void test('a Modality LUT of signed pixels reads its first mapped value as signed (SS)', async () => {
  const lutItem: El[] = [
    { tag: 0x00283002, vr: 'US', value: [3, 65535, 16] }, // first mapped value -1 as SS
    { tag: 0x00283006, vr: 'OW', value: [10, 20, 30] },
  ];
  const r = await read(
    writeImage({
      rows: 1,
      columns: 3,
      pixelRepresentation: 1,
      values: [-1, 0, 1],
      extra: [{ tag: 0x00283000, vr: 'SQ', value: [lutItem] }],
    }),
  );
  assert.deepEqual(Array.from(r.pixels), [10, 20, 30]);
});
