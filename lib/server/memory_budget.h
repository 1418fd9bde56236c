// A counted budget of bytes shared by threads: how the server bounds the memory of the images
// it decodes at once (each request thread decodes at full size before resizing, so N threads
// and large images would otherwise take N times the largest image). No libtorch, no httplib.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ptjs {

class memory_budget {
 public:
  using clock = std::chrono::steady_clock;

  // `capacity` 0: unlimited (acquire never waits).
  explicit memory_budget(uint64_t capacity) : capacity_(capacity) {}

  // Bytes held until destroyed.
  class lease {
   public:
    lease() = default;
    lease(lease&& other) noexcept : owner_(other.owner_), bytes_(other.bytes_) { other.owner_ = nullptr; }
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    ~lease();

   private:
    friend class memory_budget;
    lease(memory_budget* owner, uint64_t bytes) : owner_(owner), bytes_(bytes) {}
    memory_budget* owner_ = nullptr;
    uint64_t bytes_ = 0;
  };

  // Waits until `bytes` fit (a request larger than the capacity waits for all of it, then runs
  // alone) or `deadline` passes: throws ptjs::error(timeout) naming the budget then.
  lease acquire(uint64_t bytes, clock::time_point deadline);

  uint64_t capacity() const { return capacity_; }
  uint64_t in_use() const;

 private:
  void release(uint64_t bytes);

  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable freed_;
  uint64_t in_use_ = 0;
};

}  // namespace ptjs
