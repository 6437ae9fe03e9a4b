/**
 * How a phantom film is taken: positioning, geometry, exposure, scatter, heel effect, collimation and the
 * detector's processing. None of it depends on age, so a model can only learn age from the anatomy.
 *
 * Why: a model validated on perfectly centred, noise-free phantoms says little about real films. The ranges below
 * follow what paediatric skull radiography shows in practice: head rotation and tilt of a few degrees are common in
 * infants who cannot hold still (in-plane up to about ±12°), geometric magnification 1.05–1.2 at a source–image
 * distance of 100–115 cm (Bushberg et al., The Essential Physics of Medical Imaging, 3rd ed. 2012, ch. 7), quantum
 * noise Poisson with Gaussian electronic noise (Foi et al., IEEE TIP 2008;17:1737, the Poisson–Gaussian model),
 * scatter as a low-frequency veil (Boone & Seibert, Med Phys 1988, convolution scatter models), an anode
 * heel intensity gradient of ±5–15 % along the anode–cathode axis (Bushberg ch. 6), and multiscale / unsharp-mask
 * contrast processing of digital radiography (Prokop, Neitzel & Schaefer-Prokop 2003, image processing in
 * digital chest radiography).
 */
import { NOISE_FREE_DETECTOR, PhantomRandom, mixPhantomSeed, type DetectorExposure } from '../../../radiograph/index.js';

export type { Collimation } from '../../../radiograph/index.js';

/** Everything about one exposure that is not anatomy: positioning and contrast here, the detector's part inherited. */
export interface Acquisition extends DetectorExposure {
  /** Geometric magnification at the head's centre (source–image / source–object distance). */
  readonly magnification: number;
  /** Head displacement in the image plane at the object, mm: right, up. */
  readonly translationMm: readonly [number, number];
  /** Rotation about the beam, degrees (counter-clockwise on the displayed film). */
  readonly inPlaneRotationDeg: number;
  /** Out-of-plane head rotation about its vertical axis, degrees (turned head: left/right asymmetry). */
  readonly yawDeg: number;
  /** Out-of-plane tilt about the head's antero-posterior axis, degrees. */
  readonly rollDeg: number;
  /** Flexion (+) / extension about the head's transverse axis, degrees. */
  readonly pitchDeg: number;
  /** Multiplier on bone-to-soft-tissue attenuation difference (tube voltage: lower kVp, more contrast). */
  readonly boneContrast: number;
}

/**
 * A centred, noise-free, scatter-free, uncollimated exposure with typical processing: for tests and for looking
 * at the anatomy alone.
 */
export const IDEAL_ACQUISITION: Acquisition = Object.freeze({
  magnification: 1.1,
  translationMm: [0, 0] as const,
  inPlaneRotationDeg: 0,
  yawDeg: 0,
  rollDeg: 0,
  pitchDeg: 0,
  ...NOISE_FREE_DETECTOR,
  boneContrast: 1,
  unsharpAmount: 1,
  unsharpRadiusMm: 8,
  displayMaxAttenuation: 6.5,
  displayGamma: 1,
});

/**
 * Draw an exposure from a seed.
 * @param seed - any integer; equal seeds give equal exposures
 */
export function drawAcquisition(seed: number): Acquisition {
  const r = new PhantomRandom(mixPhantomSeed(seed, 0xac9));
  const collimated = r.float() < 0.6;
  const margin = (): number => (r.float() < 0.3 ? 0 : r.uniform(0.01, 0.1));
  return {
    magnification: r.uniform(1.06, 1.18),
    translationMm: [r.clippedNormal(0, 6, -12, 12), r.clippedNormal(0, 6, -12, 12)],
    inPlaneRotationDeg: r.clippedNormal(0, 5, -12, 12),
    yawDeg: r.clippedNormal(0, 2.5, -6, 6),
    rollDeg: r.clippedNormal(0, 2.5, -6, 6),
    pitchDeg: r.clippedNormal(0, 4, -10, 10),
    // log-uniform dose: a factor of ~25 between the lightest and heaviest exposures
    photonsPerMm2: Math.exp(r.uniform(Math.log(1.5e4), Math.log(4e5))),
    electronicNoiseCounts: r.uniform(1, 6),
    scatterFraction: r.uniform(0.002, 0.015),
    scatterSpreadMm: r.uniform(20, 40),
    heelAmplitude: r.uniform(0, 0.15),
    // the tube's anode–cathode axis usually runs along one side of the cassette
    heelAngleDeg: 90 * r.int(4) + r.clippedNormal(0, 5, -15, 15),
    collimation: collimated ? { top: margin(), bottom: margin(), left: margin(), right: margin() } : null,
    boneContrast: r.uniform(0.85, 1.15),
    unsharpAmount: r.uniform(0.4, 1.8),
    unsharpRadiusMm: r.uniform(5, 12),
    displayMaxAttenuation: r.uniform(5.8, 7.2),
    displayGamma: r.uniform(0.8, 1.25),
  };
}
