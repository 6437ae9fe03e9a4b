/**
 * EfficientNet-V2-S and -M (Tan & Le 2021, "EfficientNetV2: Smaller Models and Faster Training", ICML) with
 * torchvision 0.14's module tree (the same `features.*` / `classifier.1` layout as V1; the early stages use the
 * fused MBConv). BatchNorm eps is 1e-3, as torchvision sets for V2.
 */
import { resolveModelOptions } from './heads.js';
import type { ModelOptions } from './heads.js';
import { EfficientNet } from './efficientnet.js';
import type { StageConfig } from './efficientnet.js';
import { batchNorm } from './layers.js';

/** A stage row [expandRatio, kernel, stride, inChannels, outChannels, numLayers] of Table 4 of the V2 paper. */
type Row = readonly [number, number, number, number, number, number];

function stage(block: StageConfig['block'], row: Row): StageConfig {
  const [expandRatio, kernel, stride, inChannels, outChannels, numLayers] = row;
  return { block, expandRatio, kernel, stride, inChannels, outChannels, numLayers };
}

/** EfficientNet-V2-S stages (torchvision `_efficientnet_conf("efficientnet_v2_s")`). */
const V2_S_STAGES: readonly StageConfig[] = [
  stage('fused', [1, 3, 1, 24, 24, 2]),
  stage('fused', [4, 3, 2, 24, 48, 4]),
  stage('fused', [4, 3, 2, 48, 64, 4]),
  stage('mbconv', [4, 3, 2, 64, 128, 6]),
  stage('mbconv', [6, 3, 1, 128, 160, 9]),
  stage('mbconv', [6, 3, 2, 160, 256, 15]),
];

/** EfficientNet-V2-M stages (torchvision `_efficientnet_conf("efficientnet_v2_m")`). */
const V2_M_STAGES: readonly StageConfig[] = [
  stage('fused', [1, 3, 1, 24, 24, 3]),
  stage('fused', [4, 3, 2, 24, 48, 5]),
  stage('fused', [4, 3, 2, 48, 80, 5]),
  stage('mbconv', [4, 3, 2, 80, 160, 7]),
  stage('mbconv', [6, 3, 1, 160, 176, 14]),
  stage('mbconv', [6, 3, 2, 176, 304, 18]),
  stage('mbconv', [6, 3, 1, 304, 512, 5]),
];

/** torchvision `efficientnet_v2_s`: dropout 0.2, stochastic depth 0.2, 1280 features, 21.5M parameters. */
export function efficientnetV2S(o: ModelOptions = {}): EfficientNet {
  const options = resolveModelOptions('efficientnet_v2_s', o, { dropout: 0.2, stochasticDepthProb: 0.2 });
  return new EfficientNet(
    'efficientnet_v2_s',
    { stages: V2_S_STAGES, lastChannels: 1280, norm: batchNorm(1e-3) },
    options,
  );
}

/** torchvision `efficientnet_v2_m`: dropout 0.3, stochastic depth 0.2, 1280 features, 54.1M parameters. */
export function efficientnetV2M(o: ModelOptions = {}): EfficientNet {
  const options = resolveModelOptions('efficientnet_v2_m', o, { dropout: 0.3, stochasticDepthProb: 0.2 });
  return new EfficientNet(
    'efficientnet_v2_m',
    { stages: V2_M_STAGES, lastChannels: 1280, norm: batchNorm(1e-3) },
    options,
  );
}
