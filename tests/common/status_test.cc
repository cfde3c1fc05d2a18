#include "common/status.h"

#include <catch2/catch.hpp>

#include "common/grpc_status.h"
#include "common/packed.h"

using namespace augur;

namespace {
absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}
absl::StatusOr<int> Quarter(int x) {
  AUGUR_ASSIGN_OR_RETURN(int h, Half(x));
  AUGUR_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}
absl::Status Check(int x) {
  AUGUR_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}
}  // namespace

TEST_CASE("Status macros propagate the first error") {
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().message() == "odd");
  CHECK(Check(3).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Check(4).ok());
}

TEST_CASE("absl and gRPC status codes map one to one") {
  auto g = ToGrpcStatus(absl::OutOfRangeError("row 9 >= 5"));
  CHECK(g.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK(g.error_message() == "row 9 >= 5");
  CHECK(FromGrpcStatus(g).code() == absl::StatusCode::kOutOfRange);
  CHECK(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST_CASE("Packed arrays round-trip and reject ragged byte strings") {
  std::vector<uint64_t> ids{1, 2, uint64_t{1} << 40};
  auto bytes = PackArray<uint64_t>(ids);
  CHECK(*UnpackArray<uint64_t>(bytes, "rows") == ids);
  CHECK(UnpackArray<float>(std::string(7, 'x'), "values").status().code() ==
        absl::StatusCode::kInvalidArgument);
}
