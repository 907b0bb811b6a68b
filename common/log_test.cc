#include "common/log.h"

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace grod::log {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A sink recording what reaches it, enabled up to `level`.
std::atomic<int> recorded_level{static_cast<int>(Level::kDebug)};
std::atomic<int> recorded_lines{0};
std::mutex last_line_mu;
std::string last_line;

bool RecordEnabled(Level level) {
  return static_cast<int>(level) <= recorded_level.load();
}
void Record(Level level, std::string_view message) {
  ++recorded_lines;
  std::lock_guard<std::mutex> l(last_line_mu);
  last_line = std::string(LevelName(level)) + "|" + std::string(message);
}
constexpr Sink kRecordingSink = {RecordEnabled, Record};

// Leaves the facility as a process starts: stderr sink at info.
class LogTest : public ::testing::Test {
 protected:
  void TearDown() override {
    SetSink(nullptr);
    SetStderrLevel(Level::kInfo);
    recorded_level = static_cast<int>(Level::kDebug);
    recorded_lines = 0;
    last_line.clear();
  }
};

TEST_F(LogTest, DefaultSinkWritesPrefixedLinesUpToInfoToStderr) {
  ::testing::internal::CaptureStderr();
  GROD_LOG(ERROR, "cannot bind ", "127.0.0.1:", 50051);
  GROD_LOG(WARNING, "warning: no credentials");
  GROD_LOG(NOTICE, "serving");
  GROD_LOG(INFO, "tenant ", "acme", " created");
  GROD_LOG(DEBUG, "hidden detail");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "grod: cannot bind 127.0.0.1:50051\n"
            "grod: warning: no credentials\n"
            "grod: serving\n"
            "grod: tenant acme created\n");
}

TEST_F(LogTest, StderrLevelRaisesAndLowers) {
  SetStderrLevel(Level::kDebug);
  ::testing::internal::CaptureStderr();
  GROD_LOG(DEBUG, "detail ", 7);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "grod: detail 7\n");

  SetStderrLevel(Level::kError);
  ::testing::internal::CaptureStderr();
  GROD_LOG(WARNING, "quiet warning");
  GROD_LOG(NOTICE, "quiet notice");
  GROD_LOG(ERROR, "loud error");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "grod: loud error\n");
  EXPECT_FALSE(Enabled(Level::kWarning));
  EXPECT_TRUE(Enabled(Level::kError));
}

TEST_F(LogTest, SinkSwitchRoutesLinesAndBack) {
  SetSink(&kRecordingSink);
  ::testing::internal::CaptureStderr();
  GROD_LOG(DEBUG, "to the sink ", 1);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "") << "a line went to stderr while another sink was set";
  EXPECT_EQ(last_line, "debug|to the sink 1");
  EXPECT_EQ(recorded_lines, 1);

  SetSink(nullptr);
  ::testing::internal::CaptureStderr();
  GROD_LOG(NOTICE, "back on stderr");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "grod: back on stderr\n");
  EXPECT_EQ(recorded_lines, 1) << "the old sink still received lines";
}

// A disabled level costs no formatting: the arguments are not evaluated.
TEST_F(LogTest, DisabledLevelDoesNotEvaluateArguments) {
  SetSink(&kRecordingSink);
  recorded_level = static_cast<int>(Level::kWarning);
  int evaluated = 0;
  auto expensive = [&] {
    ++evaluated;
    return std::string("x");
  };
  GROD_LOG(INFO, "value ", expensive());
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(recorded_lines, 0);
  GROD_LOG(WARNING, "value ", expensive());
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(last_line, "warning|value x");
}

// Lines written while another thread switches the sink each reach exactly
// one sink: none is lost or written twice.
TEST_F(LogTest, SwitchingWhileOtherThreadsLog) {
  constexpr int kThreads = 4;
  constexpr int kLines = 2000;
  SetStderrLevel(Level::kDebug);
  ::testing::internal::CaptureStderr();
  std::atomic<bool> go{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      while (!go.load()) {
      }
      for (int i = 0; i < kLines; ++i) GROD_LOG(NOTICE, "line ", i);
    });
  }
  go = true;
  for (int i = 0; i < 1000; ++i) {
    SetSink(i % 2 == 0 ? &kRecordingSink : nullptr);
  }
  for (std::thread& w : writers) w.join();
  SetSink(nullptr);
  const std::string err = ::testing::internal::GetCapturedStderr();
  int on_stderr = 0;
  for (char c : err) on_stderr += c == '\n';
  EXPECT_EQ(on_stderr + recorded_lines.load(), kThreads * kLines);
}

TEST(LevelNameTest, MatchesDpdkSpelling) {
  EXPECT_EQ(LevelName(Level::kError), "error");
  EXPECT_EQ(LevelName(Level::kWarning), "warning");
  EXPECT_EQ(LevelName(Level::kNotice), "notice");
  EXPECT_EQ(LevelName(Level::kInfo), "info");
  EXPECT_EQ(LevelName(Level::kDebug), "debug");
}

}  // namespace
}  // namespace grod::log
