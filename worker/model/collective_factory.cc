// NewWorkerCollective: the collective for a job's backend and worker count.
#include "worker/model/collective_factory.h"

#if defined(AUGUR_WITH_CUDA)
#include "worker/cuda/nccl_collective.h"
#endif

namespace augur::model {

CollectiveKind CollectiveKindFor(std::string_view backend, int workers) {
  if (workers <= 1) return CollectiveKind::kLocal;
  return backend == "cuda" ? CollectiveKind::kNccl : CollectiveKind::kGloo;
}

std::string_view CollectiveKindName(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::kLocal: return "local";
    case CollectiveKind::kGloo: return "gloo";
    case CollectiveKind::kNccl: return "nccl";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Collective>> NewWorkerCollective(const WorkerCollectiveOptions& o) {
  switch (CollectiveKindFor(o.backend, o.size)) {
    case CollectiveKind::kLocal:
      return NewLocalCollective();
    case CollectiveKind::kGloo: {
      GlooCollectiveOptions go;
      go.rank = o.rank;
      go.size = o.size;
      go.store = o.store;
      go.prefix = o.prefix;
      go.hostname = o.hostname;
      go.timeout = o.timeout;
      return NewGlooCollective(go);
    }
    case CollectiveKind::kNccl: {
#if defined(AUGUR_WITH_CUDA)
      NcclCollectiveOptions no;
      no.rank = o.rank;
      no.size = o.size;
      no.device = o.cuda_device;
      no.store = o.store;
      no.prefix = o.prefix;
      no.timeout = o.timeout;
      return NewNcclCollective(no);
#else
      return absl::UnimplementedError(
          "CUDA workers all-reduce with NCCL, which is not built into this binary (configure "
          "with AUGUR_CUDA=ON)");
#endif
    }
  }
  return absl::InternalError("unknown collective kind");
}

}  // namespace augur::model
