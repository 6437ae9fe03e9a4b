/**
 * Loading reference (ImageNet) weights into zoo models built for radiographs: a 1-channel stem and a task head.
 *
 * Why: radiographs are grey, but published weights expect RGB. Summing the three input-channel kernels of the
 * stem convolution gives a 1-channel network whose output on a grey image equals the RGB network's output on that
 * image replicated to three channels (convolution is linear in the input) — the standard trick, as in timm's
 * `adapt_input_conv`. The head is task-specific and is dropped when its shape differs from the checkpoint's.
 */
import { noGrad } from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import type { ZooModel } from './heads.js';

/** Weights that cannot be adapted to a model (missing stem key, stem of an unexpected shape). */
export class PretrainedWeightsError extends Error {
  override name = 'PretrainedWeightsError';
}

/**
 * Adapts a state dict's stem convolution to the model's input channels. Returns a new map sharing every tensor
 * with `stateDict` except the adapted stem weight (a new tensor, the caller disposes it with the others).
 * - checkpoint channels = model channels: unchanged;
 * - 3 → 1: the RGB kernels summed;
 * - 3 → c (c ≠ 1): the summed kernel divided by c, replicated c times (same output on a grey image replicated
 *   to c channels).
 * @param stateDict - e.g. from `loadSafetensors` on torchvision weights
 * @param model - the target model (its `stemWeightKey` and `inChannels`)
 * @throws PretrainedWeightsError when the stem key is missing or its input channels are neither the model's nor 3
 */
export function adaptStemWeights(
  stateDict: ReadonlyMap<string, Tensor>,
  model: ZooModel,
): Map<string, Tensor> {
  const key = model.stemWeightKey;
  const stem = stateDict.get(key);
  if (stem === undefined) {
    throw new PretrainedWeightsError(`${model.architecture}: state dict has no stem weight '${key}'`);
  }
  const out = new Map(stateDict);
  const have = stem.shape[1];
  const want = model.inChannels;
  if (stem.rank !== 4 || have === undefined) {
    throw new PretrainedWeightsError(
      `${model.architecture}: stem '${key}' has shape [${stem.shape.join(', ')}], expected 4-D`,
    );
  }
  if (have === want) return out;
  if (have !== 3) {
    throw new PretrainedWeightsError(
      `${model.architecture}: stem '${key}' has ${have} input channels; can adapt only 3 → ${want}`,
    );
  }
  const adapted = noGrad(() => {
    const summed = stem.sum(1, true);
    if (want === 1) return summed;
    const shape = [stem.shape[0] ?? 0, want, stem.shape[2] ?? 0, stem.shape[3] ?? 0];
    return summed.div(want).expand(shape).contiguous();
  });
  out.set(key, adapted);
  return out;
}

/**
 * Loads reference weights for fine-tuning: adapts the stem (`adaptStemWeights`) and, when the model's head
 * differs in shape from the checkpoint's (another task, extra inputs), leaves the head at its fresh
 * initialisation. Every other key must match exactly (strict), so a wrong architecture fails naming the key.
 * @param model - the target model
 * @param stateDict - the reference state dict
 * @returns the head keys that were kept fresh (empty when the checkpoint's head was loaded)
 */
export function loadPretrained(model: ZooModel, stateDict: ReadonlyMap<string, Tensor>): string[] {
  const adapted = adaptStemWeights(stateDict, model);
  const own = model.stateDict();
  const headKeys = [`${model.headLinearName}.weight`, `${model.headLinearName}.bias`];
  const skipped: string[] = [];
  for (const k of headKeys) {
    const mine = own.get(k);
    const theirs = adapted.get(k);
    if (mine !== undefined && theirs !== undefined && !sameShape(mine.shape, theirs.shape)) {
      adapted.set(k, mine);
      skipped.push(k);
    }
  }
  try {
    model.loadStateDict(adapted);
  } finally {
    const stem = adapted.get(model.stemWeightKey);
    if (stem !== undefined && stem !== stateDict.get(model.stemWeightKey)) stem.dispose();
  }
  return skipped;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
