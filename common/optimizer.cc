#include "common/optimizer.h"

namespace augur {

absl::StatusOr<OptimizerKind> ParseOptimizerKind(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adagrad" || name == "rowwise_adagrad") return OptimizerKind::kAdagrad;
  if (name == "adam") return OptimizerKind::kAdam;
  return absl::InvalidArgumentError("unknown optimizer '" + std::string(name) +
                                    "' (expected sgd, adagrad or adam)");
}

std::string_view OptimizerName(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd: return "sgd";
    case OptimizerKind::kAdagrad: return "adagrad";
    case OptimizerKind::kAdam: return "adam";
  }
  return "?";
}

absl::Status ValidateOptimizerConfig(const OptimizerConfig& c) {
  if (!(c.lr > 0.0f)) return absl::InvalidArgumentError("optimizer lr must be > 0");
  if (!(c.eps > 0.0f)) return absl::InvalidArgumentError("optimizer eps must be > 0");
  if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f) || !(c.beta2 >= 0.0f && c.beta2 < 1.0f))
    return absl::InvalidArgumentError("optimizer betas must be in [0, 1)");
  if (!(c.initial_accumulator >= 0.0f))
    return absl::InvalidArgumentError("optimizer initial_accumulator must be >= 0");
  return absl::OkStatus();
}

}  // namespace augur
