// libFuzzer target: plan decoding on the worker (common/plan/plan_codec.h). The input is either
// raw protobuf bytes of a WorkerPlan, or (more often) a plan assembled field by field with
// packed arrays of fuzzer-chosen, possibly ragged, lengths. A plan DecodeWorkerPlan accepts must
// encode back to a plan that decodes to the same thing.
#include <cstddef>
#include <cstdint>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>

#include "common/plan/plan_codec.h"

namespace {

using augur::plan::DecodeWorkerPlan;
using augur::plan::EncodeWorkerPlan;
using augur::plan::WorkerIterationPlan;

bool Same(const WorkerIterationPlan& a, const WorkerIterationPlan& b) {
  if (a.iteration != b.iteration || a.shared != b.shared || a.fills.size() != b.fills.size() ||
      a.evictions.size() != b.evictions.size() || a.transfers.size() != b.transfers.size())
    return false;
  for (size_t i = 0; i < a.fills.size(); ++i)
    if (a.fills[i].key != b.fills[i].key || a.fills[i].slot != b.fills[i].slot ||
        a.fills[i].need_at != b.fills[i].need_at || a.fills[i].min_version != b.fills[i].min_version)
      return false;
  for (size_t i = 0; i < a.evictions.size(); ++i)
    if (a.evictions[i].key != b.evictions[i].key || a.evictions[i].slot != b.evictions[i].slot ||
        a.evictions[i].write_back != b.evictions[i].write_back)
      return false;
  for (size_t i = 0; i < a.transfers.size(); ++i)
    if (a.transfers[i].key != b.transfers[i].key ||
        a.transfers[i].src_worker != b.transfers[i].src_worker ||
        a.transfers[i].src_slot != b.transfers[i].src_slot ||
        a.transfers[i].dst_worker != b.transfers[i].dst_worker ||
        a.transfers[i].dst_slot != b.transfers[i].dst_slot)
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  augur::oracle::v1::WorkerPlan wire;
  if (in.ConsumeBool()) {
    const std::string raw = in.ConsumeRemainingBytesAsString();
    if (!wire.ParseFromString(raw)) return 0;
  } else {
    wire.set_iteration(in.ConsumeIntegral<int64_t>());
    const google::protobuf::Descriptor* d = wire.GetDescriptor();
    const google::protobuf::Reflection* r = wire.GetReflection();
    for (int i = 0; i < d->field_count() && in.remaining_bytes() > 0; ++i) {
      const google::protobuf::FieldDescriptor* field = d->field(i);
      if (field->type() != google::protobuf::FieldDescriptor::TYPE_BYTES || field->is_repeated())
        continue;
      r->SetString(&wire, field, in.ConsumeRandomLengthString(256));
    }
  }
  auto plan = DecodeWorkerPlan(wire);
  if (!plan.ok()) return 0;
  augur::oracle::v1::WorkerPlan back;
  EncodeWorkerPlan(*plan, &back);
  auto again = DecodeWorkerPlan(back);
  if (!again.ok() || !Same(*plan, *again)) __builtin_trap();
  return 0;
}
