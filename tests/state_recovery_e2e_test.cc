// The state file through the real grod: a saved state this machine cannot
// load (more held packets than the mbuf pool now admits, as after a reboot
// with fewer hugepages) is quarantined with a loud log by default, or
// stops grod with instructions under --state_recovery=fail; the old state
// file name ("state.textproto", binary) is migrated to "state.binpb".
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/grod_process.h"

namespace grod {
namespace {

using ::grod::testing::CommandResult;
using ::grod::testing::GrodProcess;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string Dir(const std::string& name) {
  const std::string d = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  mkdir(d.c_str(), 0700);
  return d;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

std::vector<std::string> Files(const std::string& dir,
                               const std::string& prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = d ? readdir(d) : nullptr) {
    if (absl::StartsWith(e->d_name, prefix)) names.push_back(e->d_name);
  }
  if (d) closedir(d);
  return names;
}

// Two null ports, one worker; `mbufs` sized by the test.
std::string Config(const std::string& state_file, int mbufs) {
  return testing::TestEalArgsConfig(
             {"net_null0,no-rx=1", "net_null1,no-rx=1"}) +
         absl::StrCat("idle_sleep_us: 100\nmbufs: ", mbufs, "\nstate_file: \"",
                      state_file,
                      "\"\n"
                      "tenants { name: \"cfg\" selectors { vlan_id: 7 } "
                      "quotas { max_held_packets: 1000 } }\n");
}

CommandResult Grocli(const GrodProcess& grod, std::vector<std::string> args) {
  std::vector<std::string> argv = {testing::Runfile("cli/grocli"), "--server",
                                   grod.grpc_target()};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv);
}

// Starts grod, creates tenant "big" holding 20000 packets per lcore (fits a
// 32767-mbuf pool, not a 16383 one), stops it.
void SaveBigTenant(const std::string& state_file) {
  absl::StatusOr<GrodProcess> grod =
      GrodProcess::Start(Config(state_file, 32767));
  ASSERT_TRUE(grod.ok()) << grod.status();
  CommandResult r = Grocli(*grod, {"tenant", "create", "big", "--selector",
                                   "port=0,vlan=100", "--max-held", "20000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(*grod->Stop(SIGTERM), 0);
}

TEST(StateRecoveryE2eTest, UnloadableStateIsQuarantinedByDefault) {
  const std::string dir = Dir("quarantine");
  const std::string state = dir + "/state.binpb";
  SaveBigTenant(state);
  const std::string saved = ReadFile(state);
  ASSERT_FALSE(saved.empty());

  // Fewer mbufs than when it was saved: with --state_recovery=fail grod
  // refuses to start, names the numbers and the way out, touches nothing.
  const std::string config_path = dir + "/small.textproto";
  std::ofstream(config_path) << Config(state, 16383)
                             << "grpc_listen: \"127.0.0.1:0\"\n"
                                "metrics_listen: \"127.0.0.1:0\"\n";
  CommandResult fail =
      testing::RunCommand({testing::Runfile("grod/grod"),
                           "--config=" + config_path, "--state_recovery=fail"});
  EXPECT_EQ(fail.exit_code, 1);
  EXPECT_THAT(fail.err, HasSubstr("would sum to 21000 per worker lcore"));
  EXPECT_THAT(fail.err, HasSubstr("the mbuf pool has 16383"));
  EXPECT_THAT(fail.err, HasSubstr("--state_recovery=quarantine"));
  EXPECT_EQ(ReadFile(state), saved) << "a refused start changed the file";
  EXPECT_THAT(Files(dir, "state.binpb.rejected-"), IsEmpty());

  // By default: starts from the config, the file moved aside, said loudly.
  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(Config(state, 16383));
  ASSERT_TRUE(grod.ok()) << grod.status();
  EXPECT_THAT(grod->log(), HasSubstr("WARNING: state file " + state +
                                     " cannot be applied on this machine"));
  absl::StatusOr<std::string> metrics =
      testing::HttpGet(grod->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, HasSubstr("\ngrod_state_file_quarantined 1\n"));
  const std::vector<std::string> aside = Files(dir, "state.binpb.rejected-");
  ASSERT_THAT(aside, SizeIs(1));
  EXPECT_EQ(ReadFile(dir + "/" + aside[0]), saved) << "kept for the operator";
  EXPECT_EQ(Grocli(*grod, {"tenant", "get", "big"}).exit_code, 1);
  EXPECT_EQ(Grocli(*grod, {"tenant", "get", "cfg"}).exit_code, 0);
  // Serving normally: changes are admitted against the smaller pool.
  CommandResult big = Grocli(*grod, {"tenant", "create", "big", "--selector",
                                     "port=0,vlan=100", "--max-held", "20000"});
  EXPECT_EQ(big.exit_code, 1);
  EXPECT_THAT(big.err, HasSubstr("RESOURCE_EXHAUSTED"));
  EXPECT_EQ(Grocli(*grod, {"tenant", "create", "big", "--selector",
                           "port=0,vlan=100", "--max-held", "9000"})
                .exit_code,
            0);
  ASSERT_EQ(*grod->Stop(SIGTERM), 0);
  // The new state was saved and loads.
  absl::StatusOr<GrodProcess> again = GrodProcess::Start(Config(state, 16383));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(Grocli(*again, {"tenant", "get", "big"}).exit_code, 0);
  EXPECT_THAT(again->log(), ::testing::Not(HasSubstr("WARNING")));
  metrics = testing::HttpGet(again->metrics_port(), "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(*metrics, HasSubstr("\ngrod_state_file_quarantined 0\n"));
  ASSERT_EQ(*again->Stop(SIGTERM), 0);
}

TEST(StateRecoveryE2eTest, OldStateFileNameIsMigrated) {
  const std::string dir = Dir("migrate");
  const std::string state = dir + "/state.binpb";
  SaveBigTenant(state);
  // What an older grod left: the same binary bytes named state.textproto.
  const std::string legacy = dir + "/state.textproto";
  ASSERT_EQ(rename(state.c_str(), legacy.c_str()), 0);
  const std::string old_bytes = ReadFile(legacy);

  absl::StatusOr<GrodProcess> grod = GrodProcess::Start(Config(state, 32767));
  ASSERT_TRUE(grod.ok()) << grod.status();
  EXPECT_EQ(Grocli(*grod, {"tenant", "get", "big"}).exit_code, 0);
  ASSERT_EQ(*grod->Stop(SIGTERM), 0);
  EXPECT_TRUE(Exists(state));
  EXPECT_FALSE(Exists(legacy));
  EXPECT_EQ(ReadFile(legacy + ".migrated"), old_bytes);

  // A config still naming the old file keeps working: binary is read, and
  // what is written under a text name is text.
  ASSERT_EQ(rename((legacy + ".migrated").c_str(), legacy.c_str()), 0);
  absl::StatusOr<GrodProcess> old_name =
      GrodProcess::Start(Config(legacy, 32767));
  ASSERT_TRUE(old_name.ok()) << old_name.status();
  EXPECT_EQ(Grocli(*old_name, {"tenant", "get", "big"}).exit_code, 0);
  ASSERT_EQ(*old_name->Stop(SIGTERM), 0);
  EXPECT_THAT(ReadFile(legacy), HasSubstr("name: \"big\""));
}

}  // namespace
}  // namespace grod
