#include "common/grpc_security.h"

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "common/status.h"

namespace augur {
namespace {

// Accepts a call only when its "authorization" metadata is "Bearer <token>".
class BearerTokenChecker final : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenChecker(std::string token) : token_(std::move(token)) {}
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext*,
                       OutputMetadata* consumed, OutputMetadata*) override {
    auto it = auth_metadata.find("authorization");
    if (it == auth_metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "this service requires a bearer token (--token-file) and got none");
    }
    const std::string value(it->second.data(), it->second.size());
    if (!BearerMatches(value, token_)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "the bearer token does not match this service's (--token-file)");
    }
    consumed->insert({std::string(it->first.data(), it->first.size()), value});
    return grpc::Status::OK;
  }

 private:
  const std::string token_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TransportSecurity& s) {
  AUGUR_ASSIGN_OR_RETURN(LoadedSecurity l, LoadTransportSecurity(s, /*serving=*/true));
  if (!l.tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({std::move(l.key_pem), std::move(l.cert_pem)});
  auto creds = grpc::SslServerCredentials(options);
  if (!l.token.empty()) {
    creds->SetAuthMetadataProcessor(std::make_shared<BearerTokenChecker>(std::move(l.token)));
  }
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TransportSecurity& s) {
  AUGUR_ASSIGN_OR_RETURN(LoadedSecurity l, LoadTransportSecurity(s, /*serving=*/false));
  if (!l.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::move(l.ca_pem);
  auto creds = grpc::SslCredentials(options);
  if (l.token.empty()) return creds;
  return grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(l.token));
}

}  // namespace augur
