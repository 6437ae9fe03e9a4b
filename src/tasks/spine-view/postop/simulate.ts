/**
 * Simulate a post-operative AP spine film from a real pre-operative one: plan an AIS posterior spinal fusion or dual
 * growing rods on the film's own vertebrae and put the metal on the film. The bone is left where it is (no
 * correction is simulated); only metal is added. Nothing on the film marks the class or the age.
 *
 * Why: the spine-view classifier (Spine Deformity 2024;12(6):1607, doi 10.1007/s43390-024-00933-9) sorts registry
 * films into pre- and post-operative AP and lateral categories, and no public post-operative films exist; real
 * pre-operative films with simulated instrumentation give it post-operative examples whose anatomy, exposure and
 * noise are real. See plan.ts for the surgical literature behind the construct and render.ts for the metal model.
 */
import { mixPhantomSeed, PhantomRandom } from '../../../radiograph/index.js';
import { SpinePostopOptionsError } from './errors.js';
import { vertebraGeometry, type VertebraLandmarks } from './landmarks.js';
import { planFusion, planGrowingRods, type Instrumentation, type PostopKind } from './plan.js';
import { renderMetal, type CompositeDetail, type SpineFilm } from './render.js';

/** Options of simulatePostop. */
export interface SimulatePostopOptions {
  readonly kind: PostopKind;
  /** Same film, landmarks, kind and seed give the same pixels. */
  readonly seed: number;
}

/** A simulated post-operative film. */
export interface SimulatedPostop {
  /** The film with metal, same size as the input, [0, 1], bone bright. */
  readonly image: SpineFilm;
  readonly instrumentation: Instrumentation;
  /** 1 where metal changed the film (opacity ≥ METAL_MASK_OPACITY), row-major. */
  readonly metalMask: Uint8Array;
  readonly composite: CompositeDetail;
}

/** Stream labels so the two kinds draw independently from one seed. */
const KIND_STREAM: Readonly<Record<PostopKind, number>> = Object.freeze({ fusion: 0x5f, 'growing-rod': 0x96 });

/**
 * Simulate a post-operative AP film.
 * @param film - a real pre-operative AP film, bone bright, values in [0, 1]
 * @param landmarks - its 17 vertebrae T1–L5 (corners in pixels; aasceLandmarks reads the AASCE form)
 * @param options - kind ('fusion' | 'growing-rod') and seed
 * @throws SpinePostopOptionsError for landmarks that are not T1–L5 inside the film, an unknown kind or a bad seed
 *
 * @example
 * const sim = simulatePostop(film, aasceLandmarks(norm, film.width, film.height), { kind: 'fusion', seed: 7 });
 * // sim.instrumentation.levels -> { upper: 'T4', lower: 'L1', anchored: [...], pattern: 'main-thoracic' }
 * // sim.instrumentation.screws.length ≈ 1.3–2 per level; sim.metalMask marks the metal
 */
export function simulatePostop(
  film: SpineFilm,
  landmarks: readonly VertebraLandmarks[],
  options: SimulatePostopOptions,
): SimulatedPostop {
  if (options.kind !== 'fusion' && options.kind !== 'growing-rod')
    throw new SpinePostopOptionsError(`kind must be 'fusion' or 'growing-rod', got '${String(options.kind)}'`);
  if (!Number.isFinite(options.seed)) throw new SpinePostopOptionsError(`seed ${options.seed} is not a finite number`);
  if (!(film.width >= 16 && film.height >= 16) || film.pixels.length !== film.width * film.height)
    throw new SpinePostopOptionsError(`film of ${film.width}×${film.height} with ${film.pixels.length} pixels is not a usable film`);
  const vertebrae = vertebraGeometry(landmarks, film.width, film.height);
  const r = new PhantomRandom(mixPhantomSeed(options.seed, KIND_STREAM[options.kind]));
  const instrumentation = options.kind === 'fusion' ? planFusion(vertebrae, r) : planGrowingRods(vertebrae, r);
  const { pixels, metalMask, detail } = renderMetal(film, instrumentation, r);
  return { image: { width: film.width, height: film.height, pixels }, instrumentation, metalMask, composite: detail };
}
