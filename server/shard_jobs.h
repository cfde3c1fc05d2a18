// ShardJobs: the tables of every job one shard server holds, each job in a store of its own.
//
// A job's namespace is a ShardCore over its own ShardStore — a RocksDB instance under
// <data dir>/jobs/<job> — so two jobs never share a row, a table id, an applied iteration or a
// buffered push, and a job's tables always start from the deterministic init of its own specs.
// Deleting a job closes its store and removes its directory: the disk space comes back at
// once, with no tombstones and no compaction to wait for (a column family per job would need
// the same drop, but would share one WAL and one checkpoint with every other job; a key prefix
// per job would need DeleteRange plus a CompactRange over the job's whole key range).
//
// The empty job is the default namespace: the store at <data dir> itself (standalone tools,
// tests, and data dirs written before jobs had namespaces). It cannot be dropped.
//
// Every store shares one block cache and one memtable budget (SharedStoreResources), so memory
// stays bounded by the RocksDB settings however many jobs a shard keeps.
//
// Lifetime: a job's namespace is opened by its first table (GetOrCreate) or, after a restart,
// by the first request naming it whose directory exists (Get). Drop takes it out of the map,
// waits until requests already holding it have finished, closes it and deletes its directory —
// renamed to jobs/.dropped-* first, so a crash half-way leaves nothing that looks like a job;
// such leftovers are removed by Open.
//
// Errors: INVALID_ARGUMENT for a malformed job name (ValidateJobName) and for dropping the
// default namespace; NOT_FOUND (Get) when the shard holds no tables of the job;
// RESOURCE_EXHAUSTED when a new job would make more than max_jobs; DEADLINE_EXCEEDED (Drop)
// when requests of the job did not finish within a minute (nothing was dropped); the store's
// errors when a job's store cannot be opened or removed.
//
// Thread-safety: every method may be called concurrently. Opening and dropping namespaces is
// serialized; requests of open namespaces never wait for it.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/shard_core.h"
#include "server/shard_store.h"

namespace augur::shard {

// A job name a shard accepts: 1..kMaxIdBytes bytes of [A-Za-z0-9._-] starting with a letter or
// a digit (it names a directory). INVALID_ARGUMENT naming the field `job` otherwise.
absl::Status ValidateJobName(std::string_view job);

struct ShardJobsOptions {
  // The default namespace's store. Job stores use its profile and settings, under
  // <store.path>/jobs/<job> (the memory profile: in-memory stores of their own).
  StoreOptions store;
  ShardCoreOptions core;    // every namespace's core
  size_t max_jobs = 1024;   // jobs a shard holds (open or on disk); a new one more is refused
  size_t write_buffer_mb = 256;  // memtables of every store together
};

class ShardJobs {
 public:
  using CoreRef = std::shared_ptr<ShardCore>;

  // Opens the default namespace (store.from_checkpoint seeds it) and removes what an
  // interrupted Drop left behind. Errors are the store's and the core's.
  static absl::StatusOr<std::unique_ptr<ShardJobs>> Open(const ShardJobsOptions& options);
  // Serves `default_core` (borrowed; it must outlive this) as the default namespace, with job
  // namespaces in memory stores and the core's options (tests that build their own core).
  static std::unique_ptr<ShardJobs> ForCore(ShardCore* default_core);
  ~ShardJobs();

  // The namespace of `job` ("" = default). The reference keeps it open while a request uses it.
  absl::StatusOr<CoreRef> Get(std::string_view job) ABSL_LOCKS_EXCLUDED(mu_, admin_mu_);
  // Same, opening an empty namespace when the shard holds none of the job.
  absl::StatusOr<CoreRef> GetOrCreate(std::string_view job) ABSL_LOCKS_EXCLUDED(mu_, admin_mu_);
  // Deletes the job's namespace and its files; false when the shard held nothing of it.
  absl::StatusOr<bool> Drop(std::string_view job) ABSL_LOCKS_EXCLUDED(mu_, admin_mu_);
  // Replaces the job's namespace by a copy of checkpoint `dir` (ShardStore::Checkpoint's
  // output on this shard's filesystem): requests already holding it finish first, then the old
  // store is closed and set aside, the copy opened, and the old one deleted. When the copy
  // cannot be opened the old store is put back and opened again. INVALID_ARGUMENT for the
  // default namespace (start the shard with --from-checkpoint instead); NOT_FOUND when `dir`
  // is no checkpoint; DEADLINE_EXCEEDED as Drop.
  absl::Status Restore(std::string_view job, const std::string& dir)
      ABSL_LOCKS_EXCLUDED(mu_, admin_mu_);

  ShardCore* default_core() const { return default_.get(); }
  // Where job `job`'s store lives (a path inside the memory Env for the memory profile).
  std::string JobPath(std::string_view job) const;

 private:
  ShardJobs() = default;
  absl::StatusOr<CoreRef> Find(std::string_view job, bool create)
      ABSL_LOCKS_EXCLUDED(mu_, admin_mu_);
  absl::StatusOr<CoreRef> OpenLocked(const std::string& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(admin_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  bool OnDisk(const std::string& job) const;
  // Takes the job's open namespace out of the map and waits for the requests holding it
  // (Drop, Restore); returns it as its only reference (null when it was not open), whose
  // release closes the store. Puts it back and returns DEADLINE_EXCEEDED when the requests
  // do not finish.
  absl::StatusOr<CoreRef> CloseLocked(const std::string& job, std::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(admin_mu_) ABSL_LOCKS_EXCLUDED(mu_);
  // Jobs this shard holds: open namespaces, or job stores on disk (opened or not).
  size_t JobsHeld() const ABSL_LOCKS_EXCLUDED(mu_);

  ShardJobsOptions options_;
  std::shared_ptr<SharedStoreResources> shared_;
  CoreRef default_;
  std::string jobs_root_;  // <data dir>/jobs; empty for the memory profile

  absl::Mutex admin_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // opening and dropping namespaces
  mutable absl::Mutex mu_;
  std::map<std::string, CoreRef, std::less<>> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace augur::shard
