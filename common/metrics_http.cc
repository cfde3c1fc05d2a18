#include "common/metrics_http.h"

#include <httplib.h>

#include <charconv>
#include <chrono>

#include "common/metrics.h"
#include "common/status.h"

namespace augur {

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& hostport) {
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == hostport.size())
    return absl::InvalidArgumentError("address '" + hostport + "' is not host:port");
  std::string host = hostport.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  const char* b = hostport.data() + colon + 1;
  const char* e = hostport.data() + hostport.size();
  auto [p, ec] = std::from_chars(b, e, port);
  if (ec != std::errc() || p != e || port < 0 || port > 65535)
    return absl::InvalidArgumentError("address '" + hostport + "' has a bad port");
  return std::make_pair(host, port);
}

MetricsHttpServer::MetricsHttpServer(const MetricsRegistry* registry) : registry_(registry) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

absl::StatusOr<int> MetricsHttpServer::Start(const std::string& listen,
                                             const TransportSecurity& security) {
  auto hp = SplitHostPort(listen);
  if (!hp.ok()) return hp.status();
  AUGUR_ASSIGN_OR_RETURN(LoadedSecurity loaded, LoadTransportSecurity(security, /*serving=*/true));
  if (loaded.tls) {
    auto ssl = std::make_unique<httplib::SSLServer>(security.tls_cert_file.c_str(),
                                                    security.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError("--tls-cert / --tls-key: cannot serve HTTPS with " +
                                        security.tls_cert_file + " and its key");
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  if (!loaded.token.empty()) {
    server_->set_pre_routing_handler(
        [token = std::move(loaded.token)](const httplib::Request& req, httplib::Response& res) {
          if (req.path == "/healthz" ||
              BearerMatches(req.get_header_value("Authorization"), token)) {
            return httplib::Server::HandlerResponse::Unhandled;
          }
          res.status = 401;
          res.set_header("WWW-Authenticate", "Bearer");
          res.set_content("a bearer token is required (--token-file)\n", "text/plain");
          return httplib::Server::HandlerResponse::Handled;
        });
  }
  // httplib's default sets SO_REUSEPORT, which lets a second process share the port silently.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const MetricsRegistry* reg = registry_;
  server_->Get("/metrics", [reg](const httplib::Request&, httplib::Response& res) {
    res.set_content(reg->RenderPrometheus(), "text/plain; version=0.0.4");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  int port = hp->second;
  if (port == 0) {
    port = server_->bind_to_any_port(hp->first.c_str());
    if (port < 0) return absl::UnavailableError("cannot bind metrics endpoint " + listen);
  } else if (!server_->bind_to_port(hp->first.c_str(), port)) {
    return absl::UnavailableError("cannot bind metrics endpoint " + listen +
                                  " (address in use or not local)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs, so a quick Stop() would leave the
  // thread listening forever: wait for the loop before handing the server out.
  for (int i = 0; i < 5000 && !server_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void MetricsHttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

absl::StatusOr<std::string> HttpGet(const std::string& hostport, const std::string& path,
                                    double timeout_s, const LoadedSecurity& security) {
  auto hp = SplitHostPort(hostport);
  if (!hp.ok()) return hp.status();
  const std::string scheme = security.tls ? "https://" : "http://";
  httplib::Client cli(scheme + hostport);
  if (security.tls) {
    cli.set_ca_cert_path(security.files.tls_ca_file.c_str());
    cli.enable_server_certificate_verification(true);
  }
  if (!security.token.empty()) cli.set_bearer_token_auth(security.token.c_str());
  auto timeout = std::chrono::microseconds(static_cast<int64_t>(timeout_s * 1e6));
  cli.set_connection_timeout(timeout);
  cli.set_read_timeout(timeout);
  auto res = cli.Get(path.c_str());
  if (!res)
    return absl::UnavailableError("GET " + scheme + hostport + path + " failed: " +
                                  httplib::to_string(res.error()));
  if (res->status == 401)
    return absl::UnauthenticatedError("GET " + scheme + hostport + path +
                                      " needs a valid bearer token (--token-file)");
  if (res->status != 200)
    return absl::UnavailableError("GET " + scheme + hostport + path + " returned HTTP " +
                                  std::to_string(res->status));
  return res->body;
}

}  // namespace augur
