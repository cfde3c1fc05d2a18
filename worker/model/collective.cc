// LocalCollective and the directory-backed RendezvousStore.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "worker/model/collective.h"

namespace augur::model {
namespace {

class LocalCollective final : public Collective {
 public:
  BufferKind buffer_kind() const override { return BufferKind::kHost; }
  absl::Status AllReduceSum(float*, int64_t n) override {
    if (n < 0) return absl::InvalidArgumentError("negative element count");
    return absl::OkStatus();
  }
  int rank() const override { return 0; }
  int size() const override { return 1; }
};

// Keys may hold '/' and other characters; file names are the key's bytes in hex.
std::string KeyFile(const std::string& key) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : key) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

class FileRendezvousStore final : public RendezvousStore {
 public:
  explicit FileRendezvousStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  absl::Status Set(const std::string& key, const std::string& value) override {
    const auto final_path = dir_ / KeyFile(key);
    // Readers must never see a half-written value: write a private temp file, then rename.
    const auto tmp = dir_ / absl::StrCat(".tmp-", KeyFile(key), "-", getpid(), "-",
                                         std::hash<std::thread::id>()(std::this_thread::get_id()));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(value.data(), static_cast<std::streamsize>(value.size()));
      if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp.string()));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, final_path, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("cannot publish ", final_path.string()));
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Get(const std::string& key, absl::Duration timeout) override {
    const auto path = dir_ / KeyFile(key);
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      std::ifstream in(path, std::ios::binary);
      if (in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
      }
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("rendezvous key '", key, "' not set"));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace

absl::Status Collective::AllReduceHostSum(float* data, int64_t n) {
  if (buffer_kind() == BufferKind::kHost) return AllReduceSum(data, n);
  return absl::UnimplementedError("this device collective cannot reduce host buffers");
}

std::unique_ptr<Collective> NewLocalCollective() { return std::make_unique<LocalCollective>(); }

absl::StatusOr<std::unique_ptr<RendezvousStore>> NewFileRendezvousStore(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("empty rendezvous directory");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  return std::unique_ptr<RendezvousStore>(new FileRendezvousStore(dir));
}

}  // namespace augur::model
