#include "common/plan/plan_codec.h"

#include "common/packed.h"
#include "common/status.h"

namespace augur::plan {

void EncodeWorkerPlan(const WorkerIterationPlan& p, oracle::v1::WorkerPlan* out) {
  out->set_iteration(p.iteration);
  std::vector<uint64_t> keys;
  std::vector<int32_t> slots;
  std::vector<int64_t> need, ver;
  for (const auto& f : p.fills) {
    keys.push_back(f.key), slots.push_back(f.slot), need.push_back(f.need_at);
    ver.push_back(f.min_version);
  }
  out->set_fill_keys(PackArray<uint64_t>(keys));
  out->set_fill_slots(PackArray<int32_t>(slots));
  out->set_fill_need_at(PackArray<int64_t>(need));
  out->set_fill_min_versions(PackArray<int64_t>(ver));
  keys.clear(), slots.clear();
  std::vector<uint8_t> wb;
  for (const auto& e : p.evictions) keys.push_back(e.key), slots.push_back(e.slot), wb.push_back(e.write_back);
  out->set_evict_keys(PackArray<uint64_t>(keys));
  out->set_evict_slots(PackArray<int32_t>(slots));
  out->set_evict_write_back(PackArray<uint8_t>(wb));
  out->set_shared_keys(PackArray<uint64_t>(p.shared));
  keys.clear();
  std::vector<int32_t> src, dst;
  for (const auto& t : p.transfers) {
    keys.push_back(t.key);
    src.push_back(t.src_worker), src.push_back(t.src_slot);
    dst.push_back(t.dst_worker), dst.push_back(t.dst_slot);
  }
  out->set_transfer_keys(PackArray<uint64_t>(keys));
  out->set_transfer_src(PackArray<int32_t>(src));
  out->set_transfer_dst(PackArray<int32_t>(dst));
}

absl::StatusOr<WorkerIterationPlan> DecodeWorkerPlan(const oracle::v1::WorkerPlan& in) {
  WorkerIterationPlan p;
  p.iteration = in.iteration();
  AUGUR_ASSIGN_OR_RETURN(auto fk, UnpackArray<uint64_t>(in.fill_keys(), "fill_keys"));
  AUGUR_ASSIGN_OR_RETURN(auto fs, UnpackArray<int32_t>(in.fill_slots(), "fill_slots"));
  AUGUR_ASSIGN_OR_RETURN(auto fn, UnpackArray<int64_t>(in.fill_need_at(), "fill_need_at"));
  AUGUR_ASSIGN_OR_RETURN(auto fv, UnpackArray<int64_t>(in.fill_min_versions(), "fill_min_versions"));
  if (fs.size() != fk.size() || fn.size() != fk.size() || fv.size() != fk.size())
    return absl::InvalidArgumentError("plan fills have ragged arrays");
  for (size_t i = 0; i < fk.size(); ++i) p.fills.push_back({fk[i], fs[i], fn[i], fv[i]});
  AUGUR_ASSIGN_OR_RETURN(auto ek, UnpackArray<uint64_t>(in.evict_keys(), "evict_keys"));
  AUGUR_ASSIGN_OR_RETURN(auto es, UnpackArray<int32_t>(in.evict_slots(), "evict_slots"));
  AUGUR_ASSIGN_OR_RETURN(auto ew, UnpackArray<uint8_t>(in.evict_write_back(), "evict_write_back"));
  if (es.size() != ek.size() || ew.size() != ek.size())
    return absl::InvalidArgumentError("plan evictions have ragged arrays");
  for (size_t i = 0; i < ek.size(); ++i) p.evictions.push_back({ek[i], es[i], ew[i] != 0});
  AUGUR_ASSIGN_OR_RETURN(p.shared, UnpackArray<uint64_t>(in.shared_keys(), "shared_keys"));
  AUGUR_ASSIGN_OR_RETURN(auto tk, UnpackArray<uint64_t>(in.transfer_keys(), "transfer_keys"));
  AUGUR_ASSIGN_OR_RETURN(auto ts, UnpackArray<int32_t>(in.transfer_src(), "transfer_src"));
  AUGUR_ASSIGN_OR_RETURN(auto td, UnpackArray<int32_t>(in.transfer_dst(), "transfer_dst"));
  if (ts.size() != 2 * tk.size() || td.size() != 2 * tk.size())
    return absl::InvalidArgumentError("plan transfers have ragged arrays");
  for (size_t i = 0; i < tk.size(); ++i)
    p.transfers.push_back({tk[i], ts[2 * i], ts[2 * i + 1], td[2 * i], td[2 * i + 1]});
  return p;
}

}  // namespace augur::plan
