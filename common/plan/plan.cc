#include "common/plan/plan.h"

namespace augur::plan {

WorkerIterationPlan SliceForWorker(const IterationPlan& plan, int worker) {
  WorkerIterationPlan out;
  out.iteration = plan.iteration;
  out.fills = plan.workers[worker].fills;
  out.evictions = plan.workers[worker].evictions;
  out.shared = plan.shared;
  out.transfers = plan.transfers;
  return out;
}

}  // namespace augur::plan
