#include "common/grpc_security.h"

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace augur {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> ReadToken(const std::string& path) {
  AUGUR_ASSIGN_OR_RETURN(std::string text, ReadFile(path, "--token-file"));
  std::string token(absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file: '", path, "' holds no token on its first line"));
  }
  return token;
}

// Accepts a call only when its "authorization" metadata is "Bearer <token>".
class BearerTokenChecker final : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenChecker(std::string token) : expected_("Bearer " + std::move(token)) {}
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext*,
                       OutputMetadata* consumed, OutputMetadata*) override {
    auto it = auth_metadata.find("authorization");
    if (it == auth_metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "this service requires a bearer token (--token-file) and got none");
    }
    if (!SameToken(it->second)) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "the bearer token does not match this service's (--token-file)");
    }
    consumed->insert({std::string(it->first.data(), it->first.size()),
                      std::string(it->second.data(), it->second.size())});
    return grpc::Status::OK;
  }

 private:
  // Compares in time independent of where the first difference is.
  bool SameToken(grpc::string_ref got) const {
    unsigned diff = got.size() != expected_.size();
    for (size_t i = 0; i < expected_.size(); ++i) {
      diff |= static_cast<unsigned char>(expected_[i]) ^
              static_cast<unsigned char>(i < got.size() ? got.data()[i] : 0);
    }
    return diff == 0;
  }

  const std::string expected_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TransportSecurity& s) {
  if (!s.serves_tls()) {
    if (!s.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--token-file needs --tls-cert and --tls-key: a bearer token is never sent in the clear");
    }
    return grpc::InsecureServerCredentials();
  }
  if (s.tls_cert_file.empty() || s.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  AUGUR_ASSIGN_OR_RETURN(pair.cert_chain, ReadFile(s.tls_cert_file, "--tls-cert"));
  AUGUR_ASSIGN_OR_RETURN(pair.private_key, ReadFile(s.tls_key_file, "--tls-key"));
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(std::move(pair));
  auto creds = grpc::SslServerCredentials(options);
  if (!s.token_file.empty()) {
    AUGUR_ASSIGN_OR_RETURN(std::string token, ReadToken(s.token_file));
    creds->SetAuthMetadataProcessor(std::make_shared<BearerTokenChecker>(std::move(token)));
  }
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const TransportSecurity& s) {
  if (!s.dials_tls()) {
    if (!s.token_file.empty()) {
      return absl::InvalidArgumentError(
          "--token-file needs --tls-ca: a bearer token is never sent in the clear");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  AUGUR_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFile(s.tls_ca_file, "--tls-ca"));
  auto creds = grpc::SslCredentials(options);
  if (s.token_file.empty()) return creds;
  AUGUR_ASSIGN_OR_RETURN(std::string token, ReadToken(s.token_file));
  return grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(token));
}

}  // namespace augur
