#include "memory_budget.h"

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "error.h"

namespace ptjs {
namespace {

using namespace std::chrono_literals;
using clock = memory_budget::clock;

TEST(MemoryBudget, HoldsBytesUntilTheLeaseEnds) {
  memory_budget budget(100);
  {
    const auto a = budget.acquire(60, clock::now() + 1s);
    EXPECT_EQ(budget.in_use(), 60u);
    const auto b = budget.acquire(40, clock::now() + 1s);
    EXPECT_EQ(budget.in_use(), 100u);
  }
  EXPECT_EQ(budget.in_use(), 0u);
}

TEST(MemoryBudget, WaitsForRoomAndTimesOutNamingTheLimit) {
  memory_budget budget(100u << 20);
  std::optional<memory_budget::lease> held(budget.acquire(80u << 20, clock::now() + 1s));
  try {
    budget.acquire(30u << 20, clock::now() + 50ms);
    FAIL() << "no room, no timeout";
  } catch (const error& e) {
    EXPECT_EQ(e.code(), error_code::timeout);
    EXPECT_NE(std::string(e.what()).find("needs about 30 MiB and other requests hold 80 MiB of the 100 MiB allowed (--max-decode-bytes)"),
              std::string::npos)
        << e.what();
  }
  // A waiter gets in as soon as the holder lets go.
  auto waiter = std::async(std::launch::async, [&] { return budget.acquire(30u << 20, clock::now() + 10s); });
  EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout) << "got in without room";
  held.reset();
  ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
  auto lease = waiter.get();
  EXPECT_EQ(budget.in_use(), 30u << 20);
}

TEST(MemoryBudget, ARequestLargerThanEverythingRunsAlone) {
  memory_budget budget(100);
  std::optional<memory_budget::lease> small(budget.acquire(10, clock::now() + 1s));
  auto big = std::async(std::launch::async, [&] { return budget.acquire(1000, clock::now() + 10s); });
  EXPECT_EQ(big.wait_for(100ms), std::future_status::timeout);
  small.reset();
  ASSERT_EQ(big.wait_for(5s), std::future_status::ready);
  auto lease = big.get();
  EXPECT_EQ(budget.in_use(), 100u);
}

TEST(MemoryBudget, ZeroCapacityIsUnlimited) {
  memory_budget budget(0);
  const auto a = budget.acquire(1ull << 40, clock::now());
  const auto b = budget.acquire(1ull << 40, clock::now());
  EXPECT_EQ(budget.in_use(), 0u);
}

}  // namespace
}  // namespace ptjs
