/**
 * From attenuation line integrals to a 12-bit MONOCHROME2 film: anode heel, scatter veil, Poisson–Gaussian
 * detector noise, log conversion, unsharp-mask processing, the display mapping and the collimator shutters.
 *
 * Why: these are what make two films of the same anatomy differ (Bushberg et al. 2012, ch. 6–7; Foi et al. 2008 for
 * the Poisson–Gaussian noise model; Prokop et al. 2003 for digital-radiography processing). Working in photon
 * counts and then taking the log, as a detector does, gives noise that is larger where the body is thick (skull
 * base, femoral condyles) and smaller in air, as on real films; a noise model added after the log would not.
 */
import { PhantomRandom } from './random.js';

/** Collimator (shutter) margins, as fractions of the film side, on each edge. */
export interface Collimation {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/**
 * The part of an exposure the detector sees: dose, electronic noise, scatter, heel effect, collimation and the
 * processing. Positioning and anatomy-specific contrast belong to each phantom's own acquisition, which extends this.
 */
export interface DetectorExposure {
  /** Unattenuated photons per mm² at the detector; `Infinity` renders without quantum or electronic noise. */
  readonly photonsPerMm2: number;
  /** Electronic (read-out) noise SD, in photon-count units per pixel. */
  readonly electronicNoiseCounts: number;
  /** Scatter reaching the detector per unit of attenuated primary (0 = no scatter). */
  readonly scatterFraction: number;
  /** Width (Gaussian SD) of the scatter veil, mm. */
  readonly scatterSpreadMm: number;
  /** Anode-heel intensity change from the film centre to its edge, fraction (0 = none). */
  readonly heelAmplitude: number;
  /** Direction of the anode–cathode axis on the film, degrees. */
  readonly heelAngleDeg: number;
  readonly collimation: Collimation | null;
  /** Unsharp-mask gain of the detector processing (0 = none). */
  readonly unsharpAmount: number;
  /** Unsharp-mask kernel SD, mm. */
  readonly unsharpRadiusMm: number;
  /** Attenuation (log units) mapped to the top of the 12-bit range. */
  readonly displayMaxAttenuation: number;
  /** Gamma of the display mapping (1 = linear in log attenuation). */
  readonly displayGamma: number;
}

/** A film as stored values plus where the collimator let the beam through. */
export interface ExposedFilm {
  /** 12-bit stored values (0..4095), MONOCHROME2: high attenuation bright. */
  readonly pixels: Uint16Array;
  /** 1 inside the collimated field, 0 under the shutters. */
  readonly field: Uint8Array;
}

/**
 * The detector part of an ideal exposure: no quantum or electronic noise, no scatter, no heel effect, no
 * collimation (each phantom adds its own processing and display), for tests and for looking at anatomy alone.
 */
export const NOISE_FREE_DETECTOR = Object.freeze({
  photonsPerMm2: Infinity,
  electronicNoiseCounts: 0,
  scatterFraction: 0,
  scatterSpreadMm: 30,
  heelAmplitude: 0,
  heelAngleDeg: 90,
  collimation: null,
} as const satisfies Partial<DetectorExposure>);

/** Largest stored value (12 bits). */
export const MAX_STORED_VALUE = 4095;

/**
 * Separable Gaussian blur by three box passes (Wells, IEEE PAMI 1986: repeated box filters approach a Gaussian),
 * edges extended; O(1) per pixel whatever the width.
 */
export function boxGaussian(src: Float32Array, width: number, height: number, sigmaPx: number): Float32Array {
  // three boxes of width w have variance 3 (w² − 1) / 12 = σ²
  const w = Math.max(1, Math.round(Math.sqrt(4 * sigmaPx * sigmaPx + 1)));
  const r = Math.floor(w / 2);
  const a = Float32Array.from(src);
  const b = new Float32Array(src.length);
  for (let pass = 0; pass < 3; pass++) {
    boxLine(a, b, width, height, r, true);
    boxLine(b, a, width, height, r, false);
  }
  return a;
}

function boxLine(
  src: Float32Array,
  dst: Float32Array,
  width: number,
  height: number,
  r: number,
  horizontal: boolean,
): void {
  const lines = horizontal ? height : width;
  const len = horizontal ? width : height;
  const stride = horizontal ? 1 : width;
  const norm = 1 / (2 * r + 1);
  for (let l = 0; l < lines; l++) {
    const base = horizontal ? l * width : l;
    const at = (i: number): number => src[base + (i < 0 ? 0 : i >= len ? len - 1 : i) * stride] ?? 0;
    let sum = 0;
    for (let i = -r; i <= r; i++) sum += at(i);
    for (let i = 0; i < len; i++) {
      dst[base + i * stride] = sum * norm;
      sum += at(i + r + 1) - at(i - r);
    }
  }
}

/**
 * Expose and process a film.
 * @param attenuation - line integrals μ·L per pixel
 * @param width - columns
 * @param height - rows
 * @param detectorPixelMm - detector pixel spacing, mm
 * @param acq - the exposure
 * @param noiseSeed - seed of the quantum and electronic noise
 */
export function exposeFilm(
  attenuation: Float32Array,
  width: number,
  height: number,
  detectorPixelMm: number,
  acq: DetectorExposure,
  noiseSeed: number,
): ExposedFilm {
  const n = width * height;
  const field = new Uint8Array(n).fill(1);
  const c = acq.collimation;
  if (c) {
    const top = Math.round(c.top * height);
    const bottom = height - Math.round(c.bottom * height);
    const left = Math.round(c.left * width);
    const right = width - Math.round(c.right * width);
    for (let row = 0; row < height; row++)
      for (let col = 0; col < width; col++)
        if (row < top || row >= bottom || col < left || col >= right) field[row * width + col] = 0;
  }
  // anode heel: a linear intensity gradient along the anode–cathode axis
  const primary = new Float32Array(n);
  const heelAngle = (acq.heelAngleDeg * Math.PI) / 180;
  const hx = Math.cos(heelAngle);
  const hy = Math.sin(heelAngle);
  for (let row = 0; row < height; row++) {
    const y = (height / 2 - row - 0.5) / (height / 2);
    for (let col = 0; col < width; col++) {
      const x = (col + 0.5 - width / 2) / (width / 2);
      const k = row * width + col;
      primary[k] = (1 + acq.heelAmplitude * (x * hx + y * hy)) * Math.exp(-(attenuation[k] ?? 0));
    }
  }
  // scatter: a broad veil proportional to the photons the body removed from the collimated beam
  let scatter: Float32Array | null = null;
  if (acq.scatterFraction > 0) {
    const removed = new Float32Array(n);
    for (let k = 0; k < n; k++) removed[k] = (field[k] ?? 0) * (1 - Math.exp(-(attenuation[k] ?? 0)));
    scatter = boxGaussian(removed, width, height, acq.scatterSpreadMm / detectorPixelMm);
  }
  const photons = acq.photonsPerMm2 * detectorPixelMm * detectorPixelMm;
  const noisy = Number.isFinite(photons);
  const rng = new PhantomRandom(noiseSeed);
  const logImage = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const intensity = (primary[k] ?? 0) + acq.scatterFraction * (scatter?.[k] ?? 0);
    let relative = intensity;
    if (noisy) {
      const mean = photons * intensity;
      const sd = Math.sqrt(mean + acq.electronicNoiseCounts * acq.electronicNoiseCounts);
      relative = Math.max(0.5, mean + sd * rng.normal()) / photons;
    }
    // the log of the flat-field-normalised signal estimates the line integral; clip the empty tail
    logImage[k] = Math.min(12, -Math.log(Math.max(relative, 1e-6)));
  }
  // unsharp masking: boosts local contrast (sutures, physes, cortical rims) over the broad body shape
  let processed = logImage;
  if (acq.unsharpAmount > 0) {
    const low = boxGaussian(logImage, width, height, acq.unsharpRadiusMm / detectorPixelMm);
    processed = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const v = logImage[k] ?? 0;
      processed[k] = v + acq.unsharpAmount * (v - (low[k] ?? 0));
    }
  }
  const pixels = new Uint16Array(n);
  const shutter = Math.round(0.97 * MAX_STORED_VALUE);
  for (let k = 0; k < n; k++) {
    if (!field[k]) {
      // electronic shutters are painted near-white, as processed films show collimation
      pixels[k] = shutter;
      continue;
    }
    const x = (processed[k] ?? 0) / acq.displayMaxAttenuation;
    const y = x <= 0 ? 0 : x >= 1 ? 1 : x ** acq.displayGamma;
    pixels[k] = Math.round(y * MAX_STORED_VALUE);
  }
  return { pixels, field };
}
