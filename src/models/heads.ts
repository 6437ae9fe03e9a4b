/**
 * The task heads and the interface every zoo model shares: `forwardFeatures` (the last convolutional feature
 * map) and `forwardHead` (pool → optional extra scalars → linear → optional ReLU).
 *
 * Why this split: the four seed systems differ only in what sits after the backbone. Bone age from the hand
 * regresses months through global average pooling and one linear unit, kept non-negative by a ReLU (Larson et al.
 * 2018, Radiology 287:313; Halabi et al. 2019, the RSNA challenge); knee bone age concatenates sex and chronological
 * age to the pooled image features before the last layer; view classification is a plain softmax classifier.
 * Grad-CAM (Selvaraju et al. 2017) needs the last feature map and its gradient, which `forwardFeatures` exposes:
 *
 * ```ts
 * const maps = model.forwardFeatures(x).retainGrad();   // [N, C, h, w]
 * const score = model.forwardHead(maps).index(0).index(cls);
 * score.backward();                                     // maps.grad is now d score / d maps
 * ```
 *
 * Grad-CAM at an earlier stage (a finer map: ResNet's layer3 is 10×10 at 160 px where layer4 is 5×5) needs the
 * forward pass cut there instead; architectures that can be cut report `featureStages > 0` and implement
 * `forwardToStage`/`forwardFromStage`, where stage `featureStages` is the last feature map:
 *
 * ```ts
 * const h = model.forwardToStage(x, 3).retainGrad();      // ResNet: the output of layer3
 * const score = model.forwardFromStage(h, 3).index(0).index(cls);
 * ```
 *
 * The final linear layer keeps torchvision's name (`fc`, `classifier`, `classifier.1`, `classifier.2`, timm's
 * `classif`), so a classifier with 1000 classes loads ImageNet weights unchanged.
 */
import { F, Module, cat } from '../torch/index.js';
import type { Tensor } from '../torch/index.js';

/** What the head outputs. */
export type HeadSpec =
  | { readonly kind: 'classification'; readonly numClasses: number }
  | {
      readonly kind: 'regression';
      /** Number of regressed values (1 for bone age in months). */
      readonly outputs: number;
      /** Clamp the output at 0 with a ReLU, as the hand bone-age model does for ages. */
      readonly relu: boolean;
      /**
       * One set of outputs per value of an extra input (its values must be the integers 0 … groups − 1): the final
       * linear layer has `outputs × groups` units and each image takes the set its group selects. With sex as the
       * group this is one linear head per sex on the shared features — the head-level form of the hand paper's
       * sex-specific models (Larson et al. 2018), and equal in expressive power to FiLM (Perez et al. 2018) on the
       * pooled features, since a per-sex scale and shift of the features before one linear layer is a per-sex linear
       * layer.
       */
      readonly groupedBy?: { readonly extraIndex: number; readonly groups: number };
    };

/** Options every zoo factory accepts. */
export interface ModelOptions {
  /** Channels of the input image; 1 for radiographs (a 1-channel stem), 3 (default) for ImageNet. */
  readonly inChannels?: number;
  /** Shorthand for `head: { kind: 'classification', numClasses }`; default 1000 (ImageNet). */
  readonly numClasses?: number;
  /** The head; overrides `numClasses`. */
  readonly head?: HeadSpec;
  /** Number of extra scalar inputs (e.g. sex, chronological age) concatenated to the pooled features; default 0. */
  readonly extraInputs?: number;
  /** Dropout before the final linear layer; default the architecture's torchvision value. */
  readonly dropout?: number;
  /** Stochastic-depth rate of the deepest block (Huang et al. 2016); default the architecture's torchvision value. */
  readonly stochasticDepthProb?: number;
}

/** `ModelOptions` with every field decided. */
export interface ResolvedModelOptions {
  readonly inChannels: number;
  readonly head: HeadSpec;
  readonly extraInputs: number;
  readonly dropout: number;
  readonly stochasticDepthProb: number;
}

/** Options that cannot build a model (zero classes, negative dropout, …); the message names the option. */
export class ModelOptionsError extends Error {
  override name = 'ModelOptionsError';
}

/** An input of the wrong shape for a model (e.g. extra inputs missing or of the wrong width). */
export class ModelInputError extends Error {
  override name = 'ModelInputError';
}

/**
 * A stage the model cannot cut its forward pass at: an architecture without stages, or a stage outside
 * 1 … featureStages.
 */
export class FeatureStageError extends Error {
  override name = 'FeatureStageError';
}

/**
 * Fills in defaults and validates options.
 * @param arch - the architecture, named in errors
 * @param o - the caller's options
 * @param defaults - the architecture's torchvision dropout and stochastic-depth rate
 */
export function resolveModelOptions(
  arch: string,
  o: ModelOptions,
  defaults: { dropout: number; stochasticDepthProb: number },
): ResolvedModelOptions {
  const inChannels = o.inChannels ?? 3;
  const head: HeadSpec = o.head ?? { kind: 'classification', numClasses: o.numClasses ?? 1000 };
  const extraInputs = o.extraInputs ?? 0;
  const dropout = o.dropout ?? defaults.dropout;
  const stochasticDepthProb = o.stochasticDepthProb ?? defaults.stochasticDepthProb;
  const bad = (what: string): never => {
    throw new ModelOptionsError(`${arch}: ${what}`);
  };
  if (!Number.isInteger(inChannels) || inChannels < 1)
    bad(`inChannels must be a positive integer, got ${inChannels}`);
  const outputs = headOutputs(head);
  if (!Number.isInteger(outputs) || outputs < 1)
    bad(`the head must have at least one output, got ${outputs}`);
  if (!Number.isInteger(extraInputs) || extraInputs < 0)
    bad(`extraInputs must be an integer >= 0, got ${extraInputs}`);
  if (head.kind === 'regression' && head.groupedBy !== undefined) {
    const { extraIndex, groups } = head.groupedBy;
    if (!Number.isInteger(groups) || groups < 2) bad(`head.groupedBy.groups must be an integer >= 2, got ${groups}`);
    if (!Number.isInteger(extraIndex) || extraIndex < 0 || extraIndex >= extraInputs) {
      bad(`head.groupedBy.extraIndex must name one of the ${extraInputs} extra input(s), got ${extraIndex}`);
    }
  }
  if (!(dropout >= 0 && dropout < 1)) bad(`dropout must be in [0, 1), got ${dropout}`);
  if (!(stochasticDepthProb >= 0 && stochasticDepthProb < 1)) {
    bad(`stochasticDepthProb must be in [0, 1), got ${stochasticDepthProb}`);
  }
  return { inChannels, head, extraInputs, dropout, stochasticDepthProb };
}

/** Number of values the head outputs per image. @param head - the head */
export function headOutputs(head: HeadSpec): number {
  return head.kind === 'classification' ? head.numClasses : head.outputs;
}

/** Units of the final linear layer: the outputs, times the groups of a grouped head. @param head - the head */
export function headLinearOutputs(head: HeadSpec): number {
  return head.kind === 'regression' && head.groupedBy !== undefined ? head.outputs * head.groupedBy.groups : headOutputs(head);
}

/**
 * Each row's set of outputs, chosen by its group value: the sum over groups of (group's outputs × [value = g]), which
 * exports to ONNX as Equal, Cast, Mul and Add.
 * @param out - [N, outputs × groups], group-major
 * @param group - [N], the group of each row (0 … groups − 1)
 */
function selectGroup(out: Tensor, group: Tensor, outputs: number, groups: number): Tensor {
  let chosen: Tensor | null = null;
  for (let g = 0; g < groups; g++) {
    const term = out.narrow(1, g * outputs, outputs).mul(group.eq(g).to('float32').unsqueeze(1));
    chosen = chosen === null ? term : chosen.add(term);
  }
  return chosen as Tensor;
}

/**
 * A model of the zoo: a backbone that ends in a convolutional feature map, and a head.
 * `call(x)` or `call(x, extra)` runs both; Grad-CAM uses the two halves separately (see the module comment).
 */
export abstract class ZooModel extends Module {
  /** Registry name, e.g. `densenet121`. */
  abstract readonly architecture: string;
  /** Dotted name of the stem convolution's weight (the one `inChannels` changes), e.g. `conv1.weight`. */
  abstract readonly stemWeightKey: string;
  /** Dotted name of the final linear layer, e.g. `fc` or `classifier.1`. */
  abstract readonly headLinearName: string;
  /** Channels of the last feature map (the pooled feature width before extra inputs). */
  abstract readonly numFeatures: number;

  /** @param options - resolved options (see `resolveModelOptions`) */
  protected constructor(readonly options: ResolvedModelOptions) {
    super();
  }

  /** Input channels of the stem. */
  get inChannels(): number {
    return this.options.inChannels;
  }

  /** The head this model was built with. */
  get head(): HeadSpec {
    return this.options.head;
  }

  /** Number of extra scalar inputs the head expects. */
  get extraInputs(): number {
    return this.options.extraInputs;
  }

  /**
   * The last convolutional feature map, the input of global pooling (what Grad-CAM weighs).
   * @param x - images [N, inChannels, H, W]
   * @returns [N, numFeatures, h, w]
   */
  abstract forwardFeatures(x: Tensor): Tensor;

  /**
   * The head on a feature map from `forwardFeatures`.
   * @param features - [N, numFeatures, h, w]
   * @param extra - [N, extraInputs] when the model has extra inputs
   * @returns [N, outputs]
   */
  abstract forwardHead(features: Tensor, extra?: Tensor): Tensor;

  /**
   * Number of stages at which the forward pass can be cut (ResNet: 4, after layer1 … layer4); 0 when the
   * architecture does not implement the cut. Stage `featureStages` is the map `forwardFeatures` returns.
   */
  get featureStages(): number {
    return 0;
  }

  /**
   * The forward pass up to the output of a stage.
   * @param x - images [N, inChannels, H, W]
   * @param stage - 1 … featureStages
   * @returns [N, C_stage, h_stage, w_stage]; at stage `featureStages` the same as `forwardFeatures(x)`
   */
  forwardToStage(x: Tensor, stage: number): Tensor {
    void x;
    throw this.stageError(stage);
  }

  /**
   * The rest of the forward pass from the output of a stage: `forwardFromStage(forwardToStage(x, s), s, extra)`
   * equals `call(x, extra)`.
   * @param h - from `forwardToStage(x, stage)`
   * @param stage - 1 … featureStages
   * @param extra - [N, extraInputs] when the model has extra inputs
   */
  forwardFromStage(h: Tensor, stage: number, extra?: Tensor): Tensor {
    void h;
    void extra;
    throw this.stageError(stage);
  }

  /** The error for a stage this model cannot cut at. @param stage - the stage asked for */
  protected stageError(stage: number): FeatureStageError {
    return new FeatureStageError(
      this.featureStages === 0
        ? `${this.architecture}: cannot cut the forward pass at stage ${stage}; this architecture exposes only its last feature map`
        : `${this.architecture}: stage ${stage} is not one of 1 … ${this.featureStages}`,
    );
  }

  /** Throws FeatureStageError unless `stage` is an integer in 1 … featureStages. @param stage - the stage asked for */
  protected checkStage(stage: number): void {
    if (!Number.isInteger(stage) || stage < 1 || stage > this.featureStages) throw this.stageError(stage);
  }

  /** Features then head. Call through `call(x, extra?)`. @param x - images; @param extra - extra scalars */
  forward(x: Tensor, extra?: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x), extra);
  }

  /**
   * The shared tail of every head: dropout on the pooled features, the extra scalars concatenated, the final
   * linear layer, and the ReLU of a non-negative regression.
   * @param pooled - [N, numFeatures]
   * @param extra - [N, extraInputs] or undefined
   * @param linear - the final linear layer (in features numFeatures + extraInputs)
   */
  protected applyHead(pooled: Tensor, extra: Tensor | undefined, linear: Module): Tensor {
    let h = this.options.dropout > 0 ? F.dropout(pooled, this.options.dropout, this.training) : pooled;
    const want = this.options.extraInputs;
    if (want > 0) {
      if (extra === undefined) {
        throw new ModelInputError(
          `${this.architecture}: the head expects ${want} extra input(s) [N, ${want}], got none`,
        );
      }
      const n = pooled.shape[0];
      if (extra.rank !== 2 || extra.shape[0] !== n || extra.shape[1] !== want) {
        throw new ModelInputError(
          `${this.architecture}: extra inputs must be [${n}, ${want}], got [${extra.shape.join(', ')}]`,
        );
      }
      h = cat([h, extra.dtype === 'float32' ? extra : extra.to('float32')], 1);
    } else if (extra !== undefined) {
      throw new ModelInputError(
        `${this.architecture}: extra inputs [${extra.shape.join(', ')}] given, but the model was built with extraInputs: 0`,
      );
    }
    let out = linear.call(h);
    const head = this.options.head;
    if (head.kind === 'regression' && head.groupedBy !== undefined && extra !== undefined) {
      out = selectGroup(out, extra.select(1, head.groupedBy.extraIndex), head.outputs, head.groupedBy.groups);
    }
    return head.kind === 'regression' && head.relu ? F.relu(out) : out;
  }
}
