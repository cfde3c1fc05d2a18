#include "oracle_cacher/job_host.h"

#include <spdlog/spdlog.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <filesystem>

#include "common/data/prep.h"
#include "common/limits.h"
#include "common/metrics.h"
#include "common/status.h"
#include "worker/model/job_model.h"

namespace augur::oracle {
namespace {
// How often a running job's progress is written to the state store.
constexpr absl::Duration kProgressRecordInterval = absl::Seconds(2);
}  // namespace

JobHost::JobHost(std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
                 std::vector<std::string> default_shards, std::string work_dir)
    : JobHost(std::move(tables), options, std::move(default_shards), std::move(work_dir),
              nullptr, StoredJobs{}) {}

JobHost::JobHost(std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
                 std::vector<std::string> default_shards, std::string work_dir,
                 std::unique_ptr<JobStateStore> state, StoredJobs stored)
    : tables_(std::move(tables)),
      state_(std::move(state)),
      default_shards_(std::move(default_shards)),
      work_dir_(std::move(work_dir)),
      options_(options) {
  if (work_dir_.empty())
    work_dir_ = (std::filesystem::temp_directory_path() / ("augur-oracle-" + std::to_string(getpid()))).string();
  Restore(std::move(stored));
  loop_ = std::thread([this] { Loop(); });
}

absl::StatusOr<std::unique_ptr<JobHost>> JobHost::Recover(
    std::unique_ptr<ShardTables> tables, JobRunnerOptions options,
    std::vector<std::string> default_shards, std::string work_dir,
    std::unique_ptr<JobStateStore> state) {
  AUGUR_ASSIGN_OR_RETURN(StoredJobs stored, state->Load());
  return std::unique_ptr<JobHost>(new JobHost(std::move(tables), options,
                                              std::move(default_shards), std::move(work_dir),
                                              std::move(state), std::move(stored)));
}

JobHost::~JobHost() {
  {
    absl::MutexLock l(&mu_);
    stop_ = true;
    stopping_ = true;
    if (running_ && running_->runner) running_->runner->Cancel("oracle shutting down");
  }
  loop_.join();
}

void JobHost::Event(Entry& e, const std::string& what) {
  e.events.push_back(absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::Now(), absl::UTCTimeZone()) +
                     " " + what);
  if (e.events.size() > 200) e.events.erase(e.events.begin());
  (void)Record(e);
}

JobStatus JobHost::Queued(const Entry& e) {
  JobStatus s;
  s.job_id = e.id;
  s.name = e.spec.name;
  s.state = JobState::kPending;
  s.workers = e.spec.cluster.workers;
  s.iteration = e.resume.iteration;
  s.iterations = e.final_status.iterations;
  s.checkpoints = e.resume.checkpoints;
  s.recoveries = e.recoveries;
  s.last_recovery = e.last_recovery;
  return s;
}

void JobHost::QueueResume(Entry& e, int64_t from, const std::string& why, const char* cause) {
  if (options_.metrics)
    options_.metrics
        ->GetCounter("augur_job_recoveries_total",
                     "Jobs resumed from a checkpoint, by cause (user: augur resume; failure: a "
                     "process went away; oracle_restart: the oracle restarted while it ran)",
                     {{"cause", cause}})
        ->Increment();
  const int64_t reached = e.final_status.iteration;
  e.resume.iteration = from;
  e.resume.checkpoints.clear();
  for (int64_t c : e.final_status.checkpoints)
    if (c <= from) e.resume.checkpoints.push_back(c);
  ++e.recoveries;
  e.finished = false;
  e.cancel = false;
  e.last_recovery = why + "; resumes from its checkpoint at iteration " + std::to_string(from) +
                    (reached > from ? " (iterations " + std::to_string(from) + ".." +
                                          std::to_string(reached - 1) + " run again)"
                                    : "");
  e.final_status = Queued(e);
  Event(e, "PENDING: " + e.last_recovery);
}

bool JobHost::MaybeRecover(Entry& e) {
  const JobStatus& s = e.final_status;
  const int64_t allowed = e.spec.checkpoint.max_recoveries;
  if (s.state != JobState::kFailed || !s.recoverable || s.checkpoints.empty() ||
      s.checkpoints.back() >= s.iterations || e.deleting)
    return false;
  // Recoveries of this run of failures: a user's resume starts a fresh count.
  if (e.auto_recoveries >= allowed) {
    if (allowed > 0)
      Event(e, "not recovered again: " + std::to_string(allowed) +
                   " automatic recoveries used (checkpoint.max_recoveries)");
    return false;
  }
  ++e.auto_recoveries;
  e.resume.automatic = true;
  e.not_before = absl::Now() + kRecoverySettle;
  QueueResume(e, s.checkpoints.back(),
              "FAILED (" + s.reason + "); automatic recovery " +
                  std::to_string(e.auto_recoveries) + " of " + std::to_string(allowed),
              "failure");
  spdlog::warn("{}: recovering from its checkpoint at iteration {} ({} of {})", e.id,
               e.resume.iteration, e.auto_recoveries, allowed);
  return true;
}

absl::StatusOr<int64_t> JobHost::Resume(const std::string& id, int64_t from) {
  absl::MutexLock l(&mu_);
  Entry* e = nullptr;
  for (auto& j : jobs_)
    if (j->id == id) e = j.get();
  if (!e) return absl::NotFoundError("no job " + Echo(id));
  if (!e->finished || e == running_ || e == starting_ || e->deleting)
    return absl::FailedPreconditionError(id + " has not ended (or is being deleted)");
  const auto& ckpts = e->final_status.checkpoints;
  if (ckpts.empty())
    return absl::FailedPreconditionError(
        id + " has no checkpoint to resume from (checkpoint.every was " +
        std::to_string(e->spec.checkpoint.every) + ")");
  if (from == 0) {
    if (e->final_status.state == JobState::kSucceeded)
      return absl::FailedPreconditionError(
          id + " SUCCEEDED: name the checkpoint to train again from (--from ITER)");
    from = ckpts.back();
  }
  if (std::find(ckpts.begin(), ckpts.end(), from) == ckpts.end()) {
    std::string have;
    for (size_t i = ckpts.size() > 8 ? ckpts.size() - 8 : 0; i < ckpts.size(); ++i)
      have += (have.empty() ? "" : ", ") + std::to_string(ckpts[i]);
    return absl::InvalidArgumentError("from: " + id + " has no checkpoint at iteration " +
                                      std::to_string(from) + " (its last: " + have + ")");
  }
  if (e->final_status.iterations > 0 && from >= e->final_status.iterations)
    return absl::FailedPreconditionError("from: the checkpoint at iteration " +
                                         std::to_string(from) +
                                         " is the job's end: nothing is left to train");
  e->resume.automatic = false;
  e->auto_recoveries = 0;
  QueueResume(*e, from, "resume requested", "user");
  spdlog::info("{} queued to resume from iteration {}", id, from);
  return from;
}

absl::StatusOr<std::string> JobHost::Submit(job::JobSpec spec) {
  const bool oracle_shards = spec.cluster.shards.empty();
  if (oracle_shards) spec.cluster.shards = default_shards_;
  if (spec.cluster.shards.empty())
    return absl::InvalidArgumentError("cluster.shards: the job names no shards and the oracle has no --shards");
  absl::MutexLock l(&mu_);
  auto e = std::make_unique<Entry>();
  e->oracle_shards = oracle_shards;
  e->seq = next_id_++;
  e->id = "job-" + std::to_string(e->seq);
  e->spec = std::move(spec);
  e->final_status = Queued(*e);
  e->events.push_back(absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::Now(), absl::UTCTimeZone()) +
                      " PENDING: submitted");
  if (absl::Status st = Record(*e); !st.ok()) {
    --next_id_;
    return absl::Status(st.code(), "cannot record the job: " + std::string(st.message()));
  }
  std::string id = e->id;
  jobs_.push_back(std::move(e));
  return id;
}

// Starts queued jobs one at a time and records how each one ends.
void JobHost::Loop() {
  while (true) {
    RemoveGarbage();
    Entry* next = nullptr;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        if (stop_) return true;
        for (auto& j : jobs_)
          if (!j->finished && !j->runner) return true;
        return false;
      };
      mu_.Await(absl::Condition(&ready));
      if (stop_) return;
      for (auto& j : jobs_)
        if (!j->finished && !j->runner) {
          next = j.get();
          break;
        }
      starting_ = next;  // Delete leaves it alone while it is used outside mu_
      // An automatic recovery lets the failed run's last requests land first.
      auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
      if (next->not_before > absl::Now())
        mu_.AwaitWithDeadline(absl::Condition(&stopped), next->not_before);
      if (stop_) {
        starting_ = nullptr;
        return;
      }
    }
    auto prepared = PrepareData(*next);
    absl::StatusOr<std::unique_ptr<JobRunner>> runner =
        prepared.ok()
            ? JobRunner::Start(*prepared, next->id, tables_.get(), options_, next->resume)
            : absl::StatusOr<std::unique_ptr<JobRunner>>(prepared.status());
    std::shared_ptr<JobRunner> shared;
    {
      absl::MutexLock l(&mu_);
      starting_ = nullptr;
      // Cancelled while it was starting: it never runs (the runner, if any, is dropped below).
      if (next->finished) {
        Release(*next);
        continue;
      }
      if (!runner.ok()) {
        next->finished = true;
        next->final_status.state = JobState::kFailed;
        next->final_status.reason = std::string(runner.status().message());
        Event(*next, "FAILED: " + next->final_status.reason);
        spdlog::warn("{} failed to start: {}", next->id, runner.status().ToString());
        Release(*next);
        continue;
      }
      next->runner = std::move(*runner);
      // With the dataset's feature counts, still naming the source data (a resume converts
      // it again).
      job::JobSpec ran = next->runner->spec();
      ran.data.train = next->spec.data.train;
      ran.data.eval = next->spec.data.eval;
      next->spec = std::move(ran);
      next->started = true;
      shared = next->runner;
      running_ = next;
      Event(*next, "RUNNING: waiting for " + std::to_string(next->spec.cluster.workers) +
                       " workers" +
                       (next->resume.iteration > 0
                            ? ", from iteration " + std::to_string(next->resume.iteration)
                            : ""));
      spdlog::info("{} ({}) started", next->id, next->spec.name);
    }
    JobState s;
    absl::Time recorded = absl::Now();
    uint64_t seen = shared->Changes();
    while (!IsFinal(s = shared->WaitFinalOrChange(seen, absl::Milliseconds(500)))) {
      shared->CheckHealth();
      absl::MutexLock l(&mu_);
      if (stop_) break;
      // Progress every few seconds; a change (a checkpoint listed above all: what a restarted
      // oracle resumes from) at once.
      const uint64_t changes = shared->Changes();
      if (changes != seen || absl::Now() - recorded >= kProgressRecordInterval) {
        (void)Record(*next);  // for `augur status`, and a resume, after a restart
        recorded = absl::Now();
        seen = changes;
      }
    }
    {
      absl::MutexLock l(&mu_);
      if (stop_ && state_) {
        // Shutting down: the record still says it runs, so the next oracle finds it
        // interrupted (RecoverInterrupted) instead of cancelled by this shutdown.
        running_ = nullptr;
        return;
      }
      next->final_status = shared->Status();
      next->final_status.recoveries = next->recoveries;
      next->final_status.last_recovery = next->last_recovery;
      next->finished = IsFinal(next->final_status.state);
      Event(*next, std::string(JobStateName(next->final_status.state)) +
                       (next->final_status.reason.empty() ? "" : ": " + next->final_status.reason));
      running_ = nullptr;
      if (next->finished) Release(*next);
      if (next->finished && !stop_) MaybeRecover(*next);
      if (stop_) return;
    }
    shared.reset();  // the last reference, unless an RPC still holds one
    RemoveGarbage();
    malloc_trim(0);  // give the job's freed memory back to the system
  }
}

std::shared_ptr<JobRunner> JobHost::Running() const {
  absl::MutexLock l(&mu_);
  return running_ ? running_->runner : nullptr;
}

absl::StatusOr<JobStatus> JobHost::Status(const std::string& id, bool snapshot) const {
  absl::MutexLock l(&mu_);
  const Entry* e = nullptr;
  if (id.empty()) {
    e = running_ ? running_ : (jobs_.empty() ? nullptr : jobs_.back().get());
  } else {
    for (auto& j : jobs_)
      if (j->id == id) e = j.get();
  }
  if (!e) return absl::NotFoundError(id.empty() ? "no job was submitted" : "no job " + Echo(id));
  if (!e->runner || e->finished) return e->final_status;
  const uint64_t changes = e->runner->Changes();
  const absl::Time now = absl::Now();
  if (!snapshot || changes != e->snapshot_changes || now - e->snapshot_at >= kStatusMaxAge) {
    e->snapshot = e->runner->Status();
    e->snapshot.recoveries = e->recoveries;
    e->snapshot.last_recovery = e->last_recovery;
    e->snapshot_changes = changes;
    e->snapshot_at = now;
  }
  return e->snapshot;
}

std::vector<JobStatus> JobHost::List(bool snapshot) const {
  std::vector<std::string> ids;
  {
    absl::MutexLock l(&mu_);
    for (auto& j : jobs_) ids.push_back(j->id);
  }
  std::vector<JobStatus> out;
  for (auto& id : ids)
    if (auto s = Status(id, snapshot); s.ok()) out.push_back(*s);
  return out;
}

absl::Status JobHost::Cancel(const std::string& id, const std::string& reason) {
  absl::MutexLock l(&mu_);
  for (auto& j : jobs_) {
    if (j->id != id) continue;
    if (j->finished) return absl::FailedPreconditionError(id + " already ended");
    if (j->runner) {
      j->runner->Cancel(reason);
    } else {
      // Queued, or converting its data: Loop sees `finished` and never starts it.
      j->cancel = true;
      j->finished = true;
      j->final_status.state = JobState::kCancelled;
      j->final_status.reason = reason;
      Event(*j, "CANCELLED: " + reason);
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError("no job " + Echo(id));
}

absl::Status JobHost::Delete(const std::string& id) {
  job::JobSpec spec;
  {
    absl::MutexLock l(&mu_);
    Entry* e = nullptr;
    for (auto& j : jobs_)
      if (j->id == id) e = j.get();
    if (!e) return absl::NotFoundError("no job " + Echo(id));
    if (!e->finished || e == running_ || e == starting_)
      return absl::FailedPreconditionError(id + " has not ended: cancel it first (augur cancel " +
                                           id + ")");
    if (e->deleting) return absl::FailedPreconditionError(id + " is already being deleted");
    e->deleting = true;
    spec = e->spec;
  }
  // Outside mu_: every shard removes the job's files. `deleting` keeps the entry in place.
  absl::Status dropped = tables_->Drop(id, spec);
  absl::MutexLock l(&mu_);
  auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](auto& j) { return j->id == id; });
  if (!dropped.ok()) {
    (*it)->deleting = false;
    Event(**it, "delete failed: " + std::string(dropped.message()));
    return absl::Status(dropped.code(),
                        "dropping the tables of " + id + ": " + std::string(dropped.message()));
  }
  if (state_) {
    if (auto st = state_->Delete((*it)->seq); !st.ok()) {
      (*it)->deleting = false;
      return absl::Status(st.code(), "the tables of " + id + " are dropped, but the oracle "
                                     "could not forget it: " + std::string(st.message()));
    }
  }
  spdlog::info("{} deleted: its tables are dropped on every shard", id);
  jobs_.erase(it);
  return absl::OkStatus();
}

absl::Status JobHost::Record(const Entry& e) {
  if (!state_) return absl::OkStatus();
  JobRecord r;
  r.seq = e.seq;
  r.id = e.id;
  r.spec_yaml = job::ToYaml(e.spec);
  r.status = e.runner && !e.finished ? e.runner->Status() : e.final_status;
  r.status.recoveries = e.recoveries;
  r.status.last_recovery = e.last_recovery;
  r.finished = e.finished;
  r.started = e.started;
  r.oracle_shards = e.oracle_shards;
  r.events = e.events;
  r.resume_from = e.finished ? 0 : e.resume.iteration;
  r.running = e.runner != nullptr && !e.finished;
  r.recoveries = e.recoveries;
  absl::Status st = state_->Put(r, next_id_);
  if (!st.ok()) spdlog::warn("{}: cannot record it in the state dir: {}", e.id, st.ToString());
  return st;
}

void JobHost::Restore(StoredJobs stored) {
  absl::MutexLock l(&mu_);
  next_id_ = std::max<int64_t>(next_id_, stored.next_seq);
  std::map<int64_t, std::vector<float>> models(std::make_move_iterator(stored.models.begin()),
                                               std::make_move_iterator(stored.models.end()));
  for (JobRecord& r : stored.jobs) {
    auto e = std::make_unique<Entry>();
    e->seq = r.seq;
    e->id = r.id;
    e->final_status = std::move(r.status);
    e->finished = r.finished;
    e->started = r.started;
    e->oracle_shards = r.oracle_shards;
    e->events = std::move(r.events);
    e->recoveries = r.recoveries;
    e->was_running = r.running;
    e->last_recovery = e->final_status.last_recovery;
    e->resume.iteration = r.resume_from;
    for (int64_t c : e->final_status.checkpoints)
      if (r.resume_from > 0 && c <= r.resume_from) e->resume.checkpoints.push_back(c);
    if (auto m = models.find(r.seq); m != models.end()) e->dense = std::move(m->second);
    auto spec = job::ParseJobSpec(r.spec_yaml);
    if (spec.ok()) {
      e->spec = std::move(*spec);
      // Shards the oracle gave it follow the oracle's current --shards (same count: rows are
      // placed by it), so export and delete reach them after a restart on new addresses.
      if (e->oracle_shards && !default_shards_.empty() &&
          e->spec.cluster.shards != default_shards_) {
        if (e->spec.cluster.shards.size() == default_shards_.size())
          e->spec.cluster.shards = default_shards_;
        else
          spdlog::warn("{} ran on {} shards, the oracle now has {}: it keeps its old addresses",
                       e->id, e->spec.cluster.shards.size(), default_shards_.size());
      }
    } else if (!e->finished) {
      e->finished = true;  // cannot run what does not parse; keep it visible
      e->final_status.state = JobState::kFailed;
      e->final_status.reason = "its recorded spec no longer parses: " +
                               std::string(spec.status().message());
    }
    if (!e->finished) RecoverInterrupted(*e);
    jobs_.push_back(std::move(e));
  }
  if (!jobs_.empty())
    spdlog::info("recovered {} job(s) from the state dir; the next id is job-{}", jobs_.size(),
                 next_id_);
}

void JobHost::RecoverInterrupted(Entry& e) {
  if (!e.started || !e.was_running) {
    // Never started (nothing of it exists on the shards), or queued to resume (its runner did
    // not exist yet): it runs later, as it would have.
    e.final_status = Queued(e);
    Event(e, "PENDING: queued again after an oracle restart");
    return;
  }
  if (!e.final_status.checkpoints.empty() &&
      e.final_status.checkpoints.back() < e.final_status.iterations) {
    e.resume.automatic = false;  // the workers may be restarting too: wait for them
    QueueResume(e, e.final_status.checkpoints.back(),
                "the oracle restarted while it ran (at iteration " +
                    std::to_string(e.final_status.iteration) + ")",
                "oracle_restart");
    return;
  }
  e.finished = true;
  e.final_status.state = JobState::kFailed;
  e.final_status.reason =
      "interrupted: the oracle restarted while the job ran (last recorded iteration " +
      std::to_string(e.final_status.iteration) + " of " +
      std::to_string(e.final_status.iterations) + ")";
  Event(e, "FAILED: " + e.final_status.reason);
}

std::vector<std::string> JobHost::Events(const std::string& id) const {
  absl::MutexLock l(&mu_);
  for (auto& j : jobs_)
    if (j->id == id) return j->events;
  return {};
}

bool JobHost::WaitIdle(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& j : jobs_)
      if (!j->finished) return false;
    return true;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

// Jobs may name a raw Criteo TSV (or .tsv.gz), or any text data.schema describes, instead of a
// dataset directory: convert it once, here, so the planner and every worker read the same binary
// dataset. Ids are hashed mod data.max_rows when set.
absl::StatusOr<job::JobSpec> JobHost::PrepareData(Entry& e) {
  namespace fs = std::filesystem;
  job::JobSpec spec = e.spec;
  for (std::string* path : {&spec.data.train, &spec.data.eval}) {
    if (path->empty()) continue;
    const char* key = path == &spec.data.train ? "data.train" : "data.eval";
    std::error_code ec;
    fs::file_status st = fs::status(*path, ec);  // follows links
    if (fs::is_directory(st)) continue;
    // A FIFO, a device or a socket can block or never end: only regular files are converted.
    if (!fs::is_regular_file(st))
      return absl::InvalidArgumentError(std::string(key) + ": " + *path +
                                        (ec ? " cannot be read: " + ec.message()
                                            : " is neither a dataset directory nor a regular file"));
    data::PrepOptions p;
    p.inputs = {*path};
    p.out_dir = work_dir_ + "/" + e.id + (path == &spec.data.train ? "-train" : "-eval");
    if (e.spec.data.max_rows > 0) {
      p.writer.transform = data::SparseTransform::kMod;
      p.writer.max_rows = e.spec.data.max_rows;
    }
    p.schema = e.spec.data.schema;
    if (p.inputs[0].ends_with(".csv") && (p.schema.empty() || p.schema == "criteo"))
      p.format = data::InputFormat::kCsv;
    p.on_bad_line = data::BadLinePolicy::kSkip;
    p.cancelled = [&e, this] { return e.cancel.load() || stopping_.load(); };
    fs::create_directories(work_dir_);
    fs::remove_all(p.out_dir, ec);
    {
      absl::MutexLock l(&mu_);
      e.work_dirs.push_back(p.out_dir);
    }
    auto r = data::PrepareDataset(p);
    if (!r.ok()) return absl::Status(r.status().code(), "converting " + *path + ": " + std::string(r.status().message()));
    {
      absl::MutexLock l(&mu_);
      Event(e, "converted " + *path + " (" + std::to_string(r->rows) + " rows, " +
                   std::to_string(r->bad_lines) + " bad lines skipped) to " + p.out_dir);
    }
    *path = p.out_dir;
  }
  return spec;
}

void JobHost::Release(Entry& e) {
  e.runner.reset();
  if (!e.work_dirs.empty()) Event(e, "its converted data is removed");
  for (auto& dir : e.work_dirs) garbage_.push_back(std::move(dir));
  e.work_dirs.clear();
  const std::string prefix = e.id + "/";
  for (auto it = board_.lower_bound(prefix); it != board_.end() && it->first.starts_with(prefix);)
    it = board_.erase(it);
}

void JobHost::RemoveGarbage() {
  std::vector<std::string> dirs;
  {
    absl::MutexLock l(&mu_);
    dirs.swap(garbage_);
  }
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) spdlog::warn("cannot remove {}: {}", dir, ec.message());
  }
}

const JobHost::Entry* JobHost::BoardOwner(const std::string& key) const {
  auto slash = key.find('/');
  if (slash == std::string::npos) return nullptr;
  std::string_view id(key.data(), slash);
  for (auto& j : jobs_)
    if (j->id == id) return j.get();
  return nullptr;
}

absl::Status JobHost::PutModel(const std::string& id, std::vector<float> dense) {
  absl::MutexLock l(&mu_);
  for (auto& j : jobs_)
    if (j->id == id) {
      // running_ always has a runner; it may have ended before Loop noticed.
      if (j.get() != running_ || IsFinal(j->runner->Status().state))
        return absl::FailedPreconditionError(id + " is not running: models are uploaded by its "
                                              "workers before it ends");
      auto want = worker::DenseWeightCountOf(j->spec);
      if (!want.ok()) return want.status();
      if (static_cast<int64_t>(dense.size()) != *want)
        return absl::InvalidArgumentError("dense: " + std::to_string(dense.size()) +
                                          " weights, the job's model has " +
                                          std::to_string(*want));
      for (float v : dense)
        if (!std::isfinite(v)) return absl::InvalidArgumentError("dense: a weight is not finite");
      j->dense = std::move(dense);
      if (state_) {
        if (auto st = state_->PutModel(j->seq, j->dense); !st.ok())
          spdlog::warn("{}: cannot record its model: {}", id, st.ToString());
      }
      Event(*j, "model uploaded (" + std::to_string(j->dense.size()) + " dense weights)");
      return absl::OkStatus();
    }
  return absl::NotFoundError("no job " + Echo(id));
}

absl::StatusOr<std::pair<job::JobSpec, std::vector<float>>> JobHost::GetModel(const std::string& id) const {
  absl::MutexLock l(&mu_);
  for (auto& j : jobs_)
    if (j->id == id) {
      if (j->dense.empty()) return absl::FailedPreconditionError(id + " has no trained model (yet)");
      return std::make_pair(j->spec, j->dense);
    }
  return absl::NotFoundError("no job " + Echo(id));
}

namespace {
absl::Status CheckBoardKey(const std::string& key) {
  if (key.empty()) return absl::InvalidArgumentError("key: empty");
  return CheckLength("key", key, kMaxNameBytes);
}
}  // namespace

absl::Status JobHost::StoreSet(const std::string& key, const std::string& value) {
  AUGUR_RETURN_IF_ERROR(CheckBoardKey(key));
  AUGUR_RETURN_IF_ERROR(CheckLength("value", value, kMaxBoardValueBytes));
  absl::MutexLock l(&mu_);
  if (const Entry* owner = BoardOwner(key); owner && owner->finished)
    return absl::FailedPreconditionError(owner->id + " has ended");
  if (!board_.count(key) && board_.size() >= kMaxBoardKeys)
    return absl::ResourceExhaustedError("the board holds " + std::to_string(board_.size()) +
                                        " keys, the limit");
  board_[key] = value;
  return absl::OkStatus();
}

absl::StatusOr<std::string> JobHost::StoreGet(const std::string& key, absl::Duration timeout,
                                              const std::function<bool()>& caller_gone) const {
  AUGUR_RETURN_IF_ERROR(CheckBoardKey(key));
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock l(&mu_);
  auto has = [this, &key]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stop_ || board_.count(key)) return true;
    const Entry* owner = BoardOwner(key);
    return owner != nullptr && owner->finished;
  };
  // Short slices, so a caller that gave up (or a host that stops) frees this thread at once.
  while (!mu_.AwaitWithDeadline(absl::Condition(&has),
                                std::min(deadline, absl::Now() + absl::Milliseconds(100)))) {
    if (caller_gone && caller_gone()) return absl::CancelledError("the caller stopped waiting");
    if (absl::Now() >= deadline)
      return absl::DeadlineExceededError("rendezvous key " + Echo(key) + " did not appear");
  }
  if (auto it = board_.find(key); it != board_.end()) return it->second;
  if (stop_) return absl::CancelledError("the oracle is shutting down");
  return absl::AbortedError(BoardOwner(key)->id + " has ended");
}

}  // namespace augur::oracle
