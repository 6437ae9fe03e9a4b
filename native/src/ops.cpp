// Tensor ops: broadcasting arithmetic, unary maths, comparisons, reductions, shape and view ops, joins.
#include "common.h"

namespace physis {

#define UNARY(name, expr)        \
  OP_BEGIN(name)                 \
    const at::Tensor& a = T(info[0]); \
    return wrap(env, expr);      \
  OP_END(name)

UNARY(neg, at::neg(a))
UNARY(abs, at::abs(a))
UNARY(sqrt, at::sqrt(a))
UNARY(rsqrt, at::rsqrt(a))
UNARY(exp, at::exp(a))
UNARY(log, at::log(a))
UNARY(contiguous, a.contiguous())
UNARY(clone, a.clone())
UNARY(detach, a.detach())
UNARY(maxAll, at::max(a))
UNARY(logicalNot, at::logical_not(a))

// binary(a, b): tensor ⊕ tensor with broadcasting
#define BINARY(name, fn)                               \
  OP_BEGIN(name)                                       \
    return wrap(env, fn(T(info[0]), T(info[1])));      \
  OP_END(name)
BINARY(add, at::add)
BINARY(sub, at::sub)
BINARY(mul, at::mul)
BINARY(div, at::div)
BINARY(eq, at::eq)
BINARY(gt, at::gt)
BINARY(lt, at::lt)
BINARY(ge, at::ge)
BINARY(le, at::le)
BINARY(matmul, at::matmul)
BINARY(maximum, at::maximum)
BINARY(minimum, at::minimum)

// binaryScalar(a, number)
#define BINARY_S(name, fn)                                         \
  OP_BEGIN(name)                                                   \
    const at::Tensor& a = T(info[0]);                              \
    return wrap(env, fn(a, scalarFor(a, num(info[1]))));           \
  OP_END(name)
BINARY_S(addScalar, at::add)
BINARY_S(subScalar, at::sub)
BINARY_S(mulScalar, at::mul)
BINARY_S(divScalar, at::div)
BINARY_S(eqScalar, at::eq)
BINARY_S(gtScalar, at::gt)
BINARY_S(ltScalar, at::lt)
BINARY_S(geScalar, at::ge)
BINARY_S(leScalar, at::le)
BINARY_S(powScalar, at::pow)

// rsubScalar(a, s) = s - a
OP_BEGIN(rsubScalar)
  const at::Tensor& a = T(info[0]);
  return wrap(env, at::rsub(a, scalarFor(a, num(info[1]))));
OP_END(rsubScalar)

// clamp(a, min|null, max|null)
OP_BEGIN(clamp)
  const at::Tensor& a = T(info[0]);
  c10::optional<at::Scalar> lo, hi;
  if (!isNullish(info[1])) lo = scalarFor(a, num(info[1]));
  if (!isNullish(info[2])) hi = scalarFor(a, num(info[2]));
  return wrap(env, at::clamp(a, lo, hi));
OP_END(clamp)

OP_BEGIN(where)
  return wrap(env, at::where(T(info[0]), T(info[1]), T(info[2])));
OP_END(where)

// In place; return nothing (the JS wrapper returns `this`).
OP_BEGIN(copy_)
  T(info[0]).copy_(T(info[1]));
  return env.Undefined();
OP_END(copy_)
// Swap a leaf's storage for another tensor's (torch.Tensor.data = ...): moves a parameter between devices while the
// JS object, its autograd identity and the optimiser's reference stay the same.
OP_BEGIN(setData_)
  T(info[0]).set_data(T(info[1]));
  return env.Undefined();
OP_END(setData_)
OP_BEGIN(fill_)
  at::Tensor& a = T(info[0]);
  a.fill_(scalarFor(a, num(info[1])));
  return env.Undefined();
OP_END(fill_)
OP_BEGIN(zero_)
  T(info[0]).zero_();
  return env.Undefined();
OP_END(zero_)
OP_BEGIN(mulScalar_)
  at::Tensor& a = T(info[0]);
  a.mul_(scalarFor(a, num(info[1])));
  return env.Undefined();
OP_END(mulScalar_)
OP_BEGIN(addScalar_)
  at::Tensor& a = T(info[0]);
  a.add_(scalarFor(a, num(info[1])));
  return env.Undefined();
OP_END(addScalar_)
// add_(a, b, alpha)
OP_BEGIN(add_)
  at::Tensor& a = T(info[0]);
  a.add_(T(info[1]), scalarFor(a, num(info[2])));
  return env.Undefined();
OP_END(add_)
OP_BEGIN(mul_)
  T(info[0]).mul_(T(info[1]));
  return env.Undefined();
OP_END(mul_)
OP_BEGIN(clamp_)
  at::Tensor& a = T(info[0]);
  c10::optional<at::Scalar> lo, hi;
  if (!isNullish(info[1])) lo = scalarFor(a, num(info[1]));
  if (!isNullish(info[2])) hi = scalarFor(a, num(info[2]));
  a.clamp_(lo, hi);
  return env.Undefined();
OP_END(clamp_)
// normal_(a, mean, std) / uniform_(a, from, to) / erfinv_(a): initialisers, always outside autograd
OP_BEGIN(normal_)
  at::NoGradGuard g;
  T(info[0]).normal_(num(info[1]), num(info[2]));
  return env.Undefined();
OP_END(normal_)
OP_BEGIN(uniform_)
  at::NoGradGuard g;
  T(info[0]).uniform_(num(info[1]), num(info[2]));
  return env.Undefined();
OP_END(uniform_)
OP_BEGIN(erfinv_)
  at::NoGradGuard g;
  T(info[0]).erfinv_();
  return env.Undefined();
OP_END(erfinv_)

// Reductions. sum/mean(a, dims|null, keepDim): null dims reduces everything.
OP_BEGIN(sum)
  const at::Tensor& a = T(info[0]);
  if (isNullish(info[1])) return wrap(env, boolean(info[2]) ? a.sum(at::IntArrayRef{}, true) : a.sum());
  return wrap(env, at::sum(a, ints(info[1]), boolean(info[2])));
OP_END(sum)
OP_BEGIN(mean)
  const at::Tensor& a = T(info[0]);
  if (isNullish(info[1])) return wrap(env, a.mean());
  return wrap(env, at::mean(a, ints(info[1]), boolean(info[2])));
OP_END(mean)
// maxDim(a, dim, keepDim) -> [values, indices]
OP_BEGIN(maxDim)
  auto r = at::max(T(info[0]), i64(info[1]), boolean(info[2]));
  return wrapList(env, {std::get<0>(r), std::get<1>(r)});
OP_END(maxDim)
OP_BEGIN(argmax)
  return wrap(env, at::argmax(T(info[0]), i64(info[1]), boolean(info[2])));
OP_END(argmax)

// Shape and views.
OP_BEGIN(reshape)
  return wrap(env, T(info[0]).reshape(ints(info[1])));
OP_END(reshape)
OP_BEGIN(view)
  return wrap(env, T(info[0]).view(ints(info[1])));
OP_END(view)
OP_BEGIN(flatten)
  return wrap(env, T(info[0]).flatten(i64(info[1]), i64(info[2])));
OP_END(flatten)
OP_BEGIN(permute)
  return wrap(env, T(info[0]).permute(ints(info[1])));
OP_END(permute)
OP_BEGIN(transpose)
  return wrap(env, T(info[0]).transpose(i64(info[1]), i64(info[2])));
OP_END(transpose)
// squeeze(a, dim|null)
OP_BEGIN(squeeze)
  const at::Tensor& a = T(info[0]);
  return wrap(env, isNullish(info[1]) ? a.squeeze() : a.squeeze(i64(info[1])));
OP_END(squeeze)
OP_BEGIN(unsqueeze)
  return wrap(env, T(info[0]).unsqueeze(i64(info[1])));
OP_END(unsqueeze)
OP_BEGIN(expand)
  return wrap(env, T(info[0]).expand(ints(info[1])));
OP_END(expand)
OP_BEGIN(narrow)
  return wrap(env, T(info[0]).narrow(i64(info[1]), i64(info[2]), i64(info[3])));
OP_END(narrow)
// select(a, dim, index)
OP_BEGIN(select)
  return wrap(env, T(info[0]).select(i64(info[1]), i64(info[2])));
OP_END(select)
OP_BEGIN(indexSelect)
  return wrap(env, at::index_select(T(info[0]), i64(info[1]), T(info[2])));
OP_END(indexSelect)
OP_BEGIN(cat)
  return wrap(env, at::cat(tensors(info[0]), i64(info[1])));
OP_END(cat)
OP_BEGIN(stack)
  return wrap(env, at::stack(tensors(info[0]), i64(info[1])));
OP_END(stack)
// split(a, sizes[], dim) -> list (split_with_sizes)
OP_BEGIN(split)
  return wrapList(env, at::split_with_sizes(T(info[0]), ints(info[1]), i64(info[2])));
OP_END(split)

void registerOps(Napi::Env env, Napi::Object exports) {
  EXPORT(neg); EXPORT(abs); EXPORT(sqrt); EXPORT(rsqrt); EXPORT(exp); EXPORT(log); EXPORT(contiguous);
  EXPORT(clone); EXPORT(detach); EXPORT(maxAll); EXPORT(logicalNot);
  EXPORT(add); EXPORT(sub); EXPORT(mul); EXPORT(div); EXPORT(eq); EXPORT(gt); EXPORT(lt); EXPORT(ge); EXPORT(le);
  EXPORT(matmul); EXPORT(maximum); EXPORT(minimum);
  EXPORT(addScalar); EXPORT(subScalar); EXPORT(mulScalar); EXPORT(divScalar); EXPORT(eqScalar); EXPORT(gtScalar);
  EXPORT(ltScalar); EXPORT(geScalar); EXPORT(leScalar); EXPORT(powScalar); EXPORT(rsubScalar); EXPORT(clamp);
  EXPORT(where); EXPORT(copy_); EXPORT(setData_); EXPORT(fill_); EXPORT(zero_); EXPORT(mulScalar_); EXPORT(addScalar_); EXPORT(add_);
  EXPORT(mul_); EXPORT(clamp_); EXPORT(normal_); EXPORT(uniform_); EXPORT(erfinv_);
  EXPORT(sum); EXPORT(mean); EXPORT(maxDim); EXPORT(argmax);
  EXPORT(reshape); EXPORT(view); EXPORT(flatten); EXPORT(permute); EXPORT(transpose); EXPORT(squeeze);
  EXPORT(unsqueeze); EXPORT(expand); EXPORT(narrow); EXPORT(select); EXPORT(indexSelect); EXPORT(cat); EXPORT(stack);
  EXPORT(split);
}

}  // namespace physis
