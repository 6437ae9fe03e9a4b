/**
 * How a phantom knee film is taken: positioning (field of view, centring, in-plane and axial rotation), exposure,
 * scatter, heel effect, collimation and the detector's processing. None of it depends on age, so a model can only
 * learn skeletal age from the anatomy.
 *
 * Why: a model validated on perfectly centred, noise-free phantoms says little about real films. AP knee films of
 * children are taken supine at 55–70 kVp, source–image distance 100–115 cm with the knee on the detector
 * (magnification 1.05–1.15; Bushberg et al., The Essential Physics of Medical Imaging, 3rd ed. 2012, ch. 7); a child
 * holds the leg rotated by a few degrees (Whitley et al., Clark's Positioning in Radiography, 13th ed. 2015: the
 * patella should face forward); films are cropped around the joint for the model, as in the transfer study
 * (doi 10.1177/23259671261424923), so the field of view scales with the knee. Noise, scatter, heel effect and
 * processing follow the shared detector model (radiograph/phantom: Foi et al. 2008; Boone & Seibert 1988; Prokop
 * et al. 2003); knee films are processed with stronger local contrast than skulls (the adult AP knee films in
 * ../shared/data/anatomy show it), hence a larger unsharp-mask gain.
 */
import {
  NOISE_FREE_DETECTOR,
  PhantomRandom,
  mixPhantomSeed,
  type DetectorExposure,
} from '../../../radiograph/index.js';

/** Everything about one knee exposure that is not anatomy. */
export interface KneeAcquisition extends DetectorExposure {
  /** Geometric magnification at the knee (source–image / source–object distance). */
  readonly magnification: number;
  /** Film side at the knee as a multiple of the femoral metaphyseal width (the crop around the joint). */
  readonly fieldOfViewRatio: number;
  /** Joint centre's offset from the film centre, as fractions of the film side: right, up. */
  readonly translationFraction: readonly [number, number];
  /** Rotation about the beam, degrees (counter-clockwise on the displayed film), ±8. */
  readonly inPlaneRotationDeg: number;
  /** Rotation of the limb about its long axis, degrees (external +), ±8. */
  readonly axialRotationDeg: number;
  /** Multiplier on bone-to-soft-tissue attenuation difference (tube voltage: lower kVp, more contrast). */
  readonly boneContrast: number;
  /**
   * The display maximum as a multiple of the film's 99.5th-percentile attenuation: digital radiography scales
   * each exposure to its own histogram (exposure recognition), so thin infant knees and thick adolescent ones
   * both fill the grey range (Prokop et al. 2003). `displayMaxAttenuation` is then set per film.
   */
  readonly displayHeadroom: number;
}

/** A centred, noise-free, scatter-free, uncollimated exposure with typical processing: for tests. */
export const IDEAL_KNEE_ACQUISITION: KneeAcquisition = Object.freeze({
  magnification: 1.1,
  fieldOfViewRatio: 1.7,
  translationFraction: [0, 0] as const,
  inPlaneRotationDeg: 0,
  axialRotationDeg: 0,
  ...NOISE_FREE_DETECTOR,
  boneContrast: 1,
  unsharpAmount: 1.5,
  unsharpRadiusMm: 6,
  displayMaxAttenuation: 1,
  displayGamma: 1.6,
  displayHeadroom: 1.05,
});

/**
 * Draw a knee exposure from a seed.
 * @param seed - any integer; equal seeds give equal exposures
 */
export function drawKneeAcquisition(seed: number): KneeAcquisition {
  const r = new PhantomRandom(mixPhantomSeed(seed, 0xac9e));
  const collimated = r.float() < 0.4;
  const margin = (): number => (r.float() < 0.4 ? 0 : r.uniform(0.01, 0.08));
  return {
    magnification: r.uniform(1.05, 1.15),
    fieldOfViewRatio: r.uniform(1.45, 1.95),
    translationFraction: [r.clippedNormal(0, 0.03, -0.07, 0.07), r.clippedNormal(0, 0.03, -0.07, 0.07)],
    inPlaneRotationDeg: r.clippedNormal(0, 3.5, -8, 8),
    axialRotationDeg: r.clippedNormal(0, 3, -8, 8),
    // log-uniform dose: a factor of ~20 between the lightest and heaviest exposures
    photonsPerMm2: Math.exp(r.uniform(Math.log(1.5e5), Math.log(3e6))),
    electronicNoiseCounts: r.uniform(1, 6),
    scatterFraction: r.uniform(0.005, 0.03),
    scatterSpreadMm: r.uniform(15, 35),
    heelAmplitude: r.uniform(0, 0.12),
    heelAngleDeg: 90 * r.int(4) + r.clippedNormal(0, 5, -15, 15),
    collimation: collimated ? { top: margin(), bottom: margin(), left: margin(), right: margin() } : null,
    boneContrast: r.uniform(0.85, 1.2),
    unsharpAmount: r.uniform(0.8, 2.4),
    unsharpRadiusMm: r.uniform(3, 9),
    displayMaxAttenuation: 1,
    displayGamma: r.uniform(1.3, 2.0),
    displayHeadroom: r.uniform(1.0, 1.12),
  };
}
