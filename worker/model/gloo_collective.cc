// GlooCollective: Gloo's ring all-reduce over its TCP transport. Gloo reports failures by
// throwing; every Gloo call is wrapped so exceptions never cross this file.
#include <chrono>
#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gloo/allreduce.h"
#include "gloo/math.h"
#include "gloo/rendezvous/context.h"
#include "gloo/rendezvous/prefix_store.h"
#include "gloo/rendezvous/store.h"
#include "gloo/transport/tcp/device.h"
#include "worker/model/collective.h"

namespace augur::model {
namespace {

// Presents our RendezvousStore to Gloo. Gloo's Store API cannot return errors, so failures
// become exceptions that the callers below catch.
class GlooStoreAdapter final : public gloo::rendezvous::Store {
 public:
  GlooStoreAdapter(RendezvousStore* store, absl::Duration timeout)
      : store_(store), timeout_(timeout) {}

  void set(const std::string& key, const std::vector<char>& data) override {
    absl::Status s = store_->Set(key, std::string(data.begin(), data.end()));
    if (!s.ok()) throw std::runtime_error(s.ToString());
  }
  std::vector<char> get(const std::string& key) override {
    auto v = store_->Get(key, timeout_);
    if (!v.ok()) throw std::runtime_error(v.status().ToString());
    return std::vector<char>(v->begin(), v->end());
  }
  void wait(const std::vector<std::string>& keys) override { wait(keys, {}); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds&) override {
    for (const auto& k : keys) get(k);
  }

 private:
  RendezvousStore* store_;
  absl::Duration timeout_;
};

class GlooCollective final : public Collective {
 public:
  explicit GlooCollective(std::shared_ptr<gloo::rendezvous::Context> ctx)
      : ctx_(std::move(ctx)) {}

  BufferKind buffer_kind() const override { return BufferKind::kHost; }
  absl::Status AllReduceSum(float* data, int64_t n) override {
    if (n < 0) return absl::InvalidArgumentError("negative element count");
    if (n == 0 || ctx_->size == 1) return absl::OkStatus();
    try {
      gloo::AllreduceOptions opts(ctx_);
      opts.setOutput(data, static_cast<size_t>(n));  // output only: reduce in place
      opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
      opts.setReduceFunction(
          static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
      opts.setTag(tag_++);
      gloo::allreduce(opts);
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("gloo all-reduce failed: ", e.what()));
    }
    return absl::OkStatus();
  }
  int rank() const override { return ctx_->rank; }
  int size() const override { return ctx_->size; }

 private:
  std::shared_ptr<gloo::rendezvous::Context> ctx_;
  uint32_t tag_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> NewGlooCollective(const GlooCollectiveOptions& o) {
  if (o.size < 1 || o.rank < 0 || o.rank >= o.size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", o.rank, " is outside a group of ", o.size));
  }
  if (o.store == nullptr) return absl::InvalidArgumentError("no rendezvous store");
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = o.hostname;
    auto device = gloo::transport::tcp::CreateDevice(attr);
    GlooStoreAdapter adapter(o.store, o.timeout);
    gloo::rendezvous::PrefixStore store(o.prefix + "/gloo", adapter);
    auto ctx = std::make_shared<gloo::rendezvous::Context>(o.rank, o.size);
    ctx->setTimeout(std::chrono::milliseconds(absl::ToInt64Milliseconds(o.timeout)));
    ctx->connectFullMesh(store, device);
    return std::unique_ptr<Collective>(new GlooCollective(std::move(ctx)));
  } catch (const std::exception& e) {
    const std::string what = e.what();
    if (what.find("DEADLINE_EXCEEDED") != std::string::npos) {
      return absl::DeadlineExceededError(absl::StrCat("gloo rendezvous: ", what));
    }
    return absl::UnavailableError(absl::StrCat("gloo rendezvous failed: ", what));
  }
}

}  // namespace augur::model
