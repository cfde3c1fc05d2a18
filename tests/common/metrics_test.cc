#include "common/metrics.h"

#include <catch2/catch.hpp>

#include "common/metrics_http.h"

#include <fstream>

#include "tests/support/test_paths.h"

using namespace augur;

TEST_CASE("Registry renders counters, gauges and histograms in Prometheus text") {
  MetricsRegistry r;
  r.GetCounter("augur_x_total", "things", {{"method", "Lookup"}})->Increment(3);
  r.GetGauge("augur_g", "a gauge")->Set(1.5);
  auto* h = r.GetHistogram("augur_h_seconds", "latency", {}, {0.1, 1.0});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  std::string text = r.RenderPrometheus();
  CHECK(text.find("# TYPE augur_x_total counter") != std::string::npos);
  CHECK(text.find("augur_x_total{method=\"Lookup\"} 3") != std::string::npos);
  CHECK(text.find("augur_g 1.5") != std::string::npos);
  CHECK(text.find("augur_h_seconds_bucket{le=\"0.10000000000000001\"} 1") != std::string::npos);
  CHECK(text.find("augur_h_seconds_bucket{le=\"+Inf\"} 3") != std::string::npos);
  CHECK(text.find("augur_h_seconds_count 3") != std::string::npos);
}

TEST_CASE("The same name and labels return the same series") {
  MetricsRegistry r;
  auto* a = r.GetCounter("c_total", "h", {{"k", "v"}});
  auto* b = r.GetCounter("c_total", "h", {{"k", "v"}});
  auto* c = r.GetCounter("c_total", "h", {{"k", "w"}});
  CHECK(a == b);
  CHECK(a != c);
}

TEST_CASE("Collectors run before rendering") {
  MetricsRegistry r;
  auto* g = r.GetGauge("pulled", "pulled at scrape");
  r.AddCollector([g] { g->Set(42); });
  CHECK(r.RenderPrometheus().find("pulled 42") != std::string::npos);
}

TEST_CASE("The metrics endpoint serves GET /metrics over HTTP on loopback") {
  MetricsRegistry r;
  r.GetCounter("augur_served_total", "served")->Increment();
  MetricsHttpServer server(&r);
  auto port = server.Start("127.0.0.1:0");
  REQUIRE(port.ok());
  auto body = HttpGet("127.0.0.1:" + std::to_string(*port), "/metrics");
  REQUIRE(body.ok());
  CHECK(body->find("augur_served_total 1") != std::string::npos);
  server.Stop();
  CHECK_FALSE(HttpGet("127.0.0.1:" + std::to_string(*port), "/metrics", 0.5).ok());
}

TEST_CASE("Bad listen addresses are rejected with INVALID_ARGUMENT") {
  CHECK(SplitHostPort("nocolon").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SplitHostPort("h:99999").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SplitHostPort("[::1]:80")->first == "::1");
}

TEST_CASE("A metrics port already in use is refused, not shared") {
  MetricsRegistry r;
  MetricsHttpServer a(&r), b(&r);
  auto port = a.Start("127.0.0.1:0");
  REQUIRE(port.ok());
  auto second = b.Start("127.0.0.1:" + std::to_string(*port));
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("With TLS and a token the metrics endpoint answers only trusted, token-bearing GETs") {
  augur::testing::ScratchDir dir("metrics-tls");
  std::ofstream(dir.path() + "/token") << "scrape-token\n";
  std::ofstream(dir.path() + "/wrong") << "scrape-tokeN\n";
  auto tls = [](const std::string& f) {
    return augur::testing::SourceFile("tests/support/tls/" + f);
  };
  MetricsRegistry r;
  r.GetCounter("augur_served_total", "served")->Increment();
  MetricsHttpServer server(&r);
  TransportSecurity serve;
  serve.tls_cert_file = tls("server.pem");
  serve.tls_key_file = tls("server.key.pem");
  serve.token_file = dir.path() + "/token";
  auto port = server.Start("127.0.0.1:0", serve);
  REQUIRE(port.ok());
  const std::string at = "127.0.0.1:" + std::to_string(*port);
  TransportSecurity client;
  client.tls_ca_file = tls("ca.pem");
  client.token_file = dir.path() + "/token";
  auto get = [&](const std::string& path) {  // a client loaded with the current settings
    auto loaded = LoadTransportSecurity(client, /*serving=*/false);
    REQUIRE(loaded.ok());
    return HttpGet(at, path, 2.0, *loaded);
  };
  auto body = get("/metrics");
  REQUIRE(body.ok());
  CHECK(body->find("augur_served_total 1") != std::string::npos);
  client.token_file = dir.path() + "/wrong";
  CHECK(get("/metrics").status().code() == absl::StatusCode::kUnauthenticated);
  client.token_file.clear();
  CHECK(get("/metrics").status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(get("/healthz").ok());                     // liveness needs no token
  CHECK_FALSE(HttpGet(at, "/metrics", 2.0).ok());  // plaintext
  client.tls_ca_file = tls("other_ca.pem");
  CHECK_FALSE(get("/healthz").ok());  // an untrusted server
}

TEST_CASE("A metrics endpoint refuses a token without TLS and unreadable certificates") {
  augur::testing::ScratchDir dir("metrics-tls-bad");
  std::ofstream(dir.path() + "/token") << "t\n";
  MetricsRegistry r;
  TransportSecurity s;
  s.token_file = dir.path() + "/token";
  CHECK(MetricsHttpServer(&r).Start("127.0.0.1:0", s).status().code() ==
        absl::StatusCode::kInvalidArgument);
  s = {};
  s.tls_cert_file = dir.path() + "/missing.pem";
  s.tls_key_file = dir.path() + "/missing.key";
  CHECK(MetricsHttpServer(&r).Start("127.0.0.1:0", s).status().code() ==
        absl::StatusCode::kNotFound);
  s.tls_cert_file = dir.path() + "/token";  // readable, but no certificate
  s.tls_key_file = dir.path() + "/token";
  CHECK(MetricsHttpServer(&r).Start("127.0.0.1:0", s).status().code() ==
        absl::StatusCode::kInvalidArgument);
}
