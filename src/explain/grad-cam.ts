/**
 * Grad-CAM and CAM saliency maps for zoo models.
 *
 * Why: clinicians must see which parts of a film drove an estimate before they trust it.
 * Grad-CAM (Selvaraju et al., ICCV 2017) weighs each channel of the last convolutional feature map by
 * the spatial mean of the output's gradient with respect to it, sums, and keeps the positive part; it
 * works for every architecture of the zoo through `forwardFeatures`/`forwardHead`. CAM (Zhou et al.,
 * CVPR 2016) is the special case for a global-average-pool + linear head: the channel weights are the
 * linear layer's weights, no backward pass needed. For such heads the two maps are equal up to a
 * constant factor (the gradient of a GAP + linear head is w_c / (h·w) at every position).
 *
 * Regression heads: with a GAP head the output is the bias plus the spatial mean of the weighted map,
 * so for every image whose estimate is below the bias (the training-mean age) the whole map can be
 * negative and Grad-CAM's ReLU leaves nothing (measured: a 128-px regression model gave an empty map for
 * 2 of 3 films). For regression the default `relative` mode therefore min–max scales the weighted map
 * without the ReLU: it shows where the estimate was pushed up most relative to the rest of the image.
 * `positive` is the paper's ReLU form and the default for classification.
 *
 * Letterbox padding: a letterboxed input has constant bands that hold no anatomy, yet the network reacts to the hard
 * edge between film and band, and a min–max scale over the whole input then lets the padding set the colour range
 * (seen on the first shipped regression model: much of the hot area lay on the padding). With `region` the map is scaled on the
 * image content only and set to 0 on the padding, so the colours compare parts of the anatomy with each other.
 *
 * Stage: the map has the resolution of the feature map it weighs, and the last one is coarse (stride 32: 5×5 for a
 * 160-px ResNet input, where a suture is a few pixels wide). Selvaraju et al. note that Grad-CAM applies to any
 * convolutional layer and that earlier layers give finer, less class-specific maps; `stage` cuts the network at an
 * earlier stage (`ZooModel.forwardToStage`) and weighs that map with the gradient of the rest of the network.
 *
 * HiResCAM (Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural
 * networks", arXiv:2011.08891, 2020) multiplies the feature map by its gradient position by position before summing
 * over channels, instead of by the gradient's spatial mean. At the last map of a global-average-pool + linear head
 * the gradient is the same at every position, so the two maps are equal; at an earlier stage the rest of the
 * network weighs positions differently, and averaging the gradient first can light up places whose features the
 * output does not depend on. With a linear rest of the network the HiResCAM map sums to the output's change; it says
 * where the estimate came from, not only which channels mattered.
 */
import { F, noGrad, tidy, type Tensor } from '../torch/index.js';
import type { ZooModel } from '../models/index.js';
import { SaliencyError, SaliencyStageError } from './errors.js';

/** A saliency map at the input's resolution, scaled to [0, 1] (all zeros when it is flat or, in `positive` mode, nowhere positive). */
export interface SaliencyMap {
  readonly width: number;
  readonly height: number;
  /** `height * width` values, row-major, in [0, 1]. */
  readonly data: Float32Array;
  /** The explained output's value for this input (e.g. an estimated age in months). */
  readonly score: number;
  /** Feature-map size [h, w] the map was upsampled from. */
  readonly featureSize: readonly [number, number];
  /** How the map was scaled (see {@link SaliencyOptions.mode}). */
  readonly mode: 'positive' | 'relative';
}

/** How {@link gradCam} weighs the feature map by the gradient (see the file comment). */
export type SaliencyMethod = 'grad-cam' | 'hirescam';

/** Options of {@link gradCam} and {@link classActivationMap}. */
export interface SaliencyOptions {
  /** Extra head inputs [1, k] (e.g. sex). */
  readonly extra?: Tensor;
  /** Which output to explain; default 0. */
  readonly outputIndex?: number;
  /** `positive`: ReLU then divide by the maximum (Selvaraju et al.); `relative`: min–max of the signed map.
   * Default: `relative` for regression heads, `positive` for classification. */
  readonly mode?: 'positive' | 'relative';
  /** The part of the input that holds the image (a letterbox's content box), in input pixels: the map is scaled on
   * it and 0 outside it. Default: the whole input. */
  readonly region?: SaliencyRegion;
  /** {@link gradCam} only: `grad-cam` weighs each channel by its gradient's spatial mean (Selvaraju et al.);
   * `hirescam` multiplies each position by its own gradient (Draelos & Carin). Default `grad-cam`. */
  readonly method?: SaliencyMethod;
  /** {@link gradCam} only: the stage whose output is weighed, 1 … `model.featureStages` (ResNet: layer1 … layer4).
   * Default: the last feature map (`forwardFeatures`). An earlier stage gives a finer map (see the file comment). */
  readonly stage?: number;
}

/** A rectangle of the input in pixels (left, top, width, height). */
export interface SaliencyRegion {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function checkRegion(region: SaliencyRegion | undefined, height: number, width: number): SaliencyRegion {
  if (region === undefined) return { x: 0, y: 0, width, height };
  const { x, y } = region;
  const ok = [x, y, region.width, region.height].every(Number.isInteger) && x >= 0 && y >= 0 && region.width > 0 && region.height > 0;
  if (!ok || x + region.width > width || y + region.height > height) {
    throw new SaliencyError(
      `saliency region ${region.width}x${region.height} at (${x}, ${y}) is not a non-empty integer rectangle inside the ${width}x${height} input`,
    );
  }
  return region;
}

function checkInput(x: Tensor): [number, number] {
  if (x.rank !== 4 || x.shape[0] !== 1) {
    throw new SaliencyError(`saliency explains one image [1, C, H, W], got [${x.shape.join(', ')}]`);
  }
  return [x.shape[2] as number, x.shape[3] as number];
}

function finish(
  cam: Tensor,
  height: number,
  width: number,
  score: number,
  featureSize: [number, number],
  mode: 'positive' | 'relative',
  region: SaliencyRegion,
): SaliencyMap {
  const up = F.interpolate(cam, { size: [height, width], mode: 'bilinear', alignCorners: false });
  const data = (mode === 'positive' ? up.relu() : up).toFloat32Array();
  let max = mode === 'positive' ? 0 : Number.NEGATIVE_INFINITY;
  let min = mode === 'positive' ? 0 : Number.POSITIVE_INFINITY;
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const v = data[y * width + x] as number;
      if (v > max) max = v;
      if (v < min) min = v;
    }
  }
  const range = max - min;
  const scaled = new Float32Array(data.length);
  if (range > 0) {
    for (let y = region.y; y < region.y + region.height; y++) {
      for (let x = region.x; x < region.x + region.width; x++) {
        const i = y * width + x;
        scaled[i] = ((data[i] as number) - min) / range;
      }
    }
  }
  return { width, height, data: scaled, score, featureSize, mode };
}

function modeOf(model: ZooModel, o: SaliencyOptions): 'positive' | 'relative' {
  return o.mode ?? (model.head.kind === 'regression' ? 'relative' : 'positive');
}

function outputAt(out: Tensor, k: number): Tensor {
  const n = out.shape[1] ?? 0;
  if (!Number.isInteger(k) || k < 0 || k >= n) throw new SaliencyError(`output index ${k} is out of range for a model with ${n} outputs`);
  return out.index(0).index(k);
}

function checkStage(model: ZooModel, stage: number): void {
  if (model.featureStages === 0) {
    throw new SaliencyStageError(`${model.architecture}: Grad-CAM at stage ${stage} needs a model that can be cut at its stages; this architecture has only its last feature map (omit stage)`);
  }
  if (!Number.isInteger(stage) || stage < 1 || stage > model.featureStages) {
    throw new SaliencyStageError(`${model.architecture}: Grad-CAM stage ${stage} is not one of 1 … ${model.featureStages}`);
  }
}

/**
 * The `stage` option that maps `back` stages before the last feature map, or undefined (the last map) where the model
 * cannot be cut there or `back` is 0.
 * @param model - a zoo model
 * @param back - stages before the last (0: the last feature map)
 */
export function stageBeforeLast(model: ZooModel, back: number): number | undefined {
  return back > 0 && model.featureStages > back ? model.featureStages - back : undefined;
}

/**
 * Grad-CAM of one output for one image (Selvaraju et al. 2017), or HiResCAM with `method: 'hirescam'`.
 * Throws SaliencyStageError for a `stage` the model cannot be cut at.
 * @param model - a zoo model (put in eval mode for the call, then restored)
 * @param input - the image [1, C, H, W]
 * @param o - extra head inputs, the output index, the stage
 */
export function gradCam(model: ZooModel, input: Tensor, o: SaliencyOptions = {}): SaliencyMap {
  const [height, width] = checkInput(input);
  const region = checkRegion(o.region, height, width);
  const stage = o.stage;
  if (stage !== undefined) checkStage(model, stage);
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() => {
      const x = input.detach();
      const features = (stage === undefined ? model.forwardFeatures(x) : model.forwardToStage(x, stage)).retainGrad();
      const out = stage === undefined ? model.forwardHead(features, o.extra) : model.forwardFromStage(features, stage, o.extra);
      const score = outputAt(out, o.outputIndex ?? 0);
      score.backward();
      const grad = features.grad;
      if (grad === null) throw new SaliencyError('no gradient reached the feature map');
      const weights = o.method === 'hirescam' ? grad : grad.mean([2, 3], true);
      const cam = features.detach().mul(weights).sum(1, true);
      return finish(cam, height, width, score.item(), [features.shape[2] as number, features.shape[3] as number], modeOf(model, o), region);
    });
  } finally {
    for (const p of model.parameters()) p.setGrad(null);
    model.train(wasTraining);
  }
}

/**
 * Class activation map for a global-average-pool + linear head (Zhou et al. 2016): the feature map
 * weighted by the final linear layer's weights for the output. Extra inputs only shift the output and
 * do not enter the map.
 * @param model - a zoo model whose head is GAP + linear
 * @param input - the image [1, C, H, W]
 * @param o - extra head inputs (for the reported score) and the output index
 */
export function classActivationMap(model: ZooModel, input: Tensor, o: SaliencyOptions = {}): SaliencyMap {
  const [height, width] = checkInput(input);
  const region = checkRegion(o.region, height, width);
  // CAM's channel weights are the linear layer's, which exist for the last feature map only
  if (o.stage !== undefined && o.stage !== model.featureStages) throw new SaliencyStageError(`${model.architecture}: CAM weighs only the last feature map; use gradCam for stage ${o.stage}`);
  const weight = model.namedParameters().find(([name]) => name === `${model.headLinearName}.weight`)?.[1];
  if (!weight) throw new SaliencyError(`${model.architecture}: no '${model.headLinearName}.weight'; use gradCam`);
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() =>
      tidy(() => {
        const features = model.forwardFeatures(input);
        const score = outputAt(model.forwardHead(features, o.extra), o.outputIndex ?? 0).item();
        const c = model.numFeatures;
        const w = weight.index(o.outputIndex ?? 0).narrow(0, 0, c).reshape([1, c, 1, 1]);
        const cam = features.mul(w).sum(1, true);
        return finish(cam, height, width, score, [features.shape[2] as number, features.shape[3] as number], modeOf(model, o), region);
      }),
    );
  } finally {
    model.train(wasTraining);
  }
}
