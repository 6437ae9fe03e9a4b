// c10d, libtorch's distributed layer: a TCPStore rendezvous and a process group (Gloo on CPU; NCCL where this libtorch
// has it) with all-reduce (sum), broadcast and barrier. The same objects torch.distributed builds in Python
// (init_process_group with the env:// or tcp:// method creates a TCPStore and a ProcessGroupGloo/ProcessGroupNCCL).
//
// Threads: a collective is enqueued on the JavaScript thread (so every rank issues its collectives in the same order,
// which c10d requires), and waited for on a libuv pool thread, so the event loop keeps running; each call returns a
// Promise. Creating the group (the rendezvous) is done on a pool thread as well. Every wait is bounded by the group's
// timeout: a rank that dies closes its sockets (Gloo then fails at once with "Connection closed by peer") and a rank
// that stalls makes Gloo's transport time out, so the others fail with an error instead of hanging.
//
// State: a group is an object owned by JavaScript (a Napi::External with a finaliser), nothing is process-wide, so
// each JavaScript environment (main thread, worker threads) keeps its own groups.
#include "common.h"

#include <chrono>
#include <memory>
#include <sstream>

#ifdef PHYSIS_WITH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef PHYSIS_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
// Either backend brings the store and the group machinery; NCCL does not need Gloo's headers (pip PyTorch ships none).
#if defined(PHYSIS_WITH_GLOO) || defined(PHYSIS_WITH_NCCL)
#define PHYSIS_WITH_C10D
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#endif

namespace physis {

#ifdef PHYSIS_WITH_C10D

namespace {

// libtorch 2 moved the backends (ProcessGroupGloo, ProcessGroupNCCL) under c10d::Backend, with c10d::ProcessGroup a
// facade over them; in 1.13 they are ProcessGroups themselves. Either base has the collectives used here.
#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

/** One process group and the store it met its peers through. Owned by its JavaScript External. */
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<BackendBase> pg;
  int rank = 0;
  int size = 1;
  std::string backend;
  std::chrono::milliseconds timeout{0};
};

void finalizeGroup(Napi::Env, Group* g) { delete g; }

Group* G(const Napi::Value& v) {
  if (!v.IsExternal()) throw std::invalid_argument("not a process group");
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g->pg) throw std::invalid_argument("the process group was destroyed");
  return g;
}

std::string describe(const Group& g, const char* op) {
  std::ostringstream s;
  s << op << " on rank " << g.rank << " of " << g.size << " (" << g.backend << ", timeout " << g.timeout.count() << " ms)";
  return s.str();
}

#ifdef PHYSIS_WITH_GLOO
bool isLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Gloo binds to the interface named by GLOO_SOCKET_IFNAME (as torch.distributed does), else to the loopback address
// when every rank meets on it (this machine's hostname may not resolve inside containers), else to this host's name.
std::shared_ptr<::gloo::transport::Device> glooDevice(const std::string& masterAddr) {
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname != nullptr && ifname[0] != '\0') return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (isLoopback(masterAddr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

/** Base of the asynchronous calls: Execute runs on a libuv pool thread, the promise settles on the JS thread. */
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void OnOK() override { deferred_.Resolve(Result()); }
  void OnError(const Napi::Error& e) override {
    Napi::Error err = Napi::Error::New(Env(), e.Message());
    deferred_.Reject(err.Value());
  }
  virtual Napi::Value Result() { return Env().Undefined(); }
  // A c10d/Gloo failure as one line (its messages can span several, with a C++ backtrace).
  void fail(const std::string& what, const std::string& msg) {
    std::string line = msg;
    const size_t bt = line.find("\nException raised from");
    if (bt != std::string::npos) line.resize(bt);
    for (auto& c : line) if (c == '\n') c = ' ';
    SetError(what + ": " + line);
  }
  Napi::Promise::Deferred deferred_;
};

class InitWorker : public PromiseWorker {
 public:
  InitWorker(Napi::Env env, int rank, int size, std::string host, int port, int64_t timeoutMs, std::string backend,
             int64_t storeTimeoutMs)
      : PromiseWorker(env), rank_(rank), size_(size), host_(std::move(host)), port_(port), timeoutMs_(timeoutMs),
        storeTimeoutMs_(storeTimeoutMs), backend_(std::move(backend)) {}

  void Execute() override {
    const std::string what = "init_process_group(rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ", " +
                             backend_ + ", " + host_ + ":" + std::to_string(port_) + ")";
    try {
      auto group = std::make_unique<Group>();
      group->rank = rank_;
      group->size = size_;
      group->backend = backend_;
      group->timeout = std::chrono::milliseconds(timeoutMs_);
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(port_);
      so.isServer = rank_ == 0;
      so.numWorkers = static_cast<std::size_t>(size_);
      so.waitWorkers = true;
      // how long ranks may take to reach the store (processes start unevenly); the group's own timeout bounds the rest
      so.timeout = std::chrono::milliseconds(storeTimeoutMs_);
      auto tcp = c10::make_intrusive<c10d::TCPStore>(host_, so);
      // the prefix torch.distributed gives the default group's keys
      group->store = c10::make_intrusive<c10d::PrefixStore>("default_pg", tcp);
      if (backend_ == "gloo") {
#ifdef PHYSIS_WITH_GLOO
        auto opts = c10d::ProcessGroupGloo::Options::create(group->timeout);
        opts->devices.push_back(glooDevice(host_));
        group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, rank_, size_, opts);
#else
        throw std::invalid_argument("the addon was built without Gloo (its headers were missing); use nccl");
#endif
      } else if (backend_ == "nccl") {
#ifdef PHYSIS_WITH_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = group->timeout;
        group->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, rank_, size_, opts);
#else
        throw std::invalid_argument("this libtorch has no NCCL (the addon was built without ProcessGroupNCCL); use gloo");
#endif
      } else {
        throw std::invalid_argument("unknown backend '" + backend_ + "' (gloo or nccl)");
      }
      group_ = group.release();
    } catch (const c10::Error& e) {
      fail(what, e.what_without_backtrace());
    } catch (const std::exception& e) {
      fail(what, e.what());
    }
  }

 protected:
  Napi::Value Result() override {
    Group* g = group_;
    group_ = nullptr;
    return Napi::External<Group>::New(Env(), g, finalizeGroup);
  }

 private:
  int rank_, size_;
  std::string host_;
  int port_;
  int64_t timeoutMs_;
  int64_t storeTimeoutMs_;
  std::string backend_;
  Group* group_ = nullptr;
};

/**
 * Waits for one collective. `flat` is what the backend worked on; when it is a packed copy of `targets`, its slices
 * are copied back into them after the wait (on the pool thread; the caller awaits the promise before using them).
 */
class WaitWorker : public PromiseWorker {
 public:
  WaitWorker(Napi::Env env, std::string what, c10::intrusive_ptr<c10d::Work> work, std::chrono::milliseconds timeout,
             at::Tensor flat, std::vector<at::Tensor> targets)
      : PromiseWorker(env), what_(std::move(what)), work_(std::move(work)), timeout_(timeout), flat_(std::move(flat)),
        targets_(std::move(targets)) {}

  void Execute() override {
    try {
      work_->wait(timeout_);
      if (!targets_.empty()) {
        at::NoGradGuard ng;
        int64_t offset = 0;
        for (auto& t : targets_) {
          const int64_t n = t.numel();
          t.copy_(flat_.narrow(0, offset, n).view(t.sizes()));  // t may be a non-contiguous view
          offset += n;
        }
      }
    } catch (const c10::Error& e) {
      fail(what_, e.what_without_backtrace());
    } catch (const std::exception& e) {
      fail(what_, e.what());
    }
    work_.reset();
  }

 private:
  std::string what_;
  c10::intrusive_ptr<c10d::Work> work_;
  std::chrono::milliseconds timeout_;
  at::Tensor flat_;
  std::vector<at::Tensor> targets_;
};

// One contiguous tensor is handed to the backend as is; several (or a non-contiguous one) are packed into one flat
// buffer, as DistributedDataParallel's gradient buckets are, and copied back after the wait.
struct Packed {
  at::Tensor flat;
  std::vector<at::Tensor> targets;  // empty when flat is the caller's own tensor
};

Packed pack(const std::vector<at::Tensor>& ts) {
  if (ts.empty()) throw std::invalid_argument("no tensors given");
  const auto dtype = ts[0].scalar_type();
  const auto device = ts[0].device();
  for (const auto& t : ts) {
    if (!t.defined()) throw std::invalid_argument("an undefined tensor was given");
    if (t.scalar_type() != dtype || t.device() != device) throw std::invalid_argument("all tensors must share one dtype and device");
  }
  at::NoGradGuard ng;
  if (ts.size() == 1 && ts[0].is_contiguous()) return {ts[0].detach(), {}};
  std::vector<at::Tensor> flats;
  flats.reserve(ts.size());
  for (const auto& t : ts) flats.push_back(t.detach().reshape({-1}));
  std::vector<at::Tensor> targets;
  targets.reserve(ts.size());
  for (const auto& t : ts) targets.push_back(t.detach());
  return {at::cat(flats), std::move(targets)};
}

}  // namespace

// distInit(rank, worldSize, host, port, timeoutMs, backend, storeTimeoutMs) -> Promise<group>
OP_BEGIN(distInit)
  const int rank = static_cast<int>(num(info[0]));
  const int size = static_cast<int>(num(info[1]));
  if (size < 1 || rank < 0 || rank >= size) throw std::invalid_argument("rank must be in [0, worldSize)");
  auto* w = new InitWorker(env, rank, size, info[2].As<Napi::String>().Utf8Value(), static_cast<int>(num(info[3])),
                           i64(info[4]), info[5].As<Napi::String>().Utf8Value(), i64(info[6]));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
OP_END(distInit)

// distAllReduce(group, tensors[]) -> Promise<void>: sum over ranks, in place
OP_BEGIN(distAllReduce)
  Group* g = G(info[0]);
  Packed pk = pack(tensors(info[1]));
  std::vector<at::Tensor> bufs{pk.flat};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  o.timeout = g->timeout;
  auto work = g->pg->allreduce(bufs, o);
  auto* w = new WaitWorker(env, describe(*g, "all_reduce"), work, g->timeout, pk.flat, std::move(pk.targets));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
OP_END(distAllReduce)

// distBroadcast(group, tensors[], root) -> Promise<void>: every rank's tensors take root's values
OP_BEGIN(distBroadcast)
  Group* g = G(info[0]);
  const int64_t root = i64(info[2]);
  if (root < 0 || root >= g->size) throw std::invalid_argument("root must be in [0, worldSize)");
  Packed pk = pack(tensors(info[1]));
  std::vector<at::Tensor> bufs{pk.flat};
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.rootTensor = 0;
  o.timeout = g->timeout;
  auto work = g->pg->broadcast(bufs, o);
  auto* w = new WaitWorker(env, describe(*g, "broadcast"), work, g->timeout, pk.flat, std::move(pk.targets));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
OP_END(distBroadcast)

// distBarrier(group) -> Promise<void>
OP_BEGIN(distBarrier)
  Group* g = G(info[0]);
  c10d::BarrierOptions o;
  o.timeout = g->timeout;
  auto work = g->pg->barrier(o);
  auto* w = new WaitWorker(env, describe(*g, "barrier"), work, g->timeout, at::Tensor(), {});
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
OP_END(distBarrier)

// distInfo(group) -> { rank, size, backend }
OP_BEGIN(distInfo)
  Group* g = G(info[0]);
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", Napi::Number::New(env, g->pg->getRank()));
  o.Set("size", Napi::Number::New(env, g->pg->getSize()));
  o.Set("backend", Napi::String::New(env, g->backend));
  return o;
OP_END(distInfo)

// distDestroy(group): drops the process group and its store (idempotent); collectives still queued finish or fail first
OP_BEGIN(distDestroy)
  if (!info[0].IsExternal()) throw std::invalid_argument("not a process group");
  Group* g = info[0].As<Napi::External<Group>>().Data();
  g->pg.reset();
  g->store.reset();
  return env.Undefined();
OP_END(distDestroy)

#endif  // PHYSIS_WITH_C10D

// distBackends() -> the backends compiled in
OP_BEGIN(distBackends)
  Napi::Array a = Napi::Array::New(env);
  uint32_t i = 0;
#ifdef PHYSIS_WITH_GLOO
  a.Set(i++, Napi::String::New(env, "gloo"));
#endif
#ifdef PHYSIS_WITH_NCCL
  a.Set(i++, Napi::String::New(env, "nccl"));
#endif
  (void)i;
  return a;
OP_END(distBackends)

void registerDistributed(Napi::Env env, Napi::Object exports) {
  EXPORT(distBackends);
#ifdef PHYSIS_WITH_C10D
  EXPORT(distInit); EXPORT(distAllReduce); EXPORT(distBroadcast); EXPORT(distBarrier); EXPORT(distInfo); EXPORT(distDestroy);
#endif
}

}  // namespace physis
