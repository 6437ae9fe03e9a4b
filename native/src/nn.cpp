// Neural-network ops: convolution, linear, normalisation, activations, pooling, resampling, padding, losses.
#include "common.h"

namespace physis {

#define UNARY(name, expr)             \
  OP_BEGIN(name)                      \
    const at::Tensor& a = T(info[0]); \
    return wrap(env, expr);           \
  OP_END(name)

UNARY(relu, at::relu(a))
UNARY(relu6, at::hardtanh(a, 0, 6))
UNARY(silu, at::silu(a))
UNARY(gelu, at::gelu(a))  // exact erf form, PyTorch's default approximate='none'
UNARY(sigmoid, at::sigmoid(a))
UNARY(tanh, at::tanh(a))
UNARY(hardswish, at::hardswish(a))
UNARY(hardsigmoid, at::hardsigmoid(a))

// relu_(x): in place, like torchvision's ReLU(inplace=True) (saves one activation-sized allocation)
OP_BEGIN(relu_)
  at::relu_(T(info[0]));
  return env.Undefined();
OP_END(relu_)

// conv2d(x, w, b|null, stride[2], padding[2], dilation[2], groups)
OP_BEGIN(conv2d)
  return wrap(env, at::conv2d(T(info[0]), T(info[1]), optTensor(info[2]), ints(info[3]), ints(info[4]), ints(info[5]),
                              i64(info[6])));
OP_END(conv2d)

// linear(x, w, b|null)
OP_BEGIN(linear)
  return wrap(env, at::linear(T(info[0]), T(info[1]), optTensor(info[2])));
OP_END(linear)

// batchNorm(x, runningMean|null, runningVar|null, weight|null, bias|null, training, momentum, eps)
OP_BEGIN(batchNorm)
  return wrap(env, at::batch_norm(T(info[0]), optTensor(info[3]), optTensor(info[4]), optTensor(info[1]),
                                  optTensor(info[2]), boolean(info[5]), num(info[6]), num(info[7]),
                                  at::globalContext().userEnabledCuDNN()));
OP_END(batchNorm)

// layerNorm(x, normalizedShape, weight|null, bias|null, eps)
OP_BEGIN(layerNorm)
  return wrap(env, at::layer_norm(T(info[0]), ints(info[1]), optTensor(info[2]), optTensor(info[3]), num(info[4])));
OP_END(layerNorm)

// groupNorm(x, groups, weight|null, bias|null, eps)
OP_BEGIN(groupNorm)
  return wrap(env, at::group_norm(T(info[0]), i64(info[1]), optTensor(info[2]), optTensor(info[3]), num(info[4])));
OP_END(groupNorm)

OP_BEGIN(softmax)
  return wrap(env, at::softmax(T(info[0]), i64(info[1])));
OP_END(softmax)
OP_BEGIN(logSoftmax)
  return wrap(env, at::log_softmax(T(info[0]), i64(info[1])));
OP_END(logSoftmax)

// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
OP_BEGIN(maxPool2d)
  return wrap(env, at::max_pool2d(T(info[0]), ints(info[1]), ints(info[2]), ints(info[3]), ints(info[4]),
                                  boolean(info[5])));
OP_END(maxPool2d)

// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
OP_BEGIN(avgPool2d)
  return wrap(env, at::avg_pool2d(T(info[0]), ints(info[1]), ints(info[2]), ints(info[3]), boolean(info[4]),
                                  boolean(info[5])));
OP_END(avgPool2d)

OP_BEGIN(adaptiveAvgPool2d)
  return wrap(env, at::adaptive_avg_pool2d(T(info[0]), ints(info[1])));
OP_END(adaptiveAvgPool2d)

// upsampleBilinear2d(x, size[2], alignCorners, scaleH|null, scaleW|null)
OP_BEGIN(upsampleBilinear2d)
  c10::optional<double> sh, sw;
  if (!isNullish(info[3])) sh = num(info[3]);
  if (!isNullish(info[4])) sw = num(info[4]);
  return wrap(env, at::upsample_bilinear2d(T(info[0]), ints(info[1]), boolean(info[2]), sh, sw));
OP_END(upsampleBilinear2d)

// upsampleNearest2d(x, size[2], scaleH|null, scaleW|null)
OP_BEGIN(upsampleNearest2d)
  c10::optional<double> sh, sw;
  if (!isNullish(info[2])) sh = num(info[2]);
  if (!isNullish(info[3])) sw = num(info[3]);
  return wrap(env, at::upsample_nearest2d(T(info[0]), ints(info[1]), sh, sw));
OP_END(upsampleNearest2d)

// affineGrid(theta [N,2,3], size [N,C,H,W], alignCorners): sampling grid [N,H,W,2] in normalised coordinates
// (torch.nn.functional.affine_grid)
OP_BEGIN(affineGrid)
  return wrap(env, at::affine_grid_generator(T(info[0]), ints(info[1]), boolean(info[2])));
OP_END(affineGrid)

// gridSample(x [N,C,H,W], grid [N,Ho,Wo,2], mode 0 bilinear | 1 nearest | 2 bicubic,
//            padding 0 zeros | 1 border | 2 reflection, alignCorners) (torch.nn.functional.grid_sample)
OP_BEGIN(gridSample)
  return wrap(env, at::grid_sampler(T(info[0]), T(info[1]), i64(info[2]), i64(info[3]), boolean(info[4])));
OP_END(gridSample)

// pad(x, pads, mode 0 constant | 1 reflect | 2 replicate, value)
OP_BEGIN(pad)
  const at::Tensor& x = T(info[0]);
  const auto p = ints(info[1]);
  const int mode = static_cast<int>(num(info[2]));
  if (mode == 0) return wrap(env, at::constant_pad_nd(x, p, num(info[3])));
  const size_t n = p.size();
  if (mode == 1) {
    if (n == 2) return wrap(env, at::reflection_pad1d(x, p));
    if (n == 4) return wrap(env, at::reflection_pad2d(x, p));
    if (n == 6) return wrap(env, at::reflection_pad3d(x, p));
  } else {
    if (n == 2) return wrap(env, at::replication_pad1d(x, p));
    if (n == 4) return wrap(env, at::replication_pad2d(x, p));
    if (n == 6) return wrap(env, at::replication_pad3d(x, p));
  }
  throw std::invalid_argument("reflect/replicate padding takes 2, 4 or 6 pad values, got " + std::to_string(n));
OP_END(pad)

OP_BEGIN(dropout)
  return wrap(env, at::dropout(T(info[0]), num(info[1]), boolean(info[2])));
OP_END(dropout)

// Losses; reduction: 0 none, 1 mean, 2 sum (at::Reduction order).
OP_BEGIN(l1Loss)
  return wrap(env, at::l1_loss(T(info[0]), T(info[1]), i64(info[2])));
OP_END(l1Loss)
OP_BEGIN(mseLoss)
  return wrap(env, at::mse_loss(T(info[0]), T(info[1]), i64(info[2])));
OP_END(mseLoss)
// smoothL1Loss(a, b, reduction, beta)
OP_BEGIN(smoothL1Loss)
  return wrap(env, at::smooth_l1_loss(T(info[0]), T(info[1]), i64(info[2]), num(info[3])));
OP_END(smoothL1Loss)
// crossEntropy(logits, target, weight|null, reduction, ignoreIndex, labelSmoothing)
OP_BEGIN(crossEntropy)
  return wrap(env, at::cross_entropy_loss(T(info[0]), T(info[1]), optTensor(info[2]), i64(info[3]), i64(info[4]),
                                          num(info[5])));
OP_END(crossEntropy)
// bceWithLogits(logits, target, weight|null, posWeight|null, reduction)
OP_BEGIN(bceWithLogits)
  return wrap(env, at::binary_cross_entropy_with_logits(T(info[0]), T(info[1]), optTensor(info[2]),
                                                        optTensor(info[3]), i64(info[4])));
OP_END(bceWithLogits)

void registerNn(Napi::Env env, Napi::Object exports) {
  EXPORT(relu); EXPORT(relu_); EXPORT(relu6); EXPORT(silu); EXPORT(gelu); EXPORT(sigmoid); EXPORT(tanh); EXPORT(hardswish);
  EXPORT(hardsigmoid); EXPORT(conv2d); EXPORT(linear); EXPORT(batchNorm); EXPORT(layerNorm); EXPORT(groupNorm);
  EXPORT(softmax); EXPORT(logSoftmax); EXPORT(maxPool2d); EXPORT(avgPool2d); EXPORT(adaptiveAvgPool2d);
  EXPORT(upsampleBilinear2d); EXPORT(upsampleNearest2d); EXPORT(affineGrid); EXPORT(gridSample); EXPORT(pad); EXPORT(dropout); EXPORT(l1Loss);
  EXPORT(mseLoss); EXPORT(smoothL1Loss); EXPORT(crossEntropy); EXPORT(bceWithLogits);
}

}  // namespace physis
