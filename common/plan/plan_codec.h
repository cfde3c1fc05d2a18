// The one converter between WorkerIterationPlan and its wire form (proto/oracle.proto
// WorkerPlan), used by the oracle service and the worker. Protobuf stops here.
#pragma once

#include "absl/status/statusor.h"
#include "common/plan/plan.h"
#include "proto/oracle.pb.h"

namespace augur::plan {

void EncodeWorkerPlan(const WorkerIterationPlan& plan, oracle::v1::WorkerPlan* out);
// INVALID_ARGUMENT when the packed arrays are ragged or disagree in length.
absl::StatusOr<WorkerIterationPlan> DecodeWorkerPlan(const oracle::v1::WorkerPlan& in);

}  // namespace augur::plan
