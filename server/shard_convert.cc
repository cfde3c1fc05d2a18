#include "server/shard_convert.h"

#include <span>

#include "common/packed.h"
#include "common/status.h"

namespace augur::shard {

absl::StatusOr<RowBlock> FromProto(const pb::RowBlock& in) {
  RowBlock out;
  out.table_id = in.table_id();
  AUGUR_ASSIGN_OR_RETURN(out.rows, UnpackArray<uint64_t>(in.rows(), "rows"));
  AUGUR_ASSIGN_OR_RETURN(out.values, UnpackArray<float>(in.values(), "values"));
  AUGUR_ASSIGN_OR_RETURN(out.versions, UnpackArray<int64_t>(in.versions(), "versions"));
  return out;
}

absl::StatusOr<std::vector<RowBlock>> FromProto(
    const google::protobuf::RepeatedPtrField<pb::RowBlock>& in) {
  std::vector<RowBlock> out;
  out.reserve(in.size());
  for (const auto& b : in) {
    AUGUR_ASSIGN_OR_RETURN(RowBlock blk, FromProto(b));
    out.push_back(std::move(blk));
  }
  return out;
}

void ToProto(const RowBlock& in, pb::RowBlock* out) {
  out->set_table_id(in.table_id);
  out->set_rows(PackArray(std::span<const uint64_t>(in.rows)));
  if (!in.values.empty()) out->set_values(PackArray(std::span<const float>(in.values)));
  if (!in.versions.empty()) out->set_versions(PackArray(std::span<const int64_t>(in.versions)));
}

absl::StatusOr<TableSpec> FromProto(const pb::TableSpec& in) {
  TableSpec s;
  s.id = in.id();
  s.name = in.name();
  s.rows = in.rows();
  s.dim = in.dim();
  s.init_lo = in.init_lo();
  s.init_hi = in.init_hi();
  s.seed = in.seed();
  AUGUR_ASSIGN_OR_RETURN(s.optimizer.kind, ParseOptimizerKind(in.optimizer().kind()));
  s.optimizer.lr = in.optimizer().lr();
  s.optimizer.eps = in.optimizer().eps();
  s.optimizer.beta1 = in.optimizer().beta1();
  s.optimizer.beta2 = in.optimizer().beta2();
  s.optimizer.initial_accumulator = in.optimizer().initial_accumulator();
  return s;
}

void ToProto(const TableSpec& in, pb::TableSpec* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_rows(in.rows);
  out->set_dim(in.dim);
  out->set_init_lo(in.init_lo);
  out->set_init_hi(in.init_hi);
  out->set_seed(in.seed);
  auto* o = out->mutable_optimizer();
  o->set_kind(std::string(OptimizerName(in.optimizer.kind)));
  o->set_lr(in.optimizer.lr);
  o->set_eps(in.optimizer.eps);
  o->set_beta1(in.optimizer.beta1);
  o->set_beta2(in.optimizer.beta2);
  o->set_initial_accumulator(in.optimizer.initial_accumulator);
}

}  // namespace augur::shard
