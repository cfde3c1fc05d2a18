// Transport security for augur's gRPC services and their clients: TLS with a cluster CA, and a
// shared bearer token every call must carry (ARCHITECTURE.md: "every service can require TLS
// and a bearer token"). Off by default; everything binds to loopback then.
//
// One TransportSecurity describes a process's part in a cluster: as a server it presents
// tls_cert_file/tls_key_file and, with a token, rejects calls without "authorization: Bearer
// <token>" (UNAUTHENTICATED); as a client it verifies servers against tls_ca_file and sends the
// token. A token travels only over TLS (gRPC refuses to send call credentials in the clear), so
// a token without TLS is an error rather than a silent downgrade.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/transport_security.h"

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace augur {


// Credentials for a server's listening port: insecure when no certificate is given. Errors:
// INVALID_ARGUMENT naming the flag (certificate without key or the reverse, a token without a
// certificate, an empty token), NOT_FOUND / PERMISSION_DENIED for unreadable files.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TransportSecurity& security);

// Credentials for channels to the cluster's servers: insecure without a CA. Same errors.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TransportSecurity& security);

}  // namespace augur
