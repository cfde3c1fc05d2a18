// One worker's view of one iteration's plan: what the oracle streams and the worker executes.
// A plain struct on both sides of the wire (oracle_cacher/plan_codec.h converts it).
#pragma once

#include <cstdint>
#include <vector>

#include "oracle_cacher/planner.h"

namespace augur::planner {

struct WorkerIterationPlan {
  int64_t iteration = 0;
  std::vector<Fill> fills;          // issue before this iteration's step
  std::vector<Eviction> evictions;  // after this iteration's update and transfers
  std::vector<RowKey> shared;       // identical on every worker
  std::vector<Transfer> transfers;  // identical on every worker
};

// Worker w's part of a global plan.
WorkerIterationPlan SliceForWorker(const IterationPlan& plan, int worker);

}  // namespace augur::planner
