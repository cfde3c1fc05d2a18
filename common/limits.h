// The bounds every process checks its inputs against, in one place: the shard, the oracle, the
// job-spec parser and the CLI agree on them, and docs/limits.md lists them for users.
//
// Each limit is checked before anything is allocated for the input it bounds, and a violation
// is answered with a status naming the field and the limit (common/status.h FieldTooLong and
// friends), never echoing more than kMaxEchoBytes of what the caller sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace augur {

// Workers of one job (cluster.workers, RegisterWorker, ApplyGradients num_workers).
inline constexpr uint32_t kMaxWorkers = 64;
// Shards of one cluster.
inline constexpr size_t kMaxShards = 1024;
// Iterations of one job; versions are iteration + 1, so they can never overflow int64.
inline constexpr int64_t kMaxIteration = int64_t{1} << 48;
// A row version is 1 + an iteration.
inline constexpr int64_t kMaxVersion = kMaxIteration + 1;

// Free text: job names, table names, cancel reasons, worker errors, ids, rendezvous keys.
inline constexpr size_t kMaxNameBytes = 256;
inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxReasonBytes = 4096;
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxEchoBytes = 64;  // at most this much of a bad value is quoted back

// A job spec as submitted (YAML text).
inline constexpr size_t kMaxJobYamlBytes = 1 << 20;
// The rendezvous board: key and value sizes, and how many keys one oracle keeps.
inline constexpr size_t kMaxBoardValueBytes = 64 << 10;
inline constexpr size_t kMaxBoardKeys = 65536;
// Longest a StoreGet may wait.
inline constexpr int64_t kMaxStoreWaitMs = 120000;
// Status reads (JobStatus, ListJobs, JobEvents) one oracle serves per second, all callers
// together: callers past it wait their turn (at most kMaxStatusReadQueueMs, then
// RESOURCE_EXHAUSTED), so pollers in tight loops cannot take the CPU from training.
inline constexpr int kMaxStatusReadsPerSecond = 500;
inline constexpr int64_t kMaxStatusReadQueueMs = 1000;

// gRPC messages. The shard takes batched rows (bounded by its max_request_rows too); the oracle
// takes job specs, progress and one job's dense model; plans go out in batches of a few MiB.
inline constexpr int kShardMaxMessageBytes = 256 << 20;
// A ScanRows page holds at most this many bytes of rows, whatever limit it asked for, so a page
// of wide rows meets its deadline on a slow link too (1 MiB: 8.4 s at 1 Mbit/s).
inline constexpr size_t kShardMaxScanPageBytes = size_t{1} << 20;
// Bytes a row of `floats` floats moves over a shard link, its id and version as varints at
// most included: what requests and pages are sized by.
inline constexpr size_t ShardRowBytes(size_t floats) { return floats * sizeof(float) + 20; }
inline constexpr int kOracleMaxMessageBytes = 256 << 20;

// `s` quoted for an error message: at most kMaxEchoBytes of it, non-printable bytes as '?', and
// its full length when it was cut.
std::string Echo(std::string_view s);

// INVALID_ARGUMENT "FIELD is N bytes, the limit is MAX" when value is longer than max_bytes.
absl::Status CheckLength(std::string_view field, std::string_view value, size_t max_bytes);

}  // namespace augur
