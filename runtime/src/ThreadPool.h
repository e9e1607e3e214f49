//===- ThreadPool.h - the runtime's worker threads --------------*- C++ -*-===//
//
// A fixed set of worker threads that generated kernels split their output
// rows over (qcrt_parallel_for). Work is divided statically: each of T
// participants (the caller and T - 1 workers) takes one contiguous range, so
// every thread streams its own part of the weights. A call made while the
// pool is busy (another thread's run, or a nested call) runs serially on the
// calling thread instead of waiting. Workers spin briefly for the next job
// before they sleep, and the caller spins briefly for their end: a model
// calls one parallel kernel per layer, often more often than a sleeping
// thread can be woken.
//
//===----------------------------------------------------------------------===//

#ifndef QCRT_THREADPOOL_H
#define QCRT_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace qc {
namespace rt {

class ThreadPool {
public:
  using Task = void (*)(void *ctx, int64_t begin, int64_t end);

  /// The process-wide pool; its size comes from QCRT_NUM_THREADS, else the
  /// number of hardware threads.
  static ThreadPool &global();

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return numThreads; }
  /// Changes the number of participants (>= 1); waits for running work.
  void resize(int threads);

  /// Calls task(ctx, b, e) over a partition of [begin, end) into at most
  /// size() ranges whose interior bounds are multiples of `align`.
  void parallelFor(Task task, void *ctx, int64_t begin, int64_t end,
                   int64_t align);

private:
  void start(int threads);
  void stop();
  void workerLoop(int index, uint64_t seen);

  int numThreads = 1;
  std::vector<std::thread> workers;
  std::mutex runMutex; // held by the one parallelFor using the workers
  // Guards the sleeping side of the handshakes; generation and quit change
  // under it, so a worker that checks them under it cannot miss a wake-up.
  std::mutex mutex;
  std::condition_variable wake, done;
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  std::atomic<bool> quit{false};
  // The job of the current generation: written before generation is
  // bumped (release), read after it is seen (acquire), left alone until
  // pending is back to 0.
  Task task = nullptr;
  void *ctx = nullptr;
  std::vector<int64_t> bounds;
};

} // namespace rt
} // namespace qc

#endif // QCRT_THREADPOOL_H
