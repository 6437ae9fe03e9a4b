/**
 * Golden-image helper: compares a [0, 1] image with test/preprocess/golden/<name>.png (16-bit grayscale).
 * Goldens are written only when UPDATE_GOLDEN=1 (`UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/preprocess`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { encodeGrayPng, readPng } from '../../src/radiograph/index.js';
import type { GrayImage } from '../../src/preprocess/index.js';

const GOLDEN_DIR = fileURLToPath(new URL('./golden', import.meta.url));

/** Assert `image` equals the golden `name` to one 16-bit step; write it instead under UPDATE_GOLDEN=1. */
export function assertGolden(name: string, image: GrayImage): void {
  const path = join(GOLDEN_DIR, `${name}.png`);
  for (const v of image.data)
    assert.ok(v >= 0 && v <= 1, `${name}: value ${v} outside [0, 1] cannot be stored as a golden`);
  if (process.env['UPDATE_GOLDEN'] === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(path, encodeGrayPng(image.width, image.height, image.data, 16));
    return;
  }
  assert.ok(
    existsSync(path),
    `golden ${path} missing: regenerate with UPDATE_GOLDEN=1 node scripts/run-tests.mjs test/preprocess`,
  );
  const golden = readPng(new Uint8Array(readFileSync(path)), path, null, 1 << 24);
  assert.equal(golden.columns, image.width, `${name}: width`);
  assert.equal(golden.rows, image.height, `${name}: height`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < image.data.length; i++) {
    const d = Math.abs((image.data[i] ?? 0) - (golden.pixels[i] ?? 0) / 65535);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  assert.ok(
    worst <= 1.01 / 65535,
    `${name}: differs from golden by ${worst.toFixed(6)} at pixel ${at} (x=${at % image.width}, y=${Math.floor(at / image.width)})`,
  );
}
