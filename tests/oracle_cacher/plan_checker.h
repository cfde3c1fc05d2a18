// Executes planner output symbolically and checks the consistency scheme: every read sees the
// latest version, replicas never diverge, no update is lost, no slot is overwritten while in use,
// capacity is never exceeded, and after the final flush the shards hold every row's latest
// version. A row's "value" here is its version (1 + last iteration that touched it).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oracle_cacher/planner.h"

namespace augur::testing {

class PlanChecker {
 public:
  // `shard_applies`: the `none` policy, where shards apply every update and caches hold a row
  // only for the step that reads it.
  PlanChecker(int workers, int64_t capacity, bool shard_applies = false)
      : slots_(workers), capacity_(capacity), shard_applies_(shard_applies) {}

  // `reads` are the reads of plan.iteration. Returns "" or the first violation.
  std::string Apply(const plan::IterationPlan& plan, const plan::IterationReads& reads);
  // After the last plan: nothing cached, shards up to date.
  std::string Finish() const;

 private:
  struct Copy {
    plan::RowKey key;
    int64_t version;
    bool ready;  // false while the fill is in flight
    int64_t need_at = 0;
  };
  int64_t Truth(plan::RowKey k) const {
    auto it = truth_.find(k);
    return it == truth_.end() ? 0 : it->second;
  }
  int64_t Shard(plan::RowKey k) const {
    auto it = shard_.find(k);
    return it == shard_.end() ? 0 : it->second;
  }
  const Copy* Find(int w, plan::RowKey k) const;
  Copy* Find(int w, plan::RowKey k) {
    return const_cast<Copy*>(static_cast<const PlanChecker*>(this)->Find(w, k));
  }

  std::vector<std::map<int32_t, Copy>> slots_;  // per worker: slot -> copy
  std::map<plan::RowKey, int64_t> truth_, shard_;
  int64_t capacity_;
  bool shard_applies_;
};

}  // namespace augur::testing
