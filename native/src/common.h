// Shared helpers of the Physis libtorch addon: the tensor handle, argument decoding and error mapping.
// Thin layer by design (like tch-rs' torch-sys): every exported function unwraps handles, calls one ATen
// function, and wraps the result. Shapes, dtypes and autograd state live in libtorch, not here.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
// GradMode and NoGradGuard: ATen.h includes this in libtorch 1.13, not in 2.x
#include <ATen/core/grad_mode.h>
#include <cmath>
#include <cstdint>
#include <vector>

namespace physis {

/**
 * One libtorch tensor. JS holds its address as a plain Number (cheaper to create than an External with a finaliser);
 * `dispose` releases the tensor, and the Tensor's FinalizationRegistry entry calls `free` to delete the Handle.
 * `bytes` is what was reported to V8; `magic` lets error formatting recognise handles among number arguments.
 */
struct Handle {
  static constexpr uint64_t kMagic = 0x5048595349535448ULL;  // "PHYSISTH"
  uint64_t magic = kMagic;
  at::Tensor t;
  int64_t bytes = 0;
};

/** Error kinds understood by the TS layer (indices into the constructor table given at init). */
enum ErrorKind { kLibtorch = 0, kShape = 1, kDType = 2, kDevice = 3 };

Napi::Value wrap(Napi::Env env, at::Tensor t);
Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts);
void writeMeta(const at::Tensor& t);

inline Handle* H(const Napi::Value& v) {
  double d = 0;
  napi_get_value_double(v.Env(), v, &d);
  return reinterpret_cast<Handle*>(static_cast<uintptr_t>(d));
}
/** Whether a Number argument is the address of a live Handle (only used to format error messages). */
bool isHandle(const Napi::Value& v);
void releaseHandle(Napi::Env env, Handle* h);
inline at::Tensor& T(const Napi::Value& v) { return H(v)->t; }
inline bool isNullish(const Napi::Value& v) { return v.IsNull() || v.IsUndefined(); }
inline at::Tensor optT(const Napi::Value& v) { return isNullish(v) ? at::Tensor() : T(v); }
inline c10::optional<at::Tensor> optTensor(const Napi::Value& v) {
  if (isNullish(v)) return c10::nullopt;
  return T(v);
}
inline double num(const Napi::Value& v) {
  double d = 0;
  napi_get_value_double(v.Env(), v, &d);
  return d;
}
inline int64_t i64(const Napi::Value& v) { return static_cast<int64_t>(num(v)); }
inline bool boolean(const Napi::Value& v) {
  bool b = false;
  napi_get_value_bool(v.Env(), v, &b);
  return b;
}
std::vector<int64_t> ints(const Napi::Value& v);
std::vector<at::Tensor> tensors(const Napi::Value& v);

/** A JS number as the Scalar PyTorch would build from the equivalent Python literal for tensor `t`. */
inline at::Scalar scalarFor(const at::Tensor& t, double v) {
  if (!at::isFloatingType(t.scalar_type()) && std::floor(v) == v && std::fabs(v) < 9.0e15) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}

at::ScalarType dtypeOf(int code);
int dtypeCode(at::ScalarType s);
at::Device deviceOf(int code);

void throwError(const Napi::CallbackInfo& info, const char* op, const std::string& msg, int kind);
int classify(const std::string& msg);

void registerTensor(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
void registerNn(Napi::Env env, Napi::Object exports);
void registerAutograd(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);

}  // namespace physis

// Every exported function body sits between OP_BEGIN and OP_END: libtorch errors become JS exceptions
// (LibtorchError / ShapeError / DTypeError), never an abort.
#define OP_BEGIN(name)                                    \
  static Napi::Value name(const Napi::CallbackInfo& info) { \
    Napi::Env env = info.Env();                           \
    try {
#define OP_END(name)                                                                     \
  }                                                                                      \
  catch (const Napi::Error& e) {                                                         \
    e.ThrowAsJavaScriptException();                                                      \
  }                                                                                      \
  catch (const c10::Error& e) {                                                          \
    std::string m = e.what_without_backtrace();                                          \
    physis::throwError(info, #name, m, physis::classify(m));                             \
  }                                                                                      \
  catch (const std::exception& e) {                                                      \
    physis::throwError(info, #name, e.what(), physis::classify(e.what()));                        \
  }                                                                                      \
  return env.Undefined();                                                                \
  }
#define EXPORT(name) exports.Set(#name, Napi::Function::New(env, name, #name))
