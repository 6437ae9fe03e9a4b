/**
 * The sample module of suitability-gate loaders (run inside data-loader workers): read the film, reduce its display
 * image (cached per worker), apply the labelled transform (quarter turns, mirror, inversion), prepare it as the gate
 * does at inference, augment it when training, and return `image` and `target`: one class index per head group
 * (anatomy, view, modality, orientation, polarity, laterality), −1 where the group does not apply to the film.
 *
 * Why the transform here: orientation, polarity and laterality are learned from what was done to the film, so the
 * label and the pixels must come from the same draw. Training passes draw it at random; other passes use a fixed
 * transform per film (from its path), so dev metrics compare across epochs; finalisation may name the transform.
 */
import type { AugmentationConfig, Reorientation } from '../../preprocess/index.js';
import { readRadiograph } from '../../radiograph/index.js';
import { preparedOnce, shownPixels, type Sample, type SampleContext } from '../../train/index.js';
import { ANATOMY, LATERALITY, MODALITY, TRANSFORM_RATES, VIEW, type Anatomy, type ImageModality, type LateralityAsSeen, type View } from './config.js';
import { gateDisplay, gateInput } from './gate-input.js';
import { fnv1a } from './labels.js';

/** One item as the loader sends it to a worker. */
export interface SuitabilityLoaderItem {
  readonly path: string;
  readonly anatomy: Anatomy;
  readonly view: View | null;
  readonly modality: ImageModality;
  readonly laterality: LateralityAsSeen | null;
  /** A fixed transform (finalisation's measurements); absent: random when training, fixed per path otherwise. */
  readonly transform?: Reorientation;
}

/** Options of this sample module. */
export interface SuitabilitySampleOptions {
  readonly size: number;
  readonly augmentation: AugmentationConfig | null;
  readonly cache: boolean;
}

/** A fixed pseudo-random stream from a string (xorshift seeded by its FNV-1a hash). */
function fixedStream(key: string): () => number {
  let x = fnv1a(key) || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/**
 * Draw a transform at the configured rates.
 * @param u - uniform [0, 1) numbers
 */
export function drawTransform(u: () => number): Reorientation {
  const turned = u() < TRANSFORM_RATES.turned;
  const quarterTurns = turned ? 1 + Math.min(2, Math.floor(u() * 3)) : 0;
  return { quarterTurns, invert: u() < TRANSFORM_RATES.inverted, mirror: u() < TRANSFORM_RATES.mirrored };
}

/**
 * The transform of a film in passes that are not training (dev evaluation, finalisation): fixed per path, drawn at the
 * training rates, so dev metrics compare across epochs.
 * @param path - the film's path
 */
export function evaluationTransform(path: string): Reorientation {
  return drawTransform(fixedStream(path));
}

/**
 * The head targets of a film after a transform: orientation and polarity are learned on radiographs only (an
 * ultrasound frame or a photograph has no "bone bright"), laterality where the source says the side.
 * @param it - the film's labels
 * @param t - what was done to it
 */
export function targetsOf(it: Pick<SuitabilityLoaderItem, 'anatomy' | 'view' | 'modality' | 'laterality'>, t: Reorientation): Float32Array {
  const radiograph = it.modality === 'radiograph';
  const side = it.laterality === null ? -1 : LATERALITY.indexOf(it.laterality);
  return Float32Array.from([
    ANATOMY.indexOf(it.anatomy),
    it.view === null ? -1 : VIEW.indexOf(it.view),
    MODALITY.indexOf(it.modality),
    radiograph ? t.quarterTurns : -1,
    radiograph ? (t.invert ? 1 : 0) : -1,
    side < 0 ? -1 : t.mirror ? 1 - side : side,
  ]);
}

/**
 * Load one sample.
 * @param item - a {@link SuitabilityLoaderItem}
 * @param context - random stream, train flag and the module options
 */
export async function loadSample(item: unknown, context: SampleContext): Promise<Sample> {
  const it = item as SuitabilityLoaderItem;
  const o = context.options as SuitabilitySampleOptions;
  const display = await preparedOnce(it.path, ['gate display', o.size], o.cache, async () => gateDisplay(await readRadiograph(it.path), o.size));
  const t = it.transform ?? (context.train ? drawTransform(() => context.rng.uniform(0, 1)) : evaluationTransform(it.path));
  return { image: shownPixels(gateInput(display, o.size, t).image, context, o.augmentation), target: targetsOf(it, t) };
}
