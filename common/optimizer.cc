#include "common/optimizer.h"

#include <cmath>

#include "common/limits.h"

namespace augur {

absl::StatusOr<OptimizerKind> ParseOptimizerKind(std::string_view name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adagrad" || name == "rowwise_adagrad") return OptimizerKind::kAdagrad;
  if (name == "adam") return OptimizerKind::kAdam;
  return absl::InvalidArgumentError("unknown optimizer " + Echo(name) +
                                    " (expected sgd, adagrad or adam)");
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
  // Infinite settings pass the comparisons below but turn every updated row into inf or NaN.
  if (!(c.lr > 0.0f) || !std::isfinite(c.lr))
    return absl::InvalidArgumentError("optimizer lr must be finite and > 0");
  if (!(c.eps > 0.0f) || !std::isfinite(c.eps))
    return absl::InvalidArgumentError("optimizer eps must be finite and > 0");
  if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f) || !(c.beta2 >= 0.0f && c.beta2 < 1.0f))
    return absl::InvalidArgumentError("optimizer betas must be in [0, 1)");
  if (!(c.initial_accumulator >= 0.0f) || !std::isfinite(c.initial_accumulator))
    return absl::InvalidArgumentError("optimizer initial_accumulator must be finite and >= 0");
  return absl::OkStatus();
}

}  // namespace augur
