// Transport security over real loopback sockets: a shard served with TLS and a bearer token
// answers only clients that trust its CA and carry the token, with the gRPC status that says
// which; and bad security settings are refused before anything listens.
#include <catch2/catch.hpp>

#include <fstream>

#include "common/grpc_security.h"
#include "server/client/shard_client.h"
#include "server/shard_server.h"
#include "tests/server/shard_test_util.h"
#include "tests/support/test_paths.h"

namespace augur::shard {
namespace {

std::string Tls(const std::string& name) {
  return augur::testing::SourceFile("tests/support/tls/" + name);
}

struct SecureShard {
  augur::testing::ScratchDir dir{"tls"};
  std::unique_ptr<ShardCore> core = testing::OpenMemoryCore(0, 1);
  std::unique_ptr<ShardServer> server;
  std::string endpoint;

  SecureShard() {
    std::ofstream(dir.path() + "/token") << "s3cret-token\n";
    TransportSecurity s;
    s.tls_cert_file = Tls("server.pem");
    s.tls_key_file = Tls("server.key.pem");
    s.token_file = dir.path() + "/token";
    ShardServerOptions o{"127.0.0.1:0", 2};
    o.credentials = *MakeServerCredentials(s);
    server = *ShardServer::Start(core.get(), nullptr, o);
    endpoint = "127.0.0.1:" + std::to_string(server->port());
  }
  ~SecureShard() { server->Shutdown(); }

  // The status of one CreateTable from a client with these settings.
  absl::Status Call(const TransportSecurity& s) {
    ShardClientOptions o;
    o.credentials = *MakeChannelCredentials(s);
    o.rpc_deadline = std::chrono::milliseconds(3000);
    auto client = *ShardClient::Connect({endpoint}, o);
    return client->CreateTable(testing::MakeSpec(1)).get().status();
  }
  std::string WriteToken(const std::string& token) {
    std::string path = dir.path() + "/client-token";
    std::ofstream(path) << token << "\n";
    return path;
  }
};

}  // namespace

TEST_CASE("A TLS shard with a token serves a client that trusts its CA and carries the token") {
  SecureShard shard;
  TransportSecurity s;
  s.tls_ca_file = Tls("ca.pem");
  s.token_file = shard.WriteToken("s3cret-token");
  REQUIRE(shard.Call(s).ok());
  CHECK(shard.core->ListTables().size() == 1);
}

TEST_CASE("A wrong or missing bearer token is UNAUTHENTICATED and changes nothing") {
  SecureShard shard;
  TransportSecurity s;
  s.tls_ca_file = Tls("ca.pem");
  s.token_file = shard.WriteToken("s3cret-tokem");
  CHECK(shard.Call(s).code() == absl::StatusCode::kUnauthenticated);
  s.token_file = shard.WriteToken("s3cret-token-and-more");
  CHECK(shard.Call(s).code() == absl::StatusCode::kUnauthenticated);
  s.token_file.clear();
  CHECK(shard.Call(s).code() == absl::StatusCode::kUnauthenticated);
  CHECK(shard.core->ListTables().empty());
}

TEST_CASE("A plaintext client or one trusting another CA cannot reach a TLS shard") {
  SecureShard shard;
  CHECK(shard.Call(TransportSecurity{}).code() == absl::StatusCode::kUnavailable);
  TransportSecurity other;
  other.tls_ca_file = Tls("other_ca.pem");
  CHECK(shard.Call(other).code() == absl::StatusCode::kUnavailable);
  CHECK(shard.core->ListTables().empty());
}

TEST_CASE("Security settings that would send a token in the clear or lack a file are refused") {
  augur::testing::ScratchDir dir("tls-bad");
  std::ofstream(dir.path() + "/token") << "t\n";
  std::ofstream(dir.path() + "/empty") << "\n";
  TransportSecurity s;
  s.token_file = dir.path() + "/token";
  CHECK(MakeServerCredentials(s).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(MakeChannelCredentials(s).status().code() == absl::StatusCode::kInvalidArgument);
  s = {};
  s.tls_cert_file = Tls("server.pem");  // no key
  CHECK(MakeServerCredentials(s).status().code() == absl::StatusCode::kInvalidArgument);
  s.tls_key_file = dir.path() + "/missing.pem";
  auto missing = MakeServerCredentials(s);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message().find("--tls-key") != std::string_view::npos);
  s = {};
  s.tls_ca_file = Tls("ca.pem");
  s.token_file = dir.path() + "/empty";
  CHECK(MakeChannelCredentials(s).status().code() == absl::StatusCode::kInvalidArgument);
  s.token_file.clear();
  CHECK(MakeChannelCredentials(s).ok());
  CHECK(MakeServerCredentials(TransportSecurity{}).ok());
}

}  // namespace augur::shard

namespace augur::shard {

TEST_CASE("Certificate files that are not PEM, or a key of another certificate, fail at startup") {
  augur::testing::ScratchDir dir("tls-pem");
  std::ofstream(dir.path() + "/junk.pem") << "not a certificate\n";
  TransportSecurity s;
  s.tls_cert_file = dir.path() + "/junk.pem";
  s.tls_key_file = Tls("server.key.pem");
  auto junk = MakeServerCredentials(s);
  CHECK(junk.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(junk.status().message().find("--tls-cert") != std::string_view::npos);
  s.tls_cert_file = Tls("ca.pem");  // a real certificate, but server.key.pem is not its key
  auto mismatch = MakeServerCredentials(s);
  CHECK(mismatch.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(mismatch.status().message().find("is not the key") != std::string_view::npos);
  TransportSecurity c;
  c.tls_ca_file = dir.path() + "/junk.pem";
  CHECK(MakeChannelCredentials(c).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace augur::shard
