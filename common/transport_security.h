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

// One side's settings with their files read and checked, once: what credentials and clients
// are built from, so nothing reads or parses a file again per connection or per request.
struct LoadedSecurity {
  TransportSecurity files;        // the paths (cpp-httplib opens certificates by path)
  bool tls = false;               // this side speaks TLS
  std::string cert_pem, key_pem;  // serving: the certificate chain and its private key
  std::string ca_pem;             // dialing: the CA bundle servers are verified against
  std::string token;              // the bearer token; "" without --token-file
};

// Loads a server side (`serving` true) or a client side: certificate and key together, a token
// only with TLS, every file readable (NOT_FOUND naming the flag) and usable - a PEM certificate,
// a private key that matches it, a CA certificate, a non-empty first line of the token file
// (INVALID_ARGUMENT naming the flag). No TLS and no token: OK with nothing loaded.
absl::StatusOr<LoadedSecurity> LoadTransportSecurity(const TransportSecurity& s, bool serving);

// Whether an "authorization" value is exactly "Bearer <token>", in time that does not depend
// on where the first difference is.
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace augur
