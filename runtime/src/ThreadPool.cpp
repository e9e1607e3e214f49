//===- ThreadPool.cpp - the runtime's worker threads ----------------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <cstdlib>

using namespace qc::rt;

namespace {

/// Polls this many times (a few thousand pause instructions: about 100-200
/// us on x86; AArch64's yield is shorter) before a thread goes to sleep.
constexpr int kSpins = 4000;

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Spins until `ready()` or the budget is spent; whether it became ready.
template <typename Pred> bool spinUntil(Pred ready) {
  for (int i = 0; i < kSpins; ++i) {
    if (ready())
      return true;
    cpuRelax();
  }
  return ready();
}

} // namespace

ThreadPool &ThreadPool::global() {
  static ThreadPool pool([] {
    if (const char *env = std::getenv("QCRT_NUM_THREADS")) {
      char *end = nullptr;
      long n = std::strtol(env, &end, 10);
      if (end != env && *end == '\0' && n >= 1 && n <= 1024)
        return static_cast<int>(n);
    }
    return static_cast<int>(
        std::max(1u, std::thread::hardware_concurrency()));
  }());
  return pool;
}

ThreadPool::ThreadPool(int threads) { start(threads); }

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::start(int threads) {
  uint64_t current;
  {
    std::lock_guard<std::mutex> lock(mutex);
    numThreads = std::max(1, threads);
    quit.store(false);
    current = generation.load();
  }
  // New workers wait for the next job, not the last one.
  for (int i = 1; i < numThreads; ++i)
    workers.emplace_back([this, i, current] { workerLoop(i, current); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    quit.store(true);
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
  workers.clear();
}

void ThreadPool::resize(int threads) {
  std::lock_guard<std::mutex> run(runMutex);
  if (std::max(1, threads) == numThreads)
    return;
  stop();
  start(threads);
}

void ThreadPool::workerLoop(int index, uint64_t seen) {
  auto jobOrQuit = [&] {
    return quit.load(std::memory_order_acquire) ||
           generation.load(std::memory_order_acquire) != seen;
  };
  for (;;) {
    if (!spinUntil(jobOrQuit)) {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, jobOrQuit);
    }
    if (quit.load(std::memory_order_acquire))
      return;
    seen = generation.load(std::memory_order_acquire);
    int64_t b = bounds[index], e = bounds[index + 1];
    if (b < e)
      task(ctx, b, e);
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      done.notify_one();
    }
  }
}

void ThreadPool::parallelFor(Task fn, void *arg, int64_t begin, int64_t end,
                             int64_t align) {
  if (begin >= end)
    return;
  align = std::max<int64_t>(align, 1);
  int64_t units = (end - begin + align - 1) / align;
  // numThreads only changes under runMutex (resize), so read it after.
  std::unique_lock<std::mutex> run(runMutex, std::try_to_lock);
  int parts = run.owns_lock()
                  ? static_cast<int>(std::min<int64_t>(numThreads, units))
                  : 1;
  if (parts <= 1) {
    fn(arg, begin, end);
    return;
  }
  std::vector<int64_t> b(numThreads + 1, end);
  for (int i = 0; i <= parts; ++i)
    b[i] = std::min(end, begin + units * i / parts * align);
  {
    std::lock_guard<std::mutex> lock(mutex);
    task = fn;
    ctx = arg;
    bounds = b;
    pending.store(numThreads - 1, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  if (b[0] < b[1])
    fn(arg, b[0], b[1]);
  auto finished = [&] {
    return pending.load(std::memory_order_acquire) == 0;
  };
  if (!spinUntil(finished)) {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, finished);
  }
}
