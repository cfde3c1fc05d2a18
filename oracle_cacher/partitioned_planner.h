// The planner spread over threads (PlannerOptions::threads > 1; not a public header: use
// Planner::Create). The key space is split into P partitions by a hash of the row key; each
// partition is an ordinary single-thread planner that owns a contiguous 1/P share of every
// worker's cache slots and plans only its own rows. Rows never cross partitions and the
// consistency scheme is per row, so each partition's plans are consistent on their own; a global
// plan is the partitions' plans of one iteration merged (fills, evictions and transfers
// concatenated in partition order with slot offsets, `shared` merged sorted). Every Push splits
// the iteration's reads and runs the P partitions in parallel (fork-join: the caller's thread
// plans partition 0); plans are identical whatever the thread timing.
//
// What differs from one planner: each partition evicts inside its own share, so the hit ratio is
// that of P caches of C/P rows over hashed slices of the key space (within ~1% of one planner at
// the sizes measured, see docs/plan.md), and a partition whose share of one slice exceeds its
// share of the cache fails the Push with RESOURCE_EXHAUSTED even when the slice fits the whole
// cache (use fewer threads, or more capacity).
#pragma once

#include <memory>

#include "oracle_cacher/planner.h"

namespace augur::planner::internal {

// Which of `partitions` partitions plans `key` (a multiplicative hash of the key, so hot rows of
// every table spread evenly).
inline int PartitionOf(RowKey key, int partitions) {
  const uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return static_cast<int>((static_cast<unsigned __int128>(h) * static_cast<uint64_t>(partitions)) >> 64);
}

// options.threads > 1; the options are otherwise already validated.
std::unique_ptr<Planner> MakePartitionedPlanner(const PlannerOptions& options);

}  // namespace augur::planner::internal
