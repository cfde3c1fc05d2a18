// Transport security settings shared by augur's gRPC services (common/grpc_security.h) and its
// /metrics endpoints (common/metrics_http.h): TLS with a cluster CA and a shared bearer token.
// This header has no gRPC dependency.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace augur {

struct TransportSecurity {
  std::string tls_cert_file;  // PEM certificate chain this process serves with
  std::string tls_key_file;   // its PEM private key
  std::string tls_ca_file;    // PEM CA bundle that signs the cluster's servers (clients)
  std::string token_file;     // file whose first line is the cluster's bearer token

  bool serves_tls() const { return !tls_cert_file.empty() || !tls_key_file.empty(); }
  bool dials_tls() const { return !tls_ca_file.empty(); }
};

// The whole of a file; NOT_FOUND naming `flag` and the path when it cannot be read.
absl::StatusOr<std::string> ReadSecurityFile(const std::string& path, const char* flag);
// The token on the first line of `path` (surrounding blanks dropped); INVALID_ARGUMENT when
// that line is empty.
absl::StatusOr<std::string> ReadBearerToken(const std::string& path);

// Whether an "authorization" value is exactly "Bearer <token>", in time that does not depend
// on where the first difference is.
bool BearerMatches(std::string_view authorization, std::string_view token);

// Reads and checks the PEM files a side uses (serving: the certificate chain and a private key
// that matches it; dialing: at least one CA certificate), so a bad file fails at startup
// naming its flag instead of at the first handshake. NOT_FOUND for an unreadable file,
// INVALID_ARGUMENT for one that holds no usable certificate or key. OK when the side has no TLS.
absl::Status CheckPemFiles(const TransportSecurity& s, bool serving);

// Checks a server side (`serving` true) or client side: certificate and key together, a token
// only with TLS, every file readable and usable (CheckPemFiles, ReadBearerToken).
// INVALID_ARGUMENT / NOT_FOUND naming the flag.
absl::Status CheckTransportSecurity(const TransportSecurity& s, bool serving);

}  // namespace augur
