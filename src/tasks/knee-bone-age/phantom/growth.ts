/**
 * Maturation and growth of the paediatric knee from birth to skeletal maturity, as the knee phantom uses it: the
 * width of each epiphysis relative to its metaphysis, the epiphyses' shape (round → flattened → capping), physeal
 * width, bridging and fusion, the appearance and growth of the fibular head, patellar and tibial-tubercle centres,
 * and the size of the bones, with each child's own deviation from the typical course ({@link KneeTraits}).
 *
 * Why: knee bone age by transfer from the hand model (doi 10.1177/23259671261424923) is validated on a
 * semi-synthetic cohort, because no public paediatric knee films with bone age exist. The phantom's age signal is
 * carried by the maturity indicators of the knee atlases: Pyle & Hoerr, Radiographic Atlas of Skeletal Development
 * of the Knee (2nd ed., 1969); Roche, Wainer & Thissen, Skeletal Maturity: the Knee Joint as a Biological Indicator
 * (1975; "RWT", whose indicators include epiphyseal width relative to metaphyseal width and epiphyseal shape);
 * O'Connor et al., Clin Anat 2013;26:755 (seven RWT / Pyle–Hoerr indicators graded in 9–19-year-olds) and J Anat
 * 2008;212:198 (stages of union at the knee); appearance and fusion ages from Scheuer & Black, Developmental
 * Juvenile Osteology (2000) and Ogden, Skeletal Injury in the Child (3rd ed., 2000). Values marked "approximate"
 * are read off published charts and plates, not copied from tables, to the precision a 256-pixel film can show.
 *
 * How sex enters: the phantom is driven by skeletal age, and a skeletal age is defined against same-sex standards
 * (Pyle & Hoerr, like Greulich & Pyle for the hand, give separate male and female ages for each standard plate).
 * Girls reach each stage earlier, so a boy's skeletal age is first mapped to the female-equivalent maturity
 * ({@link femaleEquivalentMonths}); every indicator is then a function of that one maturity scale. Sex also sets
 * body size (the bones of boys are larger from adolescence on).
 */
import { PhantomRandom, mixPhantomSeed } from '../../../radiograph/index.js';

/** Oldest skeletal age the phantom draws, months (18 years; everything is fused well before). */
export const MAX_KNEE_SKELETAL_AGE_MONTHS = 216;

/** Piecewise-linear interpolation in a table of [x, y] knots (clamped outside). */
function interp(knots: readonly (readonly [number, number])[], x: number): number {
  const first = knots[0];
  const last = knots[knots.length - 1];
  if (!first || !last) return 0;
  if (x <= first[0]) return first[1];
  if (x >= last[0]) return last[1];
  for (let i = 1; i < knots.length; i++) {
    const a = knots[i - 1];
    const b = knots[i];
    if (!a || !b || x > b[0]) continue;
    return a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0]);
  }
  return last[1];
}

/**
 * Male skeletal age → female-equivalent maturity, months. Girls lead by ≈ 15–20 % of age in childhood and by ≈ 2
 * years at adolescence, meeting at maturity: the paired male and female ages of the same standard plates in Pyle &
 * Hoerr (1969) and Greulich & Pyle (1959), e.g. the plate for boys of 17 years is that for girls of ≈ 15 years
 * (approximate).
 */
const MALE_TO_FEMALE_MONTHS: readonly (readonly [number, number])[] = [
  [0, 0],
  [24, 21],
  [60, 51],
  [120, 100],
  [156, 130],
  [180, 156],
  [204, 180],
  [228, 204],
];

/**
 * The female-equivalent maturity of a skeletal age: the age at which an average girl shows the same knee.
 * @param skeletalAgeMonths - skeletal age against same-sex standards
 * @param sex - whose standards
 */
export function femaleEquivalentMonths(skeletalAgeMonths: number, sex: 'M' | 'F'): number {
  return sex === 'F' ? skeletalAgeMonths : interp(MALE_TO_FEMALE_MONTHS, skeletalAgeMonths);
}

/**
 * Median stature, cm, by age in months (CDC 2000 growth charts, Kuczmarski et al., Vital Health Stat 11(246),
 * 2002; WHO 2006 below 2 years; approximate to 1 cm). Used only to scale the bones with body size.
 */
const STATURE_CM: Readonly<Record<'M' | 'F', readonly (readonly [number, number])[]>> = Object.freeze({
  M: [
    [0, 50],
    [12, 76],
    [24, 87],
    [36, 96],
    [60, 110],
    [96, 128],
    [120, 139],
    [144, 150],
    [168, 164],
    [192, 174],
    [216, 176.5],
  ],
  F: [
    [0, 49],
    [12, 74],
    [24, 86],
    [36, 95],
    [60, 109],
    [96, 127],
    [120, 138],
    [144, 151],
    [168, 160],
    [192, 162.5],
    [216, 163],
  ],
});

/**
 * Adult distal femoral (metaphyseal, just above the condyles) width, mm: ≈ 0.93 of the bicondylar width, which is
 * ≈ 84 mm in men and ≈ 74 mm in women (Hitt et al., J Bone Joint Surg Am 2003;85-A Suppl 4:115, anthropometry of
 * the distal femur; approximate).
 */
const ADULT_FEMORAL_WIDTH_MM: Readonly<Record<'M' | 'F', number>> = Object.freeze({ M: 78, F: 69 });

/**
 * One child's own knee: body-size z-score, proportions, bone quality, and when each centre appears and fuses
 * relative to the typical course. Drawn once per child and kept across films, so a child's films differ only by
 * age, side and acquisition.
 */
export interface KneeTraits {
  /** Stature z-score (bone size follows it; SD ≈ 4.5 % of stature, CDC 2000), clipped to ±2.5. */
  readonly sizeZ: number;
  /** Multiplier on the tibial / femoral metaphyseal width ratio (≈ 0.93). */
  readonly tibiaWidthFactor: number;
  /** Multiplier on the diaphyseal (shaft) width relative to the metaphysis. */
  readonly shaftWidthFactor: number;
  /** Multiplier on epiphyseal height (condyle depth on the film). */
  readonly epiphysisHeightFactor: number;
  /** Added to the epiphysis / metaphysis width ratio at every age (individual spread about the RWT course). */
  readonly epiphysisRatioOffset: number;
  /** Multiplier on cortical thickness. */
  readonly corticalFactor: number;
  /** Multiplier on bone mineral density (cortical and trabecular). */
  readonly densityFactor: number;
  /** Soft-tissue half-width of the limb relative to the femoral metaphysis (thin to heavy thigh). */
  readonly softTissueRatio: number;
  /** Shift of the fibular head ossification centre's appearance, months of female-equivalent maturity. */
  readonly fibulaAppearShiftMonths: number;
  /** Shift of the patellar centre's appearance, months. */
  readonly patellaAppearShiftMonths: number;
  /** Shift of the tibial tubercle apophysis' appearance, months. */
  readonly tubercleAppearShiftMonths: number;
  /** Shift of physeal fusion (all three physes together), months. */
  readonly fusionShiftMonths: number;
  /** Seed of the trabecular texture (pattern only, carries no age). */
  readonly textureSeed: number;
}

/**
 * Draw one child's traits from a seed, each from its spread, independently.
 * @param seed - any integer; equal seeds give equal traits
 *
 * @example
 * drawKneeTraits(7).fusionShiftMonths; // e.g. −3.1 (within ±10)
 */
export function drawKneeTraits(seed: number): KneeTraits {
  const r = new PhantomRandom(mixPhantomSeed(seed, 0x6b4e));
  return {
    sizeZ: r.clippedNormal(0, 1, -2.5, 2.5),
    tibiaWidthFactor: r.clippedNormal(1, 0.03, 0.92, 1.08),
    shaftWidthFactor: r.clippedNormal(1, 0.08, 0.8, 1.2),
    epiphysisHeightFactor: r.clippedNormal(1, 0.07, 0.85, 1.15),
    epiphysisRatioOffset: r.clippedNormal(0, 0.025, -0.06, 0.06),
    corticalFactor: r.clippedNormal(1, 0.12, 0.7, 1.3),
    densityFactor: r.clippedNormal(1, 0.08, 0.8, 1.2),
    softTissueRatio: r.clippedNormal(0.82, 0.1, 0.62, 1.1),
    // appearance ages of secondary centres vary by about ±1 year around the skeletal-age course (Scheuer & Black
    // 2000 give ranges of 2–3 years for the patella and fibular head); clipped so that every centre is absent
    // at 1 year and present by 6 years (fibula, patella)
    fibulaAppearShiftMonths: r.clippedNormal(0, 6, -14, 14),
    patellaAppearShiftMonths: r.clippedNormal(0, 6, -10, 14),
    tubercleAppearShiftMonths: r.clippedNormal(0, 6, -12, 12),
    fusionShiftMonths: r.clippedNormal(0, 4, -10, 8),
    textureSeed: r.int(2 ** 31),
  };
}

/** Smooth 0→1 ramp between `a` and `b`. */
function smoothStep(a: number, b: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}

/**
 * Ratio of the ossified distal femoral epiphysis' width to the metaphyseal width, by female-equivalent months.
 * The RWT and Pyle–Hoerr indicator: a small oval centre at birth (present from ≈ 36 weeks' gestation, Scheuer &
 * Black 2000), as wide as the metaphysis by late childhood, then wider ("capping") before fusion (Roche et al.
 * 1975; O'Connor et al. 2013, indicator "femoral epiphysis width ≥ metaphysis"). Approximate.
 */
const FEMORAL_EPIPHYSIS_RATIO: readonly (readonly [number, number])[] = [
  [0, 0.42],
  [6, 0.5],
  [12, 0.57],
  [24, 0.66],
  [48, 0.77],
  [72, 0.85],
  [108, 0.93],
  [132, 0.98],
  [156, 1.02],
  [180, 1.04],
];

/**
 * The same for the proximal tibial epiphysis, whose centre appears just before or after birth (Scheuer & Black
 * 2000) and lags the femur by several months throughout (Pyle & Hoerr 1969). Approximate.
 */
const TIBIAL_EPIPHYSIS_RATIO: readonly (readonly [number, number])[] = [
  [0, 0.3],
  [6, 0.42],
  [12, 0.5],
  [24, 0.6],
  [48, 0.73],
  [72, 0.82],
  [108, 0.91],
  [132, 0.97],
  [156, 1.01],
  [180, 1.03],
];

/**
 * Open physeal width on the film, mm: the radiolucent band of growth cartilage plus the not yet ossified zone,
 * ≈ 2–3 mm in childhood, narrowing through adolescence before bridging (Ogden 2000, ch. 1; Pyle & Hoerr 1969
 * plates). Approximate.
 */
const PHYSIS_WIDTH_MM: readonly (readonly [number, number])[] = [
  [0, 2.6],
  [60, 2.3],
  [120, 1.9],
  [150, 1.3],
  [168, 0.8],
];

/** Female-equivalent ages (months) at which the typical child's centres appear or fuse. */
export const KNEE_EVENT_MONTHS = Object.freeze({
  /**
   * Fibular head centre: third to fourth year (Scheuer & Black 2000; Gray's Anatomy); girls ≈ 3 y, boys ≈ 4 y
   * (Pyle & Hoerr 1969).
   */
  fibulaAppear: 36,
  /** Patella: from multiple foci at 2–3 y in girls, 3–5 y in boys (Ogden 2000; Scheuer & Black 2000: 1.5–3.5 y). */
  patellaAppear: 30,
  /**
   * Tibial tubercle apophysis: appears at ≈ 8–10 y in girls, 9–12 y in boys (Ehrenborg & Lagergren, Acta Chir
   * Scand 1961;121:491, the apophyseal stage; O'Connor et al. 2013 tuberosity grades), joins the epiphysis' tongue
   * ≈ 2–3 years later.
   */
  tubercleAppear: 102,
  tubercleJoin: 138,
  /**
   * Bridging of the distal femoral and proximal tibial physes begins ≈ 13–14 y in girls (15–16 y in boys) and is
   * complete by ≈ 14.5–15.5 y (16.5–17.5 y), the fibula ≈ half a year later (O'Connor et al., J Anat 2008;212:198;
   * Scheuer & Black 2000). The tibia starts slightly before the femur.
   */
  fusionStart: 160,
  fusionDuration: 14,
});

/**
 * The knee of one child at one skeletal age: every size the renderer draws (mm, fractions, or 0/1 flags). All that
 * depends on age in a phantom comes from here.
 */
export interface KneeAnatomy {
  readonly skeletalAgeMonths: number;
  /** Female-equivalent maturity (months) the indicators are read at. */
  readonly maturityMonths: number;
  readonly statureCm: number;
  /** Femoral metaphyseal width at the physis, mm. */
  readonly femurMetaphysisWidthMm: number;
  readonly tibiaMetaphysisWidthMm: number;
  readonly femurShaftWidthMm: number;
  readonly tibiaShaftWidthMm: number;
  /** Cartilaginous anlage height (physis to joint line) of each epiphysis, mm. */
  readonly femurEpiphysisHeightMm: number;
  readonly tibiaEpiphysisHeightMm: number;
  /** Ossified epiphysis width / metaphysis width (the RWT ratio). */
  readonly femurEpiphysisRatio: number;
  readonly tibiaEpiphysisRatio: number;
  /** Ossified height as a fraction of the available anlage height. */
  readonly femurEpiphysisHeightFraction: number;
  readonly tibiaEpiphysisHeightFraction: number;
  /** Superellipse exponent of the physeal side of each epiphysis: 2 round, higher flatter (flattening, capping). */
  readonly epiphysisFlatness: number;
  /** Depth of the intercondylar notch and height of the tibial spines, 0 (infant oval) to 1 (adult form). */
  readonly condyleForm: number;
  /** Physeal width, mm (0 once fused). */
  readonly physisWidthMm: number;
  /** Bridged fraction of each physis, 0 open to 1 fused. */
  readonly femurFusion: number;
  readonly tibiaFusion: number;
  readonly fibulaFusion: number;
  /** Residual physeal scar density after fusion, 0..1 (fades over ≈ 2 years; Pyle & Hoerr 1969 plates). */
  readonly physealScar: number;
  /** Fibular head centre size as a fraction of its mature size (0 = not yet ossified). */
  readonly fibulaHeadSize: number;
  /** Patellar centre size as a fraction of the mature patella (0 = not yet ossified). */
  readonly patellaSize: number;
  /** Tibial tubercle apophysis size fraction (0 = not yet ossified). */
  readonly tubercleSize: number;
  /** Cortical thickness of the femoral shaft, mm. */
  readonly corticalThicknessMm: number;
  /** Mineral density relative to mature cortical bone. */
  readonly boneDensity: number;
  /** Half-width of the soft tissue of the limb, mm. */
  readonly softTissueHalfWidthMm: number;
}

/**
 * Compute a child's knee at a skeletal age.
 * @param skeletalAgeMonths - skeletal age against same-sex standards, 0..216
 * @param sex - whose standards (maturity mapping) and growth chart (size)
 * @param traits - the child's own deviations
 */
export function kneeAnatomy(skeletalAgeMonths: number, sex: 'M' | 'F', traits: KneeTraits): KneeAnatomy {
  const age = Math.max(0, Math.min(MAX_KNEE_SKELETAL_AGE_MONTHS, skeletalAgeMonths));
  const m = femaleEquivalentMonths(age, sex);
  const e = KNEE_EVENT_MONTHS;
  // Size: bones scale with stature (at the chronological age the skeletal age stands for, on average), with
  // the child's own z-score; SD ≈ 4.5 % of stature (CDC 2000, approximate).
  const statureCm = interp(STATURE_CM[sex], age) * (1 + 0.045 * traits.sizeZ);
  const adultCm = interp(STATURE_CM[sex], MAX_KNEE_SKELETAL_AGE_MONTHS);
  const femurMetaphysisWidthMm = ADULT_FEMORAL_WIDTH_MM[sex] * (statureCm / adultCm) ** 1.1;
  // Tibial plateau ≈ 0.9–0.95 of the distal femoral width (Hitt et al. 2003; approximate).
  const tibiaMetaphysisWidthMm = 0.93 * femurMetaphysisWidthMm * traits.tibiaWidthFactor;
  // Diaphyses: ≈ 0.36 (femur) and ≈ 0.38 (tibia) of the metaphyseal width (proportions of the Pyle–Hoerr plates).
  const femurShaftWidthMm = 0.36 * femurMetaphysisWidthMm * traits.shaftWidthFactor;
  const tibiaShaftWidthMm = 0.38 * tibiaMetaphysisWidthMm * traits.shaftWidthFactor;
  const femurEpiphysisHeightMm = 0.42 * femurMetaphysisWidthMm * traits.epiphysisHeightFactor;
  const tibiaEpiphysisHeightMm = 0.3 * tibiaMetaphysisWidthMm * traits.epiphysisHeightFactor;

  const fusionStart = e.fusionStart + traits.fusionShiftMonths;
  const fusionEnd = fusionStart + e.fusionDuration;
  // the tibia bridges a little before the femur and the fibula after both (O'Connor et al. 2008)
  const tibiaFusion = smoothStep(fusionStart - 3, fusionEnd - 3, m);
  const femurFusion = smoothStep(fusionStart, fusionEnd, m);
  const fibulaFusion = smoothStep(fusionStart + 3, fusionEnd + 3, m);
  // the physis narrows before it bridges, and the band is gone when bridging is complete
  const physisWidthMm = interp(PHYSIS_WIDTH_MM, m) * (1 - smoothStep(fusionStart - 6, fusionEnd, m));
  const physealScar =
    smoothStep(fusionEnd - 4, fusionEnd + 2, m) * (1 - smoothStep(fusionEnd, fusionEnd + 30, m));

  const ratioOffset = traits.epiphysisRatioOffset * smoothStep(0, 24, m);
  const femurEpiphysisRatio = interp(FEMORAL_EPIPHYSIS_RATIO, m) + ratioOffset;
  const tibiaEpiphysisRatio = interp(TIBIAL_EPIPHYSIS_RATIO, m) + ratioOffset;
  // Height fills the anlage a little faster than width: the early centres are round while the anlage is wide.
  const femurEpiphysisHeightFraction = Math.min(1, 0.55 + 0.45 * smoothStep(0, 120, m));
  const tibiaEpiphysisHeightFraction = Math.min(1, 0.45 + 0.55 * smoothStep(0, 132, m));
  // Shape: round to oval in infancy, the physeal side flattening through childhood and squaring off as the
  // margins cap the metaphysis in adolescence (RWT shape indicators; O'Connor et al. 2013). Approximate.
  const epiphysisFlatness = 2 + 0.8 * smoothStep(12, 84, m) + 1.2 * smoothStep(84, 156, m);
  // Intercondylar notch and tibial spines take their adult form over 2–10 y (Pyle & Hoerr 1969 plates).
  const condyleForm = smoothStep(18, 120, m);

  const grow = (appear: number, span: number): number =>
    m <= appear ? 0 : Math.min(1, 0.12 + 0.88 * ((m - appear) / span) ** 0.8);
  const fibulaHeadSize = grow(e.fibulaAppear + traits.fibulaAppearShiftMonths, 96);
  const patellaSize = grow(e.patellaAppear + traits.patellaAppearShiftMonths, 110);
  const tubercleSize = grow(
    e.tubercleAppear + traits.tubercleAppearShiftMonths,
    e.tubercleJoin - e.tubercleAppear,
  );

  // Cortex ≈ 18–22 % of the shaft diameter per wall once walking loads it, thinner in infancy; mineral density
  // rising through childhood (Högler et al., J Pediatr 2003;143:81, pQCT of the tibia; approximate).
  const corticalThicknessMm =
    traits.corticalFactor * femurShaftWidthMm * (0.12 + 0.08 * smoothStep(0, 96, m));
  const boneDensity = Math.min(1.1, traits.densityFactor * (0.68 + 0.32 * smoothStep(0, 180, m)));
  return {
    skeletalAgeMonths: age,
    maturityMonths: m,
    statureCm,
    femurMetaphysisWidthMm,
    tibiaMetaphysisWidthMm,
    femurShaftWidthMm,
    tibiaShaftWidthMm,
    femurEpiphysisHeightMm,
    tibiaEpiphysisHeightMm,
    femurEpiphysisRatio,
    tibiaEpiphysisRatio,
    femurEpiphysisHeightFraction,
    tibiaEpiphysisHeightFraction,
    epiphysisFlatness,
    condyleForm,
    physisWidthMm,
    femurFusion,
    tibiaFusion,
    fibulaFusion,
    physealScar,
    fibulaHeadSize,
    patellaSize,
    tubercleSize,
    corticalThicknessMm,
    boneDensity,
    softTissueHalfWidthMm: traits.softTissueRatio * femurMetaphysisWidthMm,
  };
}
