#include "cpu/parallel.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "check.h"

namespace fastnn {
namespace {

thread_local bool in_region = false;

// Workers wait for a new `generation`, then claim tasks (see [note: claimed tasks]). They spin
// for kSpin before sleeping: long enough that the kernels of a training step, between which
// autograd and the optimizer run a few hundred microseconds of Python, find the workers awake,
// short enough not to keep a core from a data-loading process for long. Timed by the clock: a
// pause instruction lasts 10 to 150 cycles depending on the core. The MLP program's backward
// GEMM dY @ W (256 x 10 x 256) took 50 us with ~100 us of spinning (its worker asleep by then;
// 17 us when called again right after) and 18.5 us with 1 ms; the whole program 4.5-4.65 s with
// the short spin, 4.1-4.3 s with 500 us (two cores of an Intel Xeon VM).
constexpr std::chrono::microseconds kSpin{500};

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int size() const { return static_cast<int>(threads_.size()); }

  // [note: claimed tasks] The caller runs task 0; tasks 1..nt-1 are claimed by whichever thread
  // gets there first, the caller included once its own is done. A worker the scheduler has not
  // run yet (the machine is busy) then costs nothing: the caller runs its task instead of waiting
  // ~0.5 ms for it to wake. Task 0 is never left to a worker, so on two threads each core gets the
  // same half of the data call after call and keeps it in its own caches: when a spinning worker
  // could see the new run before the caller claimed anything, the halves swapped cores from call
  // to call, and `x -= y` on 200k floats took as long on two threads as on one (15 us; 10.5-11
  // once task 0 stayed with the caller). The claim counter carries the run's sequence number, so a
  // worker waking late from an earlier run can never claim a task of the next one.
  void run(int nt, const std::function<void(int, int)>& fn) {
    fn_.store(&fn, std::memory_order_relaxed);
    nt_.store(nt, std::memory_order_relaxed);
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    uint64_t seq = (ticket_.load(std::memory_order_relaxed) >> 32) + 1;
    ticket_.store(seq << 32 | 1, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lk(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    run_task(0, nt);
    run_tasks(seq);
    while (done_.load(std::memory_order_acquire) != nt) __builtin_ia32_pause();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Claims and runs tasks of run `seq` until none is left.
  void run_tasks(uint64_t seq) {
    uint64_t ticket = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if ((ticket >> 32) != seq) return;
      int nt = nt_.load(std::memory_order_relaxed);
      int tid = static_cast<int>(ticket & 0xffffffffu);
      if (tid >= nt) return;
      if (!ticket_.compare_exchange_weak(ticket, ticket + 1, std::memory_order_acq_rel)) continue;
      run_task(tid, nt);
      ticket = ticket_.load(std::memory_order_acquire);
    }
  }

  void run_task(int tid, int nt) {
    in_region = true;
    try {
      (*fn_.load(std::memory_order_relaxed))(tid, nt);
    } catch (...) {
      std::lock_guard<std::mutex> lk(err_mu_);
      if (!error_) error_ = std::current_exception();
    }
    in_region = false;
    done_.fetch_add(1, std::memory_order_acq_rel);
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t gen = generation_.load(std::memory_order_acquire);
      const auto start = std::chrono::steady_clock::now();
      for (int spin = 1; gen == seen; ++spin) {
        __builtin_ia32_pause();
        gen = generation_.load(std::memory_order_acquire);
        if (spin % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) break;
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return generation_.load() != seen; });
        gen = generation_.load();
      }
      seen = gen;
      if (stop_) return;
      run_tasks(ticket_.load(std::memory_order_acquire) >> 32);
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_, err_mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> ticket_{0};  // run sequence << 32 | next task
  std::atomic<int> nt_{1}, done_{0};
  std::atomic<const std::function<void(int, int)>*> fn_{nullptr};
  bool stop_ = false;
  std::exception_ptr error_;
};

std::mutex region_mu;  // held while a region owns the pool, or while resizing it
Pool* pool = nullptr;  // workers = num_threads - 1, created on first use
std::atomic<int> num_threads{0};

// After fork() the child has no worker threads: forget the pool (leaking it) and start afresh.
void after_fork_child() {
  new (&region_mu) std::mutex();
  pool = nullptr;
}

int cores_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

int default_num_threads() {
  if (const char* env = std::getenv("FASTNN_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1) return n;
  }
  return cores_available();
}

int get_num_threads() {
  int n = num_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    static std::once_flag once;
    std::call_once(once, [] { pthread_atfork(nullptr, nullptr, after_fork_child); });
    int expected = 0;
    num_threads.compare_exchange_strong(expected, default_num_threads());
    n = num_threads.load();
  }
  return n;
}

void set_num_threads(int n) {
  FASTNN_CHECK(n >= 1, "set_num_threads: expected a positive number of threads, got ", n);
  get_num_threads();  // registers the fork handler
  std::lock_guard<std::mutex> lk(region_mu);
  num_threads.store(n);
  if (pool != nullptr && pool->size() != n - 1) {
    delete pool;
    pool = nullptr;
  }
}

void parallel_run(int max_threads, const std::function<void(int, int)>& fn) {
  int nt = std::min(max_threads, get_num_threads());
  if (nt <= 1 || in_region) {
    fn(0, 1);
    return;
  }
  std::unique_lock<std::mutex> lk(region_mu, std::try_to_lock);
  if (!lk.owns_lock()) {  // another thread's kernel owns the pool: do ours alone
    fn(0, 1);
    return;
  }
  nt = std::min(nt, num_threads.load());
  if (pool == nullptr) pool = new Pool(num_threads.load() - 1);
  pool->run(nt, fn);
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, get_num_threads());
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  parallel_run(static_cast<int>(chunks), [&](int tid, int nt) {
    int64_t begin = n * tid / nt, end = n * (tid + 1) / nt;
    if (begin < end) fn(begin, end);
  });
}

void parallel_chunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(chunk, 1);
  const int64_t chunks = (n + chunk - 1) / chunk;
  const int threads = static_cast<int>(std::min<int64_t>(chunks, get_num_threads()));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_run(threads, [&](int, int) {
    for (int64_t k = next.fetch_add(1); k < chunks; k = next.fetch_add(1))
      fn(k * chunk, std::min(n, (k + 1) * chunk));
  });
}

double parallel_sum(int64_t n, int64_t grain, const std::function<double(int64_t, int64_t)>& fn) {
  if (n <= 0) return 0.0;
  int64_t chunks = (n + grain - 1) / (grain > 0 ? grain : 1);
  if (chunks > get_num_threads()) chunks = get_num_threads();
  if (chunks <= 1) return fn(0, n);
  std::vector<double> part(static_cast<size_t>(chunks), 0.0);
  parallel_run(static_cast<int>(chunks), [&](int tid, int nt) {
    int64_t b = n * tid / nt, e = n * (tid + 1) / nt;
    if (b < e) part[static_cast<size_t>(tid)] = fn(b, e);
  });
  double total = 0.0;
  for (double p : part) total += p;
  return total;
}

}  // namespace fastnn
