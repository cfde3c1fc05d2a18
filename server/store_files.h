// Internal to the RocksDB store: rocksdb::Status conversion and file copies between Envs (the
// memory profile's files live in an in-memory Env, checkpoints live on the real filesystem).
#pragma once

#include <string>

#include <rocksdb/env.h>
#include <rocksdb/status.h>

#include "absl/status/status.h"

namespace augur::shard {

// The one rocksdb::Status -> absl::Status mapping; `what` prefixes the message.
absl::Status FromRocks(const rocksdb::Status& s, const std::string& what);

// Copies every file of the flat directory `from` (in `src`) into `to` (in `dst`), creating it.
absl::Status CopyFlatDir(rocksdb::Env* src, const std::string& from, rocksdb::Env* dst,
                         const std::string& to);
// Best-effort removal of a flat directory and its files.
void RemoveFlatDir(rocksdb::Env* env, const std::string& dir);

// Whether `dir` (real filesystem) looks like a store checkpoint: a directory with a CURRENT
// file and no subdirectories. What Checkpoint may replace.
bool IsCheckpointDir(const std::string& dir);
bool HasSubdirectory(const std::string& dir);

// Copies checkpoint `ckpt` (real filesystem) into data dir `path` of `env`. NOT_FOUND when the
// checkpoint is missing; FAILED_PRECONDITION when `path` already holds files.
absl::Status SeedFromCheckpoint(const std::string& ckpt, rocksdb::Env* env,
                                const std::string& path);

}  // namespace augur::shard
