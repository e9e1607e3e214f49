//===- ThreadPool.cpp - the runtime's worker threads ----------------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <cstdlib>

using namespace qc::rt;

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
    quit = false;
    current = generation;
  }
  // New workers wait for the next job, not the last one.
  for (int i = 1; i < numThreads; ++i)
    workers.emplace_back([this, i, current] { workerLoop(i, current); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    quit = true;
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
  for (;;) {
    Task t;
    void *c;
    int64_t b, e;
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return quit || generation != seen; });
      if (quit)
        return;
      seen = generation;
      t = task;
      c = ctx;
      b = bounds[index];
      e = bounds[index + 1];
    }
    if (b < e)
      t(c, b, e);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (--pending == 0)
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
  int parts = static_cast<int>(std::min<int64_t>(numThreads, units));
  std::unique_lock<std::mutex> run(runMutex, std::try_to_lock);
  if (parts <= 1 || !run.owns_lock()) {
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
    pending = numThreads - 1;
    ++generation;
  }
  wake.notify_all();
  if (b[0] < b[1])
    fn(arg, b[0], b[1]);
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [&] { return pending == 0; });
}
