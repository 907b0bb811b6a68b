#include "common/testing/wait_for.h"

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace grod::testing {
namespace {

TEST(WaitForTest, ReturnsAsSoonAsTheConditionHolds) {
  int calls = 0;
  EXPECT_TRUE(WaitFor([&] { return ++calls == 3; }, absl::Seconds(30),
                      absl::Microseconds(1)));
  EXPECT_EQ(calls, 3);
}

TEST(WaitForTest, SeesAChangeMadeByAnotherThread) {
  std::atomic<bool> set{false};
  std::thread setter([&] { set = true; });
  EXPECT_TRUE(WaitFor([&] { return set.load(); }));
  setter.join();
}

TEST(WaitForTest, GivesUpAfterTheTimeoutWithOneLastLook) {
  const absl::Time start = absl::Now();
  int calls = 0;
  EXPECT_FALSE(WaitFor(
      [&] {
        ++calls;
        return false;
      },
      absl::Milliseconds(50), absl::Milliseconds(10)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_GE(calls, 2);  // polled, then the last look at the deadline
}

}  // namespace
}  // namespace grod::testing
