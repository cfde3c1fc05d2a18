#include "tests/oracle_cacher/plan_checker.h"

#include <algorithm>
#include <set>

namespace augur::testing {
using plan::RowKey;

const PlanChecker::Copy* PlanChecker::Find(int w, RowKey k) const {
  for (auto& [s, c] : slots_[w])
    if (c.key == k) return &c;
  return nullptr;
}

std::string PlanChecker::Apply(const plan::IterationPlan& plan,
                               const plan::IterationReads& reads) {
  const int64_t i = plan.iteration;
  const int W = static_cast<int>(slots_.size());
  auto at = [&](const std::string& what) { return "iteration " + std::to_string(i) + ": " + what; };
  // 1. Fills: read the shard now; the copy is usable (and updatable) from its need_at on.
  for (auto& ws : slots_)
    for (auto& [s, c] : ws)
      if (!c.ready && c.need_at <= i) c.ready = true;
  for (int w = 0; w < W; ++w)
    for (const auto& f : plan.workers[w].fills) {
      if (f.slot < 0 || f.slot >= capacity_) return at("fill slot out of capacity");
      if (slots_[w].count(f.slot)) return at("fill into an occupied slot");
      if (Find(w, f.key)) return at("fill of a row the worker already holds");
      int64_t v = Shard(f.key);
      if (v != Truth(f.key)) return at("stale shard read");
      if (f.min_version >= 0 && f.min_version != v) return at("fill min_version is wrong");
      slots_[w][f.slot] = Copy{f.key, v, f.need_at <= i, f.need_at};
    }
  // 2. Step i reads.
  std::set<RowKey> touched;
  for (int w = 0; w < W; ++w)
    for (RowKey k : reads.by_worker[w]) {
      const Copy* c = Find(w, k);
      if (!c || !c->ready) return at("worker " + std::to_string(w) + " reads a row it does not hold");
      if (c->version != Truth(k)) return at("stale read by worker " + std::to_string(w));
      touched.insert(k);
    }
  // 3. Updates: every holder of a touched row applies it; >1 holder requires the all-reduce.
  std::set<RowKey> shared(plan.shared.begin(), plan.shared.end());
  for (RowKey k : touched) {
    if (shard_applies_) {
      if (!plan.shared.empty()) return at("the none policy all-reduces no rows");
      shard_[k] = truth_[k] = i + 1;
      for (int w = 0; w < W; ++w)
        if (Copy* c = Find(w, k)) c->version = i + 1;
      continue;
    }
    int holders = 0;
    for (int w = 0; w < W; ++w)
      if (Copy* c = Find(w, k)) {
        if (!c->ready) return at("row updated while a fill of it is in flight");
        c->version = i + 1;
        ++holders;
      }
    if (holders > 1 && !shared.count(k)) return at("replicated row missing from the shared list");
    truth_[k] = i + 1;
  }
  if (!std::is_sorted(plan.shared.begin(), plan.shared.end())) return at("shared list unsorted");
  // 4. Transfers gather the sources' current values (before evictions) ...
  std::vector<Copy> gathered;
  for (const auto& t : plan.transfers) {
    auto it = slots_[t.src_worker].find(t.src_slot);
    if (it == slots_[t.src_worker].end() || it->second.key != t.key || !it->second.ready)
      return at("transfer source does not hold the row");
    gathered.push_back(it->second);
  }
  // 5. Evictions: the last holder writes back; nobody else may.
  for (int w = 0; w < W; ++w)
    for (const auto& e : plan.workers[w].evictions) {
      auto it = slots_[w].find(e.slot);
      if (it == slots_[w].end() || it->second.key != e.key) return at("eviction of a slot not holding the row");
      Copy c = it->second;
      slots_[w].erase(it);
      bool others = false;
      for (int u = 0; u < W; ++u) others |= Find(u, e.key) != nullptr;
      for (const auto& t : plan.transfers) others |= t.key == e.key;
      if (e.write_back) {
        // Replicas are identical, so any holder may write back, as long as it is the latest.
        if (c.version != Truth(e.key)) return at("write-back of a stale copy");
        shard_[e.key] = c.version;
      } else if (!others && c.version != Shard(e.key)) {
        return at("last copy evicted without write-back: update lost");
      }
    }
  // 6. ... and land in the receivers' slots after the evictions freed them.
  for (size_t n = 0; n < plan.transfers.size(); ++n) {
    const auto& t = plan.transfers[n];
    if (slots_[t.dst_worker].count(t.dst_slot)) return at("transfer into an occupied slot");
    if (t.dst_slot < 0 || t.dst_slot >= capacity_) return at("transfer slot out of capacity");
    slots_[t.dst_worker][t.dst_slot] = gathered[n];
  }
  return "";
}

std::string PlanChecker::Finish() const {
  for (const auto& s : slots_)
    if (!s.empty()) return "rows still cached after the final flush";
  for (auto& [k, v] : truth_)
    if (Shard(k) != v) return "shard lost an update of a row";
  return "";
}

}  // namespace augur::testing
