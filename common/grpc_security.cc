#include "common/grpc_security.h"

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include "absl/strings/str_cat.h"
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
  AUGUR_RETURN_IF_ERROR(CheckTransportSecurity(s, /*serving=*/true));
  if (!s.serves_tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  AUGUR_ASSIGN_OR_RETURN(pair.cert_chain, ReadSecurityFile(s.tls_cert_file, "--tls-cert"));
  AUGUR_ASSIGN_OR_RETURN(pair.private_key, ReadSecurityFile(s.tls_key_file, "--tls-key"));
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(std::move(pair));
  auto creds = grpc::SslServerCredentials(options);
  if (!s.token_file.empty()) {
    AUGUR_ASSIGN_OR_RETURN(std::string token, ReadBearerToken(s.token_file));
    creds->SetAuthMetadataProcessor(std::make_shared<BearerTokenChecker>(std::move(token)));
  }
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TransportSecurity& s) {
  AUGUR_RETURN_IF_ERROR(CheckTransportSecurity(s, /*serving=*/false));
  if (!s.dials_tls()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  AUGUR_ASSIGN_OR_RETURN(options.pem_root_certs, ReadSecurityFile(s.tls_ca_file, "--tls-ca"));
  auto creds = grpc::SslCredentials(options);
  if (s.token_file.empty()) return creds;
  AUGUR_ASSIGN_OR_RETURN(std::string token, ReadBearerToken(s.token_file));
  return grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(token));
}

}  // namespace augur
