// The single boundary between absl::Status and grpc::Status. The codes are numerically the same
// (absl::StatusCode mirrors grpc::StatusCode), so the mapping is lossless both ways.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace augur {

grpc::Status ToGrpcStatus(const absl::Status& s);
absl::Status FromGrpcStatus(const grpc::Status& s);

}  // namespace augur
