#include "common/transport_security.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace augur {

namespace {

absl::StatusOr<std::string> ReadSecurityFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read '", path, "'"));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

absl::StatusOr<std::string> ReadBearerToken(const std::string& path) {
  AUGUR_ASSIGN_OR_RETURN(std::string text, ReadSecurityFile(path, "--token-file"));
  std::string token(absl::StripAsciiWhitespace(text.substr(0, text.find('\n'))));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file: '", path, "' holds no token on its first line"));
  }
  return token;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio MemBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate in `pem`, read from `path` for `flag`; INVALID_ARGUMENT when none.
absl::StatusOr<std::unique_ptr<X509, X509Free>> FirstCertificate(const std::string& pem,
                                                                  const char* flag,
                                                                  const std::string& path) {
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(MemBio(pem).get(), nullptr, nullptr, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": '", path, "' holds no PEM certificate"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<LoadedSecurity> LoadTransportSecurity(const TransportSecurity& s, bool serving) {
  LoadedSecurity out;
  out.files = s;
  out.tls = serving ? s.serves_tls() : s.dials_tls();
  if (!out.tls && !s.token_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--token-file needs ", serving ? "--tls-cert and --tls-key" : "--tls-ca",
                     ": a bearer token is never sent in the clear"));
  }
  if (serving && out.tls) {
    if (s.tls_cert_file.empty() || s.tls_key_file.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
    }
    AUGUR_ASSIGN_OR_RETURN(out.cert_pem, ReadSecurityFile(s.tls_cert_file, "--tls-cert"));
    AUGUR_ASSIGN_OR_RETURN(out.key_pem, ReadSecurityFile(s.tls_key_file, "--tls-key"));
    AUGUR_ASSIGN_OR_RETURN(auto cert,
                           FirstCertificate(out.cert_pem, "--tls-cert", s.tls_cert_file));
    std::unique_ptr<EVP_PKEY, KeyFree> key(
        PEM_read_bio_PrivateKey(MemBio(out.key_pem).get(), nullptr, nullptr, nullptr));
    if (!key) {
      return absl::InvalidArgumentError("--tls-key: '" + s.tls_key_file +
                                        "' holds no unencrypted PEM private key");
    }
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
      return absl::InvalidArgumentError("--tls-key: '" + s.tls_key_file +
                                        "' is not the key of --tls-cert '" + s.tls_cert_file +
                                        "'");
    }
  } else if (out.tls) {
    AUGUR_ASSIGN_OR_RETURN(out.ca_pem, ReadSecurityFile(s.tls_ca_file, "--tls-ca"));
    AUGUR_RETURN_IF_ERROR(FirstCertificate(out.ca_pem, "--tls-ca", s.tls_ca_file).status());
  }
  if (!s.token_file.empty()) {
    AUGUR_ASSIGN_OR_RETURN(out.token, ReadBearerToken(s.token_file));
  }
  return out;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kPrefix = "Bearer ";
  const size_t want = kPrefix.size() + token.size();
  unsigned diff = authorization.size() != want;
  for (size_t i = 0; i < want; ++i) {
    const char expected = i < kPrefix.size() ? kPrefix[i] : token[i - kPrefix.size()];
    const char got = i < authorization.size() ? authorization[i] : 0;
    diff |= static_cast<unsigned char>(expected) ^ static_cast<unsigned char>(got);
  }
  return diff == 0;
}

}  // namespace augur
