/**
 * The cubic and nearest resizes against PIL's (BICUBIC, antialiased when shrinking, Pillow's default since 7.0; and
 * NEAREST, its default before): a full-resolution film is squashed as a low-resolution training set was made before a
 * model trained on it sees the film (the RSNA films at 100 px were made with NEAREST).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resize } from '../../src/preprocess/index.js';

const PYTHON = '/usr/bin/python3';
const hasPil = spawnSync(PYTHON, ['-c', 'import PIL'], { encoding: 'utf8' }).status === 0;
const noPil = hasPil ? false : `${PYTHON} with PIL is not installed (scripts/bootstrap.sh installs python3-pil)`;

/** PIL's resize of an 8-bit image given as bytes (its default filter, or NEAREST); returns the output bytes. */
function pilResize(width: number, height: number, bytes: Uint8Array, outW: number, outH: number, nearest = false): Uint8Array {
  const script =
    'import sys; from PIL import Image; w,h,ow,oh,nn=map(int,sys.argv[1:6]); d=sys.stdin.buffer.read(); im=Image.frombytes(\'L\',(w,h),d); ' +
    'sys.stdout.buffer.write((im.resize((ow,oh),Image.NEAREST) if nn else im.resize((ow,oh))).tobytes())';
  const r = spawnSync(PYTHON, ['-c', script, String(width), String(height), String(outW), String(outH), nearest ? '1' : '0'], { input: bytes, maxBuffer: 1 << 24 });
  assert.equal(r.status, 0, r.stderr?.toString());
  return new Uint8Array(r.stdout);
}

void test('cubic resize matches PIL Image.resize with its default filter to within 1/255 (shrink, squash and enlarge)', { skip: noPil }, () => {
  const width = 173;
  const height = 241;
  const bytes = new Uint8Array(width * height);
  // smooth structure plus texture, so both the filter shape and its antialiasing width matter
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 128 + 80 * Math.sin(x / 7) * Math.cos(y / 11) + 40 * Math.sin((x * y) / 97);
      bytes[y * width + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  const image = { width, height, data: Float32Array.from(bytes, (v) => v / 255) };
  for (const [ow, oh] of [[100, 100], [60, 90], [300, 280]] as const) {
    const ours = resize(image, ow, oh, 'cubic');
    const pil = pilResize(width, height, bytes, ow, oh);
    let worst = 0;
    for (let i = 0; i < pil.length; i++) {
      const v = Math.round(Math.min(1, Math.max(0, ours.data[i] as number)) * 255);
      worst = Math.max(worst, Math.abs(v - (pil[i] as number)));
    }
    assert.ok(worst <= 1, `${width}x${height} -> ${ow}x${oh}: worst difference ${worst}/255`);
  }
});

void test('nearest resize picks exactly the pixels PIL Image.resize with NEAREST picks (shrink, squash and enlarge)', { skip: noPil }, () => {
  const width = 173;
  const height = 241;
  // every pixel distinct along a row and a column, so a pick one pixel off shows
  const bytes = Uint8Array.from({ length: width * height }, (_, i) => (((i % width) * 7 + Math.floor(i / width) * 13) % 251) + 2);
  const image = { width, height, data: Float32Array.from(bytes, (v) => v / 255) };
  for (const [ow, oh] of [[100, 100], [60, 90], [300, 280], [512, 77]] as const) {
    const ours = resize(image, ow, oh, 'nearest');
    const pil = pilResize(width, height, bytes, ow, oh, true);
    let wrong = 0;
    for (let i = 0; i < pil.length; i++) if (Math.round((ours.data[i] as number) * 255) !== pil[i]) wrong++;
    assert.equal(wrong, 0, `${width}x${height} -> ${ow}x${oh}: ${wrong} of ${pil.length} pixels differ from PIL's`);
  }
});
