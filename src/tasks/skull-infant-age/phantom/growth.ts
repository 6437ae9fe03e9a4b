/**
 * Growth of the infant skull from birth to 13 months, as the phantom generator uses it: head size, fontanelle
 * size and closure, suture width and metopic fusion, calvarial thickness and mineralisation, and the face-to-vault
 * proportion, with each infant's own deviation from the typical course ({@link InfantTraits}).
 *
 * Why: no public infant skull radiographs exist, so the infant-age-from-skull pipeline (Lee et al., Sci Rep
 * 2024;14:16600: CNNs on AP and lateral skull films of infants under 12 months, whose Grad-CAM maps fall on the
 * coronal, sagittal and metopic sutures in AP and on the lambdoid suture and cortical density in lateral films) is
 * validated on phantoms whose age signal is carried by exactly that anatomy. Each relation cites its source; values
 * marked "approximate" were read off the published curves and tables, not copied from them, and are good to the
 * precision a 256-pixel film can show.
 */
import { PhantomRandom, mixPhantomSeed } from '../../../radiograph/index.js';

/** Median and SD of head circumference (cm) at completed months 0..12, one sex. */
interface HeadCircumferenceRow {
  readonly medianCm: readonly number[];
  readonly sdCm: readonly number[];
}

/**
 * WHO Child Growth Standards, head circumference-for-age, birth to 13 weeks / 0–12 months (WHO Multicentre Growth
 * Reference Study Group, "WHO Child Growth Standards: head circumference-for-age…", Geneva 2007). The standard's
 * Box-Cox power is L = 1 for head circumference, so the curve is normal at each age and z = (HC − M) / (M·S); the
 * SD column is M·S. Medians and SDs at monthly ages 0..12, approximate (to 0.1 cm, tabulated from the published
 * tables from memory; e.g. boys −2 SD 31.9 / +2 SD 37.0 cm at birth).
 */
export const WHO_HEAD_CIRCUMFERENCE: Readonly<Record<'M' | 'F', HeadCircumferenceRow>> = Object.freeze({
  M: {
    medianCm: [34.5, 37.3, 39.1, 40.5, 41.6, 42.6, 43.3, 44.0, 44.5, 45.0, 45.4, 45.8, 46.1],
    sdCm: [1.27, 1.17, 1.15, 1.17, 1.19, 1.21, 1.23, 1.24, 1.25, 1.26, 1.27, 1.28, 1.29],
  },
  F: {
    medianCm: [33.9, 36.5, 38.3, 39.5, 40.6, 41.5, 42.2, 42.8, 43.4, 43.8, 44.2, 44.6, 44.9],
    sdCm: [1.18, 1.13, 1.13, 1.15, 1.17, 1.19, 1.21, 1.22, 1.23, 1.24, 1.25, 1.26, 1.27],
  },
});

/** Oldest age the tables cover, months (the generator accepts 0..12.99). */
export const MAX_PHANTOM_AGE_MONTHS = 13;

/**
 * One infant's own anatomy: where it sits on each growth curve and when its fontanelles and metopic suture close.
 * Drawn once per infant and kept across visits, so a child's films differ only by age and acquisition.
 */
export interface InfantTraits {
  /** Head-circumference z-score on the WHO curve (kept across ages, as tracking infants do), clipped to ±2.5. */
  readonly headCircumferenceZ: number;
  /** Cephalic index, head breadth / length (≈ 0.80 in infants; Farkas 1994 norms), individual. */
  readonly cephalicIndex: number;
  /** Vault height above the plane of the largest circumference, as a fraction of half the head length. */
  readonly vaultHeightRatio: number;
  /** Scalp and hair soft-tissue thickness over the calvarium, mm (an assumption: ≈ 3 mm in infants). */
  readonly scalpMm: number;
  /** Anterior fontanelle size at birth, (length + width) / 2, mm (Duc & Largo 1986: mean ≈ 21 mm, wide spread). */
  readonly anteriorFontanelleBirthMm: number;
  /** Age at which this infant's anterior fontanelle closes, months (Duc & Largo 1986: median 13.8, range 4–26). */
  readonly anteriorFontanelleClosureMonths: number;
  /** Posterior fontanelle size at birth, mm (fingertip-sized, ≈ 5–10 mm; Kiesler & Richer 2003). */
  readonly posteriorFontanelleBirthMm: number;
  /** Age at which the posterior fontanelle closes, months (by 1–2 months; Kiesler & Richer 2003). */
  readonly posteriorFontanelleClosureMonths: number;
  /** Age at which metopic fusion starts at the nasion, months (Vu et al. 2001; Weinzweig et al. 2003: from 3 months). */
  readonly metopicFusionStartMonths: number;
  /** Age at which metopic fusion reaches the fontanelle, months (complete in all children by 9 months, same sources). */
  readonly metopicFusionEndMonths: number;
  /** Multiplier on the typical open-suture widths (sagittal, coronal, lambdoid, squamosal). */
  readonly sutureWidthFactor: number;
  /** Multiplier on the typical calvarial thickness. */
  readonly thicknessFactor: number;
  /** Multiplier on the typical calvarial mineral density. */
  readonly densityFactor: number;
  /** Added to the typical face-height / head-length ratio. */
  readonly faceRatioOffset: number;
  /** Phase of the suture interdigitation pattern, radians (shape only, carries no age). */
  readonly interdigitationPhase: number;
}

/**
 * Draw one infant's traits from a seed: every trait from its published spread, independently.
 * @param seed - any integer; equal seeds give equal traits
 *
 * @example
 * drawInfantTraits(7).anteriorFontanelleClosureMonths; // e.g. 15.2 (median 13.8, Duc & Largo 1986)
 */
export function drawInfantTraits(seed: number): InfantTraits {
  const r = new PhantomRandom(mixPhantomSeed(seed, 0x7a17));
  const headCircumferenceZ = r.clippedNormal(0, 1, -2.5, 2.5);
  const cephalicIndex = r.clippedNormal(0.8, 0.035, 0.7, 0.9);
  const vaultHeightRatio = r.clippedNormal(0.8, 0.04, 0.7, 0.9);
  const scalpMm = r.clippedNormal(3, 0.6, 1.8, 4.5);
  // Duc & Largo 1986 (Pediatrics 78:904): AF (length + width)/2 ≈ 2.1 cm at birth, range about 0.6–3.6 cm.
  const anteriorFontanelleBirthMm = r.clippedNormal(21, 6, 8, 36);
  // Same study: median closure 13.8 months, 1 % closed by 3 months, ≈ 38 % by 12 months, 96 % by 24 months; a
  // normal with SD 4.5 months gives ≈ 34 % by 12 months. Pindrik et al. 2014 (CT) agree that few close before 9 months.
  const anteriorFontanelleClosureMonths = r.clippedNormal(13.8, 4.5, 4, 26);
  const posteriorFontanelleBirthMm = r.clippedNormal(7, 2, 2, 12);
  const posteriorFontanelleClosureMonths = r.clippedNormal(1.5, 0.5, 0.5, 3);
  // Vu et al. 2001 (3-D CT, 159 children) and Weinzweig et al. 2003: fusion begins as early as 3 months, proceeds
  // from the nasion up to the anterior fontanelle, and is complete in every child by 9 months.
  const metopicFusionStartMonths = r.clippedNormal(3.5, 0.7, 2.5, 6);
  const metopicFusionEndMonths = Math.min(
    9,
    Math.max(metopicFusionStartMonths + 1.5, r.clippedNormal(7.3, 0.8, 5, 9)),
  );
  return {
    headCircumferenceZ,
    cephalicIndex,
    vaultHeightRatio,
    scalpMm,
    anteriorFontanelleBirthMm,
    anteriorFontanelleClosureMonths,
    posteriorFontanelleBirthMm,
    posteriorFontanelleClosureMonths,
    metopicFusionStartMonths,
    metopicFusionEndMonths,
    sutureWidthFactor: r.clippedNormal(1, 0.15, 0.6, 1.4),
    thicknessFactor: r.clippedNormal(1, 0.1, 0.75, 1.25),
    densityFactor: r.clippedNormal(1, 0.08, 0.8, 1.2),
    faceRatioOffset: r.clippedNormal(0, 0.02, -0.05, 0.05),
    interdigitationPhase: r.uniform(0, 2 * Math.PI),
  };
}

/** Linear interpolation in a monthly table (months 0..12; clamped outside). */
function monthly(table: readonly number[], ageMonths: number): number {
  const a = Math.max(0, Math.min(table.length - 1, ageMonths));
  const i = Math.min(table.length - 2, Math.floor(a));
  const f = a - i;
  return (table[i] ?? 0) * (1 - f) + (table[i + 1] ?? 0) * f;
}

/** Linear ramp from `birth` at 0 months to `year` at 12 months (extrapolated to 13). */
function ramp(birth: number, year: number, ageMonths: number): number {
  return birth + ((year - birth) * ageMonths) / 12;
}

/**
 * The anatomy of one infant at one age: every size the renderer draws, in mm (or a 0..1 fraction).
 * Everything age-dependent in a phantom comes from here; nothing else in a film depends on age.
 */
export interface InfantAnatomy {
  readonly ageMonths: number;
  readonly headCircumferenceCm: number;
  /** Glabella–opisthocranion length over the scalp, mm. */
  readonly headLengthMm: number;
  /** Maximum head breadth over the scalp, mm. */
  readonly headBreadthMm: number;
  /** Vault height above the largest-circumference plane, over the scalp, mm. */
  readonly vaultHeightMm: number;
  readonly scalpMm: number;
  /** Anterior fontanelle (length + width) / 2, mm; 0 once closed. */
  readonly anteriorFontanelleMm: number;
  /** Posterior fontanelle diameter, mm; 0 once closed. */
  readonly posteriorFontanelleMm: number;
  /** Open fraction of the metopic suture, from the fontanelle down (1 open, 0 fused). */
  readonly metopicOpen: number;
  readonly metopicSutureMm: number;
  readonly sagittalSutureMm: number;
  readonly coronalSutureMm: number;
  readonly lambdoidSutureMm: number;
  readonly squamosalSutureMm: number;
  /** Amplitude of the suture interdigitation (serration), mm. */
  readonly sutureInterdigitationMm: number;
  readonly calvarialThicknessMm: number;
  /** Calvarial mineral density relative to mature cortical bone (0..1). */
  readonly boneDensity: number;
  /** Nasion–gnathion (morphological face) height, mm. */
  readonly faceHeightMm: number;
}

/**
 * Compute an infant's anatomy at an age.
 * @param ageMonths - postnatal age, 0..12.99
 * @param sex - WHO table to use
 * @param traits - the infant's own deviations
 */
export function infantAnatomy(ageMonths: number, sex: 'M' | 'F', traits: InfantTraits): InfantAnatomy {
  const t = Math.max(0, Math.min(MAX_PHANTOM_AGE_MONTHS, ageMonths));
  const who = WHO_HEAD_CIRCUMFERENCE[sex];
  const headCircumferenceCm = monthly(who.medianCm, t) + traits.headCircumferenceZ * monthly(who.sdCm, t);
  // Head circumference is taken over the glabella and opisthocranion, i.e. around the head's largest axial ellipse
  // (semi-axes a = length/2, b = breadth/2 = CI·a). Ramanujan's perimeter π(3(a+b) − √((3a+b)(a+3b))) is linear in a.
  const ci = traits.cephalicIndex;
  const perimeterPerA = Math.PI * (3 * (1 + ci) - Math.sqrt((3 + ci) * (1 + 3 * ci)));
  const halfLengthMm = (headCircumferenceCm * 10) / perimeterPerA;

  // Anterior fontanelle: Duc & Largo 1986 and Kiesler & Richer 2003 (Am Fam Physician 67:2547) describe a size that
  // changes little over the first months and then shrinks towards closure at a median 13.8 months; a power-law
  // shrink 1 − (t / t_close)^1.6 keeps most open, but smaller, at 12 months.
  const afFraction =
    t >= traits.anteriorFontanelleClosureMonths ? 0 : 1 - (t / traits.anteriorFontanelleClosureMonths) ** 1.6;
  // Posterior fontanelle: closed by 1–2 months (Kiesler & Richer 2003); linear shrink.
  const pfFraction = Math.max(0, 1 - t / traits.posteriorFontanelleClosureMonths);

  // Metopic suture: fusion runs from nasion to bregma between the infant's start and end ages (Vu et al. 2001;
  // Weinzweig et al. 2003); the open fraction is what remains below the fontanelle.
  const { metopicFusionStartMonths: m0, metopicFusionEndMonths: m1 } = traits;
  const metopicOpen = t <= m0 ? 1 : t >= m1 ? 0 : 1 - (t - m0) / (m1 - m0);

  // Open-suture widths narrow over the first year. Mitchell et al. 2011 (AJNR 32:1801, CT of 0–24-month-olds):
  // sagittal and coronal widths fall steadily from ≈ 2 mm and ≈ 1.5 mm shortly after birth to about half that by one
  // year (approximate). Lambdoid and squamosal widths are not in that study; they are assumed to narrow alike.
  const w = traits.sutureWidthFactor;
  const sagittalSutureMm = w * ramp(2.0, 1.0, t);
  const coronalSutureMm = w * ramp(1.6, 0.8, t);
  const lambdoidSutureMm = w * ramp(1.8, 0.9, t);
  const squamosalSutureMm = w * ramp(1.1, 0.6, t);
  // The metopic suture is as wide as the sagittal while open and narrows as it fuses (Weinzweig et al. 2003: a
  // narrowing, then bridged, suture on CT).
  const metopicSutureMm = sagittalSutureMm * (0.5 + 0.5 * metopicOpen);
  // Suture margins are nearly straight at birth and interdigitate during infancy as the bone fronts meet (Opperman,
  // Dev Dyn 2000;219:472 "Cranial sutures as intramembranous bone growth sites").
  const sutureInterdigitationMm = ramp(0.2, 1.2, t);

  // Calvarial thickness: parietal ≈ 1.5 mm in neonates rising towards ≈ 2.5–3 mm by one year (Li et al., PLoS One
  // 2015, statistical skull geometry of 0–3-year-olds from CT; Margulies & Thibault, J Biomech Eng
  // 2000;122:364, ≈ 1–2 mm in neonates). Approximate linear course.
  const calvarialThicknessMm = traits.thicknessFactor * ramp(1.5, 2.65, t);
  // Mineralisation: infant cranial bone density and stiffness rise steeply with age in the first year (Coats &
  // Margulies, J Neurotrauma 2006;23:1222; McPherson & Kriewall, J Biomech 1980;13:9). Relative to mature cortical
  // bone, approximate: ≈ 0.55 at birth, ≈ 0.78 at one year.
  const boneDensity = Math.min(1, traits.densityFactor * ramp(0.55, 0.78, t));

  // Face: small relative to the vault at birth (cranium:face ≈ 8:1 by volume at birth vs ≈ 2:1 in adults) and
  // growing faster than the vault afterwards (Farkas, Anthropometry of the Head and Face, 2nd ed. 1994; Enlow,
  // Facial Growth 1990). Face height / head length, approximate: ≈ 0.40 at birth, ≈ 0.47 at one year.
  const faceRatio = ramp(0.4, 0.47, t) + traits.faceRatioOffset;

  return {
    ageMonths: t,
    headCircumferenceCm,
    headLengthMm: 2 * halfLengthMm,
    headBreadthMm: 2 * halfLengthMm * ci,
    vaultHeightMm: halfLengthMm * traits.vaultHeightRatio,
    scalpMm: traits.scalpMm,
    anteriorFontanelleMm: traits.anteriorFontanelleBirthMm * afFraction,
    posteriorFontanelleMm: traits.posteriorFontanelleBirthMm * pfFraction,
    metopicOpen,
    metopicSutureMm,
    sagittalSutureMm,
    coronalSutureMm,
    lambdoidSutureMm,
    squamosalSutureMm,
    sutureInterdigitationMm,
    calvarialThicknessMm,
    boneDensity,
    faceHeightMm: faceRatio * 2 * halfLengthMm,
  };
}
