// The command-line face of TransportSecurity, shared by every augur binary so the flags read
// the same everywhere: --tls-cert, --tls-key, --tls-ca, --token-file.
#pragma once

#include <CLI/CLI.hpp>

#include "common/grpc_security.h"

namespace augur {

// --tls-ca and --token-file: for processes that only dial (the augur CLI).
inline void AddClientSecurityFlags(CLI::App* app, TransportSecurity* s) {
  app->add_option("--tls-ca", s->tls_ca_file, "PEM CA that signs the cluster's servers (dial TLS)")
      ->check(CLI::ExistingFile);
  app->add_option("--token-file", s->token_file,
                  "file with the cluster's bearer token: required from callers, sent to servers")
      ->check(CLI::ExistingFile);
}

// All four: for processes that serve and dial (shards, oracle, workers).
inline void AddTransportSecurityFlags(CLI::App* app, TransportSecurity* s) {
  app->add_option("--tls-cert", s->tls_cert_file, "PEM certificate to serve gRPC over TLS with")
      ->check(CLI::ExistingFile);
  app->add_option("--tls-key", s->tls_key_file, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  AddClientSecurityFlags(app, s);
}

}  // namespace augur
