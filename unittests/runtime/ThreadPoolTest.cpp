//===- ThreadPoolTest.cpp - the runtime's worker threads ------------------===//

#include "ThreadPool.h"
#include "qcrt.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using qc::rt::ThreadPool;

namespace {

struct Record {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  std::set<std::thread::id> threads;
  std::vector<std::atomic<int>> *hits = nullptr;
};

void recordRange(void *ctx, int64_t b, int64_t e) {
  auto *r = static_cast<Record *>(ctx);
  for (int64_t i = b; i < e; ++i)
    ++(*r->hits)[size_t(i)];
  std::lock_guard<std::mutex> lock(r->mutex);
  r->ranges.emplace_back(b, e);
  r->threads.insert(std::this_thread::get_id());
}

TEST(ThreadPool, EveryIndexOnceInAlignedRanges) {
  ThreadPool pool(3);
  for (int64_t end : {1, 7, 64, 1000, 1001}) {
    for (int64_t align : {1, 8, 64}) {
      std::vector<std::atomic<int>> hits(size_t(end) + 5);
      Record r;
      r.hits = &hits;
      pool.parallelFor(recordRange, &r, 5, end + 5, align);
      for (int64_t i = 0; i < end + 5; ++i)
        EXPECT_EQ(hits[size_t(i)].load(), i >= 5 ? 1 : 0) << i;
      EXPECT_LE(r.ranges.size(), 3u);
      for (auto [b, e] : r.ranges) {
        EXPECT_LT(b, e);
        if (b != 5)
          EXPECT_EQ((b - 5) % align, 0) << b;
      }
    }
  }
}

TEST(ThreadPool, UsesTheWorkersAndRunsNestedCallsInline) {
  ThreadPool pool(2);
  std::vector<std::atomic<int>> hits(4096);
  Record r;
  r.hits = &hits;
  pool.parallelFor(recordRange, &r, 0, 4096, 1);
  EXPECT_EQ(r.ranges.size(), 2u);
  EXPECT_EQ(r.threads.size(), 2u);

  // A task that calls the pool again: the inner call finds it busy and runs
  // on the calling thread instead of deadlocking.
  struct Nested {
    ThreadPool *pool;
    std::atomic<int> inner{0};
  } nested{&pool};
  pool.parallelFor(
      [](void *ctx, int64_t, int64_t) {
        auto *n = static_cast<Nested *>(ctx);
        n->pool->parallelFor(
            [](void *c, int64_t b, int64_t e) {
              static_cast<Nested *>(c)->inner += int(e - b);
            },
            ctx, 0, 10, 1);
      },
      &nested, 0, 2, 1);
  EXPECT_EQ(nested.inner.load(), 20);
}

TEST(ThreadPool, ResizingBetweenJobsRunsEachJobOnce) {
  // New workers must wait for the next job, not replay the last one.
  ThreadPool pool(2);
  for (int round = 0; round < 20; ++round) {
    pool.resize(1 + round % 3);
    std::vector<std::atomic<int>> hits(256);
    Record r;
    r.hits = &hits;
    pool.parallelFor(recordRange, &r, 0, 256, 1);
    for (auto &h : hits)
      ASSERT_EQ(h.load(), 1) << round;
  }
}

TEST(ThreadPool, CApiSetsTheCount) {
  int before = qcrt_get_num_threads();
  EXPECT_EQ(qcrt_set_num_threads(0), QCRT_ERR_ARGUMENT);
  EXPECT_NE(std::string(qcrt_last_error()).find("[1, 1024]"),
            std::string::npos);
  ASSERT_EQ(qcrt_set_num_threads(2), QCRT_OK);
  EXPECT_EQ(qcrt_get_num_threads(), 2);
  ASSERT_EQ(qcrt_set_num_threads(before), QCRT_OK);
}

} // namespace

void addRange(void *ctx, int64_t b, int64_t e) {
  auto *sums = static_cast<std::vector<std::atomic<int64_t>> *>(ctx);
  for (int64_t i = b; i < e; ++i)
    (*sums)[size_t(i)] += i + 1;
}

// Back-to-back calls (workers still polling) mixed with pauses longer than
// the polling (workers asleep, woken by the next call), and callers from
// another thread at the same time (those run inline): every index of every
// call is added exactly once.
TEST(ThreadPool, PollingAndSleepingWorkersSeeEveryCall) {
  ThreadPool pool(3);
  constexpr int64_t kN = 97;
  std::vector<std::atomic<int64_t>> sums(kN), other(kN);
  std::atomic<bool> stopOther{false};
  int64_t otherCalls = 0;
  std::thread rival([&] {
    while (!stopOther) {
      pool.parallelFor(addRange, &other, 0, kN, 1);
      ++otherCalls;
    }
  });
  constexpr int kCalls = 3000;
  for (int c = 0; c < kCalls; ++c) {
    pool.parallelFor(addRange, &sums, 0, kN, 4);
    if (c % 500 == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stopOther = true;
  rival.join();
  for (int64_t i = 0; i < kN; ++i) {
    EXPECT_EQ(sums[size_t(i)].load(), kCalls * (i + 1)) << i;
    EXPECT_EQ(other[size_t(i)].load(), otherCalls * (i + 1)) << i;
  }
}
