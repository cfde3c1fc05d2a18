// The real augur-shard binary: acknowledged writes survive kill -9, a second server on a data
// dir in use fails at startup, --from-checkpoint serves a checkpoint's rows.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/metrics_http.h"
#include "server/client/shard_client.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

// One augur-shard child process; its stderr goes to `log`.
class ShardProcess {
 public:
  ShardProcess(std::vector<std::string> args, std::string log) : log_(std::move(log)) {
    std::string bin = augur::testing::BinDir() + "/augur-shard";
    args.insert(args.begin(), bin);
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test process that crashed
      int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
  }
  ~ShardProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // The port from "augur-shard listening on HOST:PORT", or -1 if it exits or 10 s pass.
  int WaitListening() {
    static const std::regex re("listening on [^ ]+:([0-9]+)");
    for (int i = 0; i < 1000; ++i) {
      std::smatch m;
      std::string log = Log();
      if (std::regex_search(log, m, re)) return std::stoi(m[1]);
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  // Waits for exit; the exit code, or 128 + signal.
  int Wait() {
    if (!exited_) waitpid(pid_, &status_, 0);
    exited_ = true;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
  }
  void Kill(int sig) { kill(pid_, sig); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
};

std::unique_ptr<ShardClient> ClientFor(int port) {
  return *ShardClient::Connect({"127.0.0.1:" + std::to_string(port)});
}

std::vector<std::string> Args(const std::string& data_dir) {
  return {"--listen", "127.0.0.1:0", "--profile", "ssd", "--data-dir", data_dir,
          "--block-cache-mb", "8", "--metrics-listen", "off"};
}

}  // namespace

TEST_CASE("acknowledged writes survive kill -9 of the shard binary") {
  augur::testing::ScratchDir dir("bin-kill9");
  std::string data = dir.path() + "/data";
  RowBlock w{1, {3, 9, 500}, {1.5f, 2.5f, 3.5f}, {4, 5, 6}};
  {
    ShardProcess p(Args(data), dir.path() + "/log1");
    int port = p.WaitListening();
    INFO(p.Log());
    REQUIRE(port > 0);
    auto client = ClientFor(port);
    REQUIRE(client->CreateTable(testing::MakeSpec(1, 1000, 1)).get().ok());
    REQUIRE(client->Write({w}).get().ok());
    p.Kill(SIGKILL);
    CHECK(p.Wait() == 128 + SIGKILL);
  }
  ShardProcess p(Args(data), dir.path() + "/log2");
  int port = p.WaitListening();
  REQUIRE(port > 0);
  auto client = ClientFor(port);
  auto r = client->Lookup({RowBlock{1, w.rows, {}, {}}}).get();
  REQUIRE(r.ok());
  CHECK((*r)[0].values == w.values);
  CHECK((*r)[0].versions == w.versions);
  p.Kill(SIGTERM);
  CHECK(p.Wait() == 0);
}

TEST_CASE("a second shard binary on a data dir in use exits with a lock error") {
  augur::testing::ScratchDir dir("bin-lock");
  std::string data = dir.path() + "/data";
  ShardProcess first(Args(data), dir.path() + "/log1");
  REQUIRE(first.WaitListening() > 0);
  ShardProcess second(Args(data), dir.path() + "/log2");
  CHECK(second.WaitListening() == -1);
  CHECK(second.Wait() != 0);
  CHECK(second.Log().find("in use by another process (RocksDB LOCK)") != std::string::npos);
}

TEST_CASE("the shard binary started from a checkpoint serves its rows") {
  augur::testing::ScratchDir dir("bin-ckpt");
  RowBlock w{1, {11}, {7.25f}, {3}};
  {
    ShardProcess p({"--listen", "127.0.0.1:0", "--profile", "memory", "--metrics-listen", "off"},
                   dir.path() + "/log1");
    int port = p.WaitListening();
    REQUIRE(port > 0);
    auto client = ClientFor(port);
    REQUIRE(client->CreateTable(testing::MakeSpec(1, 1000, 1)).get().ok());
    REQUIRE(client->Write({w}).get().ok());
    REQUIRE(client->Checkpoint(dir.path() + "/ck").get().ok());
  }
  auto args = Args(dir.path() + "/data");
  args.insert(args.end(), {"--from-checkpoint", dir.path() + "/ck/shard-0"});
  ShardProcess p(args, dir.path() + "/log2");
  int port = p.WaitListening();
  REQUIRE(port > 0);
  auto r = ClientFor(port)->Lookup({RowBlock{1, {11}, {}, {}}}).get();
  REQUIRE(r.ok());
  CHECK((*r)[0].values == w.values);
}

TEST_CASE("the shard binary prints its metrics port and serves the shard metrics") {
  augur::testing::ScratchDir dir("bin-metrics");
  ShardProcess p({"--listen", "127.0.0.1:0", "--profile", "memory"}, dir.path() + "/log");
  REQUIRE(p.WaitListening() > 0);
  std::smatch m;
  std::string log = p.Log();
  REQUIRE(std::regex_search(log, m, std::regex("metrics on ([^ \n]+)")));
  auto body = HttpGet(m[1], "/metrics");
  REQUIRE(body.ok());
  CHECK(body->find("augur_shard_rows_read_total") != std::string::npos);
  CHECK(body->find("augur_shard_block_cache_hit_total") != std::string::npos);
}

}  // namespace augur::shard
