// One error vocabulary for augur: absl::Status / absl::StatusOr<T>, whose codes are gRPC's codes.
//
// The pinned abseil (20220623) lacks RETURN_IF_ERROR / ASSIGN_OR_RETURN, so these look-alikes
// live here. Use CHECK-style aborts only for programmer bugs, never for bad input or a peer that
// went away.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define AUGUR_CONCAT_INNER_(a, b) a##b
#define AUGUR_CONCAT_(a, b) AUGUR_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define AUGUR_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    ::absl::Status augur_status_ = (expr);            \
    if (!augur_status_.ok()) return augur_status_;    \
  } while (0)

// `lhs` = value of the StatusOr `expr`, or returns its status from the enclosing function.
#define AUGUR_ASSIGN_OR_RETURN(lhs, expr) \
  AUGUR_ASSIGN_OR_RETURN_IMPL_(AUGUR_CONCAT_(augur_statusor_, __LINE__), lhs, expr)
#define AUGUR_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()
