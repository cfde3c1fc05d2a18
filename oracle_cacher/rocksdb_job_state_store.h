// The RocksDB JobStateStore (job_state_store.h) and its record encoding.
//
// Layout of the state directory (a RocksDB database): "next_seq" -> decimal counter;
// "job/<seq, 20 digits>" -> the JobRecord as JSON (readable with any RocksDB tool);
// "model/<seq, 20 digits>" -> the dense weights as raw little-endian float32.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "oracle_cacher/job_state_store.h"

namespace augur::oracle {

// Opens (creating if needed) the state directory `dir`. FAILED_PRECONDITION when another
// process holds it (a second oracle on the same state dir); UNAVAILABLE for I/O failures.
absl::StatusOr<std::unique_ptr<JobStateStore>> OpenRocksJobStateStore(const std::string& dir);

// The record encoding, exposed for tests. DecodeJobRecord: DATA_LOSS when `json` is not a
// record EncodeJobRecord wrote.
std::string EncodeJobRecord(const JobRecord& r);
absl::StatusOr<JobRecord> DecodeJobRecord(std::string_view json);

}  // namespace augur::oracle
