// Autograd entry points (backward, grad) and the optimiser updates, fused per parameter list in one call.
// The update formulas follow PyTorch 1.13's single-tensor (foreach=False) paths of torch.optim.AdamW
// (Loshchilov & Hutter 2019, decoupled weight decay) and torch.optim.SGD, so results match PyTorch numerically.
#include "common.h"

#include <torch/csrc/autograd/autograd.h>

namespace physis {

// backward(h, grad|null, retainGraph)
OP_BEGIN(backward)
  torch::autograd::variable_list outs{T(info[0])};
  torch::autograd::variable_list grads;
  if (!isNullish(info[1])) grads.push_back(T(info[1]));
  c10::optional<bool> retain;
  if (!isNullish(info[2])) retain = boolean(info[2]);
  torch::autograd::backward(outs, grads, retain, false);
  return env.Undefined();
OP_END(backward)

// autogradGrad(outputs[], inputs[], gradOutputs[]|null, retainGraph, createGraph, allowUnused) -> list
OP_BEGIN(autogradGrad)
  auto outs = tensors(info[0]);
  auto ins = tensors(info[1]);
  torch::autograd::variable_list gouts;
  if (!isNullish(info[2])) gouts = tensors(info[2]);
  c10::optional<bool> retain;
  if (!isNullish(info[3])) retain = boolean(info[3]);
  auto r = torch::autograd::grad(outs, ins, gouts, retain, boolean(info[4]), boolean(info[5]));
  Napi::Array a = Napi::Array::New(env, r.size());
  for (size_t i = 0; i < r.size(); ++i) a.Set(static_cast<uint32_t>(i), r[i].defined() ? wrap(env, r[i]) : env.Null());
  return a;
OP_END(autogradGrad)

// adamwStep(params[], expAvg[], expAvgSq[], steps: Float64Array, lr, beta1, beta2, eps, weightDecay)
// Parameters without a gradient are skipped and keep their step count, like PyTorch's per-parameter state.
OP_BEGIN(adamwStep)
  at::NoGradGuard ng;
  auto ps = tensors(info[0]);
  auto m = tensors(info[1]);
  auto v = tensors(info[2]);
  double* steps = info[3].As<Napi::Float64Array>().Data();
  const double lr = num(info[4]), b1 = num(info[5]), b2 = num(info[6]), eps = num(info[7]), wd = num(info[8]);
  for (size_t i = 0; i < ps.size(); ++i) {
    at::Tensor& p = ps[i];
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    const double step = ++steps[i];
    const double bc1 = 1 - std::pow(b1, step);
    const double bc2Sqrt = std::sqrt(1 - std::pow(b2, step));
    const double stepSize = lr / bc1;
    p.mul_(1 - lr * wd);
    m[i].mul_(b1).add_(g, 1 - b1);
    v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v[i].sqrt() / bc2Sqrt).add_(eps);
    p.addcdiv_(m[i], denom, -stepSize);
  }
  return env.Undefined();
OP_END(adamwStep)

// sgdStep(params[], buffers[], initialised: Uint8Array, lr, momentum, dampening, weightDecay, nesterov)
// A buffer not yet initialised takes the first d_p as is (torch.clone(d_p).detach()), as PyTorch does.
OP_BEGIN(sgdStep)
  at::NoGradGuard ng;
  auto ps = tensors(info[0]);
  auto bufs = tensors(info[1]);
  uint8_t* init = info[2].As<Napi::Uint8Array>().Data();
  const double lr = num(info[3]), mom = num(info[4]), damp = num(info[5]), wd = num(info[6]);
  const bool nesterov = boolean(info[7]);
  for (size_t i = 0; i < ps.size(); ++i) {
    at::Tensor& p = ps[i];
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    at::Tensor d = wd != 0 ? g.add(p, wd) : g;
    if (mom != 0) {
      at::Tensor& buf = bufs[i];
      if (!init[i]) {
        buf.copy_(d);
        init[i] = 1;
      } else {
        buf.mul_(mom).add_(d, 1 - damp);
      }
      d = nesterov ? d.add(buf, mom) : buf;
    }
    p.add_(d, -lr);
  }
  return env.Undefined();
OP_END(sgdStep)

// clipGradNorm(params[], maxNorm) -> total 2-norm before clipping (torch.nn.utils.clip_grad_norm_, 1.13)
OP_BEGIN(clipGradNorm)
  at::NoGradGuard ng;
  auto ps = tensors(info[0]);
  const double maxNorm = num(info[1]);
  std::vector<at::Tensor> norms;
  for (auto& p : ps) {
    if (p.grad().defined()) norms.push_back(at::linalg_vector_norm(p.grad().detach(), 2));
  }
  if (norms.empty()) return Napi::Number::New(env, 0);
  at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
  at::Tensor coef = at::clamp(maxNorm / (total + 1e-6), c10::nullopt, 1.0);
  for (auto& p : ps) {
    if (p.grad().defined()) p.mutable_grad().detach().mul_(coef);
  }
  return Napi::Number::New(env, total.item().toDouble());
OP_END(clipGradNorm)

void registerAutograd(Napi::Env env, Napi::Object exports) {
  EXPORT(backward); EXPORT(autogradGrad); EXPORT(adamwStep); EXPORT(sgdStep); EXPORT(clipGradNorm);
}

}  // namespace physis
