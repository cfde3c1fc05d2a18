// ShardJobs: a map from job name to the ShardCore of its own store, and the open / drop
// protocol around it (see shard_jobs.h).
#include "server/shard_jobs.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include <spdlog/spdlog.h>

#include "absl/time/clock.h"
#include "common/limits.h"
#include "common/status.h"
#include "server/store_files.h"

namespace augur::shard {
namespace {

namespace fs = std::filesystem;
constexpr char kDroppedPrefix[] = ".dropped-";
// Requests are short (no shard request waits for another); a drop gives them this long.
constexpr absl::Duration kDrainTimeout = absl::Seconds(60);

bool JobChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

absl::Status ValidateJobName(std::string_view job) {
  if (job.empty()) return absl::InvalidArgumentError("job: empty");
  AUGUR_RETURN_IF_ERROR(CheckLength("job", job, kMaxIdBytes));
  const char c0 = job[0];
  if (!JobChar(c0) || c0 == '.' || c0 == '_' || c0 == '-')
    return absl::InvalidArgumentError("job " + Echo(job) +
                                      ": must start with a letter or a digit");
  for (char c : job)
    if (!JobChar(c))
      return absl::InvalidArgumentError("job " + Echo(job) +
                                        ": only letters, digits and . _ - are allowed");
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ShardJobs>> ShardJobs::Open(const ShardJobsOptions& options) {
  std::unique_ptr<ShardJobs> jobs(new ShardJobs());
  jobs->options_ = options;
  jobs->shared_ = NewSharedStoreResources(options.store.block_cache_mb, options.write_buffer_mb);
  StoreOptions so = options.store;
  so.shared = jobs->shared_;
  AUGUR_ASSIGN_OR_RETURN(auto store, ShardStore::Open(so));
  AUGUR_ASSIGN_OR_RETURN(auto core, ShardCore::Open(std::move(store), options.core));
  jobs->default_ = std::move(core);
  if (options.store.profile != StoreProfile::kMemory) {
    jobs->jobs_root_ = (fs::path(options.store.path) / "jobs").string();
    std::error_code ec;
    if (fs::is_directory(jobs->jobs_root_, ec))
      for (const auto& e : fs::directory_iterator(jobs->jobs_root_, ec))
        if (e.path().filename().string().starts_with(kDroppedPrefix)) {
          spdlog::info("removing {}, left by an interrupted job delete", e.path().string());
          fs::remove_all(e.path(), ec);
        }
  }
  return jobs;
}

std::unique_ptr<ShardJobs> ShardJobs::ForCore(ShardCore* default_core) {
  std::unique_ptr<ShardJobs> jobs(new ShardJobs());
  jobs->options_.store.profile = StoreProfile::kMemory;
  jobs->options_.store.path = "/augur-shard";
  jobs->options_.core = default_core->options();
  jobs->shared_ = NewSharedStoreResources(64, 64);
  jobs->default_ = CoreRef(default_core, [](ShardCore*) {});
  return jobs;
}

ShardJobs::~ShardJobs() = default;

std::string ShardJobs::JobPath(std::string_view job) const {
  if (jobs_root_.empty()) return options_.store.path + "-jobs/" + std::string(job);
  return jobs_root_ + "/" + std::string(job);
}

bool ShardJobs::OnDisk(const std::string& job) const {
  std::error_code ec;
  return !jobs_root_.empty() && fs::is_directory(JobPath(job), ec);
}

absl::StatusOr<ShardJobs::CoreRef> ShardJobs::Get(std::string_view job) {
  return Find(job, /*create=*/false);
}

absl::StatusOr<ShardJobs::CoreRef> ShardJobs::GetOrCreate(std::string_view job) {
  return Find(job, /*create=*/true);
}

absl::StatusOr<ShardJobs::CoreRef> ShardJobs::Find(std::string_view job, bool create) {
  if (job.empty()) return default_;
  AUGUR_RETURN_IF_ERROR(ValidateJobName(job));
  {
    absl::ReaderMutexLock lock(&mu_);
    if (auto it = jobs_.find(job); it != jobs_.end()) return it->second;
  }
  absl::MutexLock admin(&admin_mu_);
  {
    absl::ReaderMutexLock lock(&mu_);  // opened while this call waited for admin_mu_
    if (auto it = jobs_.find(job); it != jobs_.end()) return it->second;
  }
  std::string name(job);
  const bool exists = OnDisk(name);
  if (!create && !exists)
    return absl::NotFoundError("this shard holds no tables of job " + Echo(job));
  if (!exists) {
    const size_t held = JobsHeld();
    if (held >= options_.max_jobs)
      return absl::ResourceExhaustedError("this shard holds " + std::to_string(held) +
                                          " jobs, the limit (delete ended jobs)");
  }
  return OpenLocked(name);
}

size_t ShardJobs::JobsHeld() const {
  size_t open = 0;
  {
    absl::ReaderMutexLock lock(&mu_);
    open = jobs_.size();
  }
  if (jobs_root_.empty()) return open;
  // On disk: every job's store, open or not (stores open on first use after a restart).
  size_t stored = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(jobs_root_, ec))
    if (!e.path().filename().string().starts_with(kDroppedPrefix)) ++stored;
  return std::max(open, stored);
}

absl::StatusOr<ShardJobs::CoreRef> ShardJobs::OpenLocked(const std::string& job) {
  StoreOptions so = options_.store;
  so.path = JobPath(job);
  so.from_checkpoint.clear();  // seeds the default namespace only
  so.shared = shared_;
  AUGUR_ASSIGN_OR_RETURN(auto store, ShardStore::Open(so));
  AUGUR_ASSIGN_OR_RETURN(auto core, ShardCore::Open(std::move(store), options_.core));
  CoreRef ref = std::move(core);
  absl::MutexLock lock(&mu_);
  jobs_.emplace(job, ref);
  return ref;
}

absl::StatusOr<bool> ShardJobs::Drop(std::string_view job) {
  if (job.empty())
    return absl::InvalidArgumentError("job: the default namespace cannot be dropped");
  AUGUR_RETURN_IF_ERROR(ValidateJobName(job));
  const std::string name(job);
  absl::MutexLock admin(&admin_mu_);
  bool open = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    open = jobs_.count(name) > 0;
  }
  if (!open && !OnDisk(name)) return false;
  AUGUR_ASSIGN_OR_RETURN(CoreRef closing, CloseLocked(name, "dropped"));
  closing.reset();  // the last reference: the store closes
  if (jobs_root_.empty()) return true;  // a memory store is gone with its core
  std::error_code ec;
  const fs::path dropped = fs::path(jobs_root_) / (kDroppedPrefix + name + "-" +
                                                   std::to_string(absl::ToUnixNanos(absl::Now())));
  fs::rename(JobPath(name), dropped, ec);
  if (ec)
    return absl::UnavailableError("cannot move " + JobPath(name) + " aside: " + ec.message());
  fs::remove_all(dropped, ec);
  if (ec) return absl::UnavailableError("cannot remove " + dropped.string() + ": " + ec.message());
  return true;
}

absl::StatusOr<ShardJobs::CoreRef> ShardJobs::CloseLocked(const std::string& job,
                                                          std::string_view what) {
  CoreRef core;
  {
    absl::MutexLock lock(&mu_);
    if (auto it = jobs_.find(job); it != jobs_.end()) {
      core = std::move(it->second);
      jobs_.erase(it);
    }
  }
  if (!core) return core;
  // Requests that took the namespace before it left the map finish on it first.
  const absl::Time deadline = absl::Now() + kDrainTimeout;
  while (core.use_count() > 1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  if (core.use_count() > 1) {
    absl::MutexLock lock(&mu_);
    jobs_.emplace(job, std::move(core));
    return absl::DeadlineExceededError("requests of job " + Echo(job) + " did not finish; " +
                                       "nothing was " + std::string(what));
  }
  return core;  // the only reference left
}

absl::Status ShardJobs::Restore(std::string_view job, const std::string& dir) {
  if (job.empty())
    return absl::InvalidArgumentError(
        "job: the default namespace cannot be restored (start the shard with --from-checkpoint)");
  AUGUR_RETURN_IF_ERROR(ValidateJobName(job));
  if (!IsCheckpointDir(dir))
    return absl::NotFoundError("dir " + Echo(dir) + " holds no checkpoint of this shard");
  const std::string name(job);
  absl::MutexLock admin(&admin_mu_);
  bool open = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    open = jobs_.count(name) > 0;
  }
  if (!open && !OnDisk(name)) {
    const size_t held = JobsHeld();
    if (held >= options_.max_jobs)
      return absl::ResourceExhaustedError("this shard holds " + std::to_string(held) +
                                          " jobs, the limit (delete ended jobs)");
  }
  // A memory store lives in its own Env: the old one stays open until the copy is; a disk
  // store must close before its directory moves.
  AUGUR_ASSIGN_OR_RETURN(CoreRef old, CloseLocked(name, "restored"));
  if (!jobs_root_.empty()) old.reset();
  StoreOptions so = options_.store;
  so.path = JobPath(name);
  so.from_checkpoint = dir;
  so.shared = shared_;
  // On disk the old store is set aside until the copy opens, and put back when it does not.
  std::error_code ec;
  fs::path aside;
  if (!jobs_root_.empty() && fs::exists(so.path, ec)) {
    aside = fs::path(jobs_root_) / (kDroppedPrefix + name + "-" +
                                    std::to_string(absl::ToUnixNanos(absl::Now())));
    fs::rename(so.path, aside, ec);
    if (ec) return absl::UnavailableError("cannot move " + so.path + " aside: " + ec.message());
  }
  absl::StatusOr<std::unique_ptr<ShardCore>> core;
  auto store = ShardStore::Open(so);
  if (store.ok()) {
    core = ShardCore::Open(std::move(*store), options_.core);
  } else {
    core = store.status();
  }
  if (!core.ok()) {
    spdlog::warn("job {}: restoring {} failed: {}", name, dir, core.status().ToString());
    if (jobs_root_.empty()) {
      absl::MutexLock lock(&mu_);
      if (old) jobs_.emplace(name, std::move(old));
    } else {
      fs::remove_all(so.path, ec);
      if (!aside.empty()) {
        fs::rename(aside, so.path, ec);
        (void)OpenLocked(name);
      }
    }
    return core.status();
  }
  if (!aside.empty()) fs::remove_all(aside, ec);
  CoreRef ref = std::move(*core);
  absl::MutexLock lock(&mu_);
  jobs_.emplace(name, std::move(ref));
  spdlog::info("job {}: restored from checkpoint {}", name, dir);
  return absl::OkStatus();
}

}  // namespace augur::shard
