#include "memory_budget.h"

#include <algorithm>
#include <string>

#include "error.h"

namespace ptjs {

memory_budget::lease::~lease() {
  if (owner_ != nullptr) owner_->release(bytes_);
}

memory_budget::lease memory_budget::acquire(uint64_t bytes, clock::time_point deadline) {
  if (capacity_ == 0 || bytes == 0) return {};
  bytes = std::min(bytes, capacity_);
  std::unique_lock<std::mutex> lock(mu_);
  if (!freed_.wait_until(lock, deadline, [&] { return in_use_ + bytes <= capacity_; })) {
    constexpr uint64_t mib = 1 << 20;
    throw error(error_code::timeout, "no room to decode the image in time: it needs about " +
                                         std::to_string((bytes + mib - 1) / mib) + " MiB and other requests hold " +
                                         std::to_string(in_use_ / mib) + " MiB of the " +
                                         std::to_string(capacity_ / mib) + " MiB allowed (--max-decode-bytes)");
  }
  in_use_ += bytes;
  return lease(this, bytes);
}

uint64_t memory_budget::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

void memory_budget::release(uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_ -= bytes;
  }
  freed_.notify_all();
}

}  // namespace ptjs
