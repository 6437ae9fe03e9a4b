// Module entry: handle wrapping, shared shape buffer, error mapping, and registration of all functions.
#include "common.h"

#include <climits>
#include <cstdlib>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sstream>

namespace physis {

namespace {
// What the addon keeps per JavaScript environment. Node loads one copy of this library per process but calls Init
// once per environment (the main thread and every worker thread, each on its own OS thread): a process-wide shape
// buffer would let one thread's tensors write their shapes into another thread's buffer, and point at freed memory
// once that worker ends. So each environment owns its state (napi instance data, freed at its teardown) and the
// thread it runs on finds it through a thread-local pointer.
struct EnvState {
  int32_t* meta = nullptr;  // [ndim, dtype, device, requiresGrad, size0, size1, ...] of the last wrap
  size_t metaLen = 0;
  Napi::FunctionReference errors[4];  // LibtorchError, ShapeError, DTypeError, DeviceError (JS classes)
  Napi::Reference<Napi::Int32Array> metaRef;
};
thread_local EnvState* t_state = nullptr;
}  // namespace

// Per environment too: V8's external-memory accounting is per isolate, and the counts are what this thread holds.
thread_local int64_t g_liveTensors = 0;
thread_local int64_t g_nativeBytes = 0;
namespace {
// Reports to V8 are batched at 1 MiB granularity: tiny tensors then cost no call into V8, big ones report at once.
thread_local int64_t g_unreportedBytes = 0;
constexpr int64_t kReportGranularity = 1 << 20;
}  // namespace

static void reportBytes(Napi::Env env, int64_t delta) {
  g_nativeBytes += delta;
  g_unreportedBytes += delta;
  if (g_unreportedBytes >= kReportGranularity || g_unreportedBytes <= -kReportGranularity) {
    Napi::MemoryManagement::AdjustExternalMemory(env, g_unreportedBytes);
    g_unreportedBytes = 0;
  }
}

void writeMeta(const at::Tensor& t) {
  int32_t* g_meta = t_state == nullptr ? nullptr : t_state->meta;
  if (g_meta == nullptr) return;
  const size_t g_metaLen = t_state->metaLen;
  if (!t.defined()) {
    g_meta[0] = -1;
    return;
  }
  const int64_t n = t.dim();
  g_meta[0] = static_cast<int32_t>(n);
  g_meta[1] = dtypeCode(t.scalar_type());
  g_meta[2] = t.is_cuda() ? 1 : 0;
  g_meta[3] = t.requires_grad() ? 1 : 0;
  const auto sizes = t.sizes();
  for (int64_t i = 0; i < n && static_cast<size_t>(4 + i) < g_metaLen; ++i) g_meta[4 + i] = static_cast<int32_t>(sizes[i]);
}

void releaseHandle(Napi::Env env, Handle* h) {
  if (h->t.defined()) {
    h->t = at::Tensor();
    --g_liveTensors;
  }
  if (h->bytes != 0) {
    reportBytes(env, -h->bytes);
    h->bytes = 0;
  }
}

Napi::Value wrap(Napi::Env env, at::Tensor t) {
  writeMeta(t);
  auto* h = new Handle();
  h->t = std::move(t);
  if (h->t.defined()) {
    ++g_liveTensors;
    // Views share storage, so this over-counts them; it is a GC-pressure hint to V8, not an allocator.
    h->bytes = h->t.numel() * static_cast<int64_t>(h->t.element_size());
    if (h->bytes != 0) reportBytes(env, h->bytes);
  }
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(h)));
}

bool isHandle(const Napi::Value& v) {
  if (!v.IsNumber()) return false;
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 65536.0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d))) return false;
  const uintptr_t p = static_cast<uintptr_t>(d);
  if (p % alignof(Handle) != 0) return false;
  // Only read the candidate if its pages are mapped (mincore fails with ENOMEM otherwise), then check the magic.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = p & ~(page - 1);
  const uintptr_t last = (p + sizeof(uint64_t) - 1) & ~(page - 1);
  unsigned char vec[2];
  if (mincore(reinterpret_cast<void*>(first), last - first + page, vec) != 0) return false;
  return reinterpret_cast<const Handle*>(p)->magic == Handle::kMagic;
}

Napi::Value wrapList(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t i = 0; i < ts.size(); ++i) a.Set(static_cast<uint32_t>(i), wrap(env, ts[i]));
  return a;
}

std::vector<int64_t> ints(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<int64_t> out(n);
  for (uint32_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(num(a.Get(i)));
  return out;
}

std::vector<at::Tensor> tensors(const Napi::Value& v) {
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.push_back(T(a.Get(i)));
  return out;
}

at::ScalarType dtypeOf(int code) {
  switch (code) {
    case 0: return at::kFloat;
    case 1: return at::kHalf;
    case 2: return at::kLong;
    case 3: return at::kBool;
    case 4: return at::kDouble;
    case 5: return at::kInt;
    default: throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  }
}

int dtypeCode(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return 0;
    case at::kHalf: return 1;
    case at::kLong: return 2;
    case at::kBool: return 3;
    case at::kDouble: return 4;
    case at::kInt: return 5;
    default: return 9;
  }
}

at::Device deviceOf(int code) { return code == 1 ? at::Device(at::kCUDA) : at::Device(at::kCPU); }

int classify(const std::string& m) {
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
  if (has("CUDA") || has("cuda")) return kDevice;
  if (has("scalar type") || has("dtype") || has("ScalarType") || has("not implemented for")) return kDType;
  if (has("size") || has("shape") || has("dimension") || has("channels") || has("mat1 and mat2") ||
      has("out of range") || has("invalid for input of")) {
    return kShape;
  }
  return kLibtorch;
}

void throwError(const Napi::CallbackInfo& info, const char* op, const std::string& msg, int kind) {
  Napi::Env env = info.Env();
  // Name the op and the shapes of every tensor argument, so the one-line message says what was called.
  std::ostringstream s;
  s << op << '(';
  for (size_t i = 0; i < info.Length(); ++i) {
    if (i) s << ", ";
    Napi::Value v = info[i];
    if (isHandle(v)) {
      const at::Tensor& t = T(v);
      if (!t.defined()) {
        s << "<undefined>";
      } else {
        s << '[';
        for (int64_t d = 0; d < t.dim(); ++d) s << (d ? "," : "") << t.size(d);
        s << ']';
      }
    } else if (v.IsNumber()) {
      s << v.As<Napi::Number>().DoubleValue();
    } else if (v.IsBoolean()) {
      s << (v.As<Napi::Boolean>().Value() ? "true" : "false");
    } else if (v.IsArray()) {
      s << "[...]";
    } else if (v.IsNull()) {
      s << "null";
    } else {
      s << '?';
    }
  }
  std::string first = msg;
  // libtorch messages may span lines; the CLI prints errors as one line.
  for (auto& c : first) if (c == '\n') c = ' ';
  s << "): " << first;
  const std::string text = s.str();
  if (t_state != nullptr && !t_state->errors[kind].IsEmpty()) {
    Napi::Object err = t_state->errors[kind].New({Napi::String::New(env, text)});
    napi_throw(env, err);
  } else {
    Napi::Error::New(env, text).ThrowAsJavaScriptException();
  }
}

}  // namespace physis

using namespace physis;

// init(meta: Int32Array, errors: [LibtorchError, ShapeError, DTypeError, DeviceError])
static Napi::Value init(const Napi::CallbackInfo& info) {
  if (t_state == nullptr) return info.Env().Undefined();
  Napi::Int32Array meta = info[0].As<Napi::Int32Array>();
  t_state->metaRef = Napi::Persistent(meta);
  t_state->meta = meta.Data();
  t_state->metaLen = meta.ElementLength();
  Napi::Array errs = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < 4 && i < errs.Length(); ++i) t_state->errors[i] = Napi::Persistent(errs.Get(i).As<Napi::Function>());
  return info.Env().Undefined();
}

// Keep freed tensor memory in the heap for reuse instead of returning every large block to the kernel: with
// glibc's defaults each activation above the mmap threshold is a fresh mmap whose pages fault in (and are zeroed)
// on every training step. Same idea as PyTorch's advice to run CPU training on jemalloc/tcmalloc; the process
// keeps its peak tensor memory. PHYSIS_MALLOC_DEFAULT=1 leaves glibc's defaults.
static void tuneMalloc() {
  const char* off = std::getenv("PHYSIS_MALLOC_DEFAULT");
  if (off != nullptr && off[0] == '1') return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

// The environment's state is freed with it; the thread's pointer is cleared first so nothing writes through it after.
static void finalizeState(Napi::Env, EnvState* state) {
  if (t_state == state) t_state = nullptr;
  delete state;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  t_state = new EnvState();
  env.SetInstanceData<EnvState, finalizeState>(t_state);
  exports.Set("init", Napi::Function::New(env, init, "init"));
  registerTensor(env, exports);
  registerOps(env, exports);
  registerNn(env, exports);
  registerAutograd(env, exports);
  registerDistributed(env, exports);
  return exports;
}

NODE_API_MODULE(physis_torch, Init)
