// Tensor lifetime, creation, read-back, dtype/device moves, and process-wide settings (seed, threads, grad mode).
#include "common.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <cstring>
#include <dlfcn.h>

namespace physis {
extern thread_local int64_t g_liveTensors;
extern thread_local int64_t g_nativeBytes;

static at::TensorOptions opts(const Napi::Value& dtype, const Napi::Value& device) {
  return at::TensorOptions().dtype(dtypeOf(static_cast<int>(num(dtype)))).device(deviceOf(static_cast<int>(num(device))));
}

static at::Tensor finish(at::Tensor t, const Napi::Value& rg) {
  if (boolean(rg)) t.requires_grad_(true);
  return t;
}

// fromData(typedArray, shape, dtype, device, requiresGrad)
OP_BEGIN(fromData)
  Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
  const auto shape = ints(info[1]);
  const at::ScalarType st = dtypeOf(static_cast<int>(num(info[2])));
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
  const size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
  if (ta.ByteLength() != nbytes) {
    throw std::invalid_argument("data has " + std::to_string(ta.ByteLength()) + " bytes, shape needs " +
                                std::to_string(nbytes));
  }
  uint8_t* src = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (nbytes) std::memcpy(t.data_ptr(), src, nbytes);
  if (num(info[3]) == 1) t = t.to(at::kCUDA);
  return wrap(env, finish(t, info[4]));
OP_END(fromData)

static Napi::Value bytesOf(Napi::Env env, at::Tensor t) {
  t = t.detach();
  if (!t.device().is_cpu()) t = t.to(at::kCPU);
  t = t.contiguous();
  const size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, nbytes);
  if (nbytes) std::memcpy(ab.Data(), t.data_ptr(), nbytes);
  return ab;
}

// toBytes(h) -> ArrayBuffer in the tensor's dtype, C order
OP_BEGIN(toBytes)
  return bytesOf(env, T(info[0]));
OP_END(toBytes)

// toFloat32Bytes(h) -> ArrayBuffer of float32
OP_BEGIN(toFloat32Bytes)
  return bytesOf(env, T(info[0]).detach().to(at::kFloat));
OP_END(toFloat32Bytes)

OP_BEGIN(item)
  const at::Tensor& t = T(info[0]);
  if (t.numel() != 1) throw std::invalid_argument("item() needs exactly one element, the tensor has size " + std::to_string(t.numel()));
  return Napi::Number::New(env, t.item().toDouble());
OP_END(item)

OP_BEGIN(meta)
  writeMeta(T(info[0]));
  return env.Undefined();
OP_END(meta)

// dispose(h): releases the tensor now; the Handle itself lives until free(h).
OP_BEGIN(dispose)
  releaseHandle(env, H(info[0]));
  return env.Undefined();
OP_END(dispose)

// free(h): called once per handle by the JS FinalizationRegistry (after the Tensor object is collected).
OP_BEGIN(free)
  Handle* h = H(info[0]);
  releaseHandle(env, h);
  h->magic = 0;
  delete h;
  return env.Undefined();
OP_END(free)

// zeros/ones/empty/randn/rand(shape, dtype, device, requiresGrad)
#define CREATE(name, fn)                                           \
  OP_BEGIN(name)                                                   \
    return wrap(env, finish(fn(ints(info[0]), opts(info[1], info[2])), info[3])); \
  OP_END(name)
CREATE(zeros, at::zeros)
CREATE(ones, at::ones)
CREATE(empty, at::empty)
CREATE(randn, at::randn)
CREATE(rand, at::rand)

// full(shape, value, dtype, device, requiresGrad)
OP_BEGIN(full)
  auto o = opts(info[2], info[3]);
  const double v = num(info[1]);
  at::Scalar s = at::isFloatingType(o.dtype().toScalarType()) ? at::Scalar(v) : o.dtype().toScalarType() == at::kBool ? at::Scalar(v != 0) : at::Scalar(static_cast<int64_t>(v));
  return wrap(env, finish(at::full(ints(info[0]), s, o), info[4]));
OP_END(full)

// arange(start, end, step, dtype, device)
OP_BEGIN(arange)
  auto o = opts(info[3], info[4]);
  return wrap(env, at::arange(at::Scalar(num(info[0])), at::Scalar(num(info[1])), at::Scalar(num(info[2])), o));
OP_END(arange)

// bernoulli(shape, p, dtype, device) — fresh tensor of Bernoulli(p) samples
OP_BEGIN(bernoulli)
  at::Tensor t = at::empty(ints(info[0]), opts(info[2], info[3]));
  t.bernoulli_(num(info[1]));
  return wrap(env, t);
OP_END(bernoulli)

OP_BEGIN(toDType)
  return wrap(env, T(info[0]).to(dtypeOf(static_cast<int>(num(info[1])))));
OP_END(toDType)

OP_BEGIN(toDevice)
  return wrap(env, T(info[0]).to(deviceOf(static_cast<int>(num(info[1])))));
OP_END(toDevice)

OP_BEGIN(requiresGrad)
  return Napi::Boolean::New(env, T(info[0]).requires_grad());
OP_END(requiresGrad)

OP_BEGIN(setRequiresGrad)
  T(info[0]).requires_grad_(boolean(info[1]));
  return env.Undefined();
OP_END(setRequiresGrad)

OP_BEGIN(grad)
  const at::Tensor& g = T(info[0]).grad();
  if (!g.defined()) return env.Null();
  return wrap(env, g);
OP_END(grad)

OP_BEGIN(setGrad)
  at::Tensor& t = T(info[0]);
  t.mutable_grad() = isNullish(info[1]) ? at::Tensor() : T(info[1]);
  return env.Undefined();
OP_END(setGrad)

OP_BEGIN(retainGrad)
  T(info[0]).retain_grad();
  return env.Undefined();
OP_END(retainGrad)

OP_BEGIN(isLeaf)
  return Napi::Boolean::New(env, T(info[0]).is_leaf());
OP_END(isLeaf)

OP_BEGIN(setGradEnabled)
  at::GradMode::set_enabled(boolean(info[0]));
  return env.Undefined();
OP_END(setGradEnabled)

OP_BEGIN(isGradEnabled)
  return Napi::Boolean::New(env, at::GradMode::is_enabled());
OP_END(isGradEnabled)

OP_BEGIN(memoryStats)
  Napi::Object o = Napi::Object::New(env);
  o.Set("liveTensors", Napi::Number::New(env, static_cast<double>(g_liveTensors)));
  o.Set("nativeBytes", Napi::Number::New(env, static_cast<double>(g_nativeBytes)));
  return o;
OP_END(memoryStats)

OP_BEGIN(manualSeed)
  at::manual_seed(static_cast<uint64_t>(num(info[0])));
  return env.Undefined();
OP_END(manualSeed)

OP_BEGIN(setDeterministic)
  const bool on = boolean(info[0]);
  at::globalContext().setDeterministicAlgorithms(on, /*warn_only=*/false);
  at::globalContext().setDeterministicCuDNN(on);
  at::globalContext().setBenchmarkCuDNN(!on && at::globalContext().benchmarkCuDNN());
  return env.Undefined();
OP_END(setDeterministic)

// OpenBLAS (Debian's libtorch calls it for matrix products) keeps a thread pool of its own, sized by
// OPENBLAS_NUM_THREADS when the library loads and not by at::set_num_threads: two single-threaded processes on two
// cores then each ran BLAS on both. Its setter is looked up in the already loaded library (RTLD_NOLOAD), so a build
// against another BLAS is left alone.
static void setBlasThreads(int n) {
  for (const char* lib : {"libopenblas.so.0", "libblas.so.3", "libopenblas.so"}) {
    void* h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
    if (h == nullptr) continue;
    auto set = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
    if (set != nullptr) set(n);
    dlclose(h);
    if (set != nullptr) return;
  }
}

OP_BEGIN(setNumThreads)
  const int n = static_cast<int>(num(info[0]));
  at::set_num_threads(n);
  setBlasThreads(n);
  return env.Undefined();
OP_END(setNumThreads)

OP_BEGIN(getNumThreads)
  return Napi::Number::New(env, at::get_num_threads());
OP_END(getNumThreads)

OP_BEGIN(cudaIsAvailable)
  return Napi::Boolean::New(env, torch::cuda::is_available());
OP_END(cudaIsAvailable)

// cudaDeviceCount() -> the GPUs this process sees (0 without CUDA)
OP_BEGIN(cudaDeviceCount)
  return Napi::Number::New(env, static_cast<double>(torch::cuda::device_count()));
OP_END(cudaDeviceCount)

OP_BEGIN(dataPtrEq)
  return Napi::Boolean::New(env, T(info[0]).data_ptr() == T(info[1]).data_ptr());
OP_END(dataPtrEq)

OP_BEGIN(isContiguous)
  return Napi::Boolean::New(env, T(info[0]).is_contiguous());
OP_END(isContiguous)

void registerTensor(Napi::Env env, Napi::Object exports) {
  EXPORT(fromData); EXPORT(toBytes); EXPORT(toFloat32Bytes); EXPORT(item); EXPORT(meta); EXPORT(dispose); EXPORT(free);
  EXPORT(zeros); EXPORT(ones); EXPORT(empty); EXPORT(randn); EXPORT(rand); EXPORT(full); EXPORT(arange);
  EXPORT(bernoulli); EXPORT(toDType); EXPORT(toDevice); EXPORT(requiresGrad); EXPORT(setRequiresGrad);
  EXPORT(grad); EXPORT(setGrad); EXPORT(retainGrad); EXPORT(isLeaf); EXPORT(setGradEnabled); EXPORT(isGradEnabled);
  EXPORT(memoryStats); EXPORT(manualSeed); EXPORT(setDeterministic); EXPORT(setNumThreads); EXPORT(getNumThreads);
  EXPORT(cudaIsAvailable); EXPORT(cudaDeviceCount); EXPORT(dataPtrEq); EXPORT(isContiguous);
}

}  // namespace physis
