#include "cli/cluster_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace augur::cli {
namespace {

absl::Status Bad(const std::string& path, const std::string& key, const std::string& what) {
  return absl::InvalidArgumentError(path + ": " + key + ": " + what);
}

absl::StatusOr<ClusterProcess> ReadProcess(const YAML::Node& n, const std::string& path,
                                           const std::string& key) {
  if (!n.IsMap()) return Bad(path, key, "expected a map");
  ClusterProcess p;
  try {
    if (n["grpc"]) p.grpc = n["grpc"].as<std::string>();
    if (n["metrics"]) p.metrics = n["metrics"].as<std::string>();
    if (n["index"]) p.index = n["index"].as<int>();
    if (n["pid"]) p.pid = n["pid"].as<long>();
  } catch (const YAML::Exception& e) {
    return Bad(path, key, e.msg);
  }
  return p;
}

absl::StatusOr<std::vector<ClusterProcess>> ReadList(const YAML::Node& root, const char* name,
                                                     const std::string& path) {
  std::vector<ClusterProcess> out;
  const YAML::Node n = root[name];
  if (!n || n.IsNull()) return out;
  if (!n.IsSequence()) return Bad(path, name, "expected a list");
  for (size_t i = 0; i < n.size(); ++i) {
    auto p = ReadProcess(n[i], path, std::string(name) + "[" + std::to_string(i) + "]");
    if (!p.ok()) return p.status();
    if (p->index < 0) p->index = static_cast<int>(i);
    out.push_back(*p);
  }
  return out;
}

}  // namespace

absl::StatusOr<ClusterFile> ParseClusterFile(const std::string& yaml_text, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return absl::InvalidArgumentError(path + ": expected a map at the top");
  ClusterFile c;
  if (root["run_dir"]) c.run_dir = root["run_dir"].as<std::string>("");
  if (!root["oracle"]) return Bad(path, "oracle", "missing");
  auto o = ReadProcess(root["oracle"], path, "oracle");
  if (!o.ok()) return o.status();
  if (o->grpc.empty()) return Bad(path, "oracle.grpc", "missing");
  c.oracle = *o;
  auto shards = ReadList(root, "shards", path);
  if (!shards.ok()) return shards.status();
  c.shards = std::move(*shards);
  auto workers = ReadList(root, "workers", path);
  if (!workers.ok()) return workers.status();
  c.workers = std::move(*workers);
  if (const YAML::Node s = root["security"]; s) {
    if (!s.IsMap()) return Bad(path, "security", "expected a map");
    try {
      if (s["tls_ca"]) c.security.tls_ca_file = s["tls_ca"].as<std::string>();
      if (s["token_file"]) c.security.token_file = s["token_file"].as<std::string>();
    } catch (const YAML::Exception& e) {
      return Bad(path, "security", e.msg);
    }
  }
  return c;
}

absl::StatusOr<ClusterFile> LoadClusterFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read cluster file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseClusterFile(ss.str(), path);
}

TransportSecurity ClientSecurity(const Endpoints& e, const ClusterFile* cluster) {
  const bool flags = e.security.dials_tls() || !e.security.token_file.empty();
  return flags || cluster == nullptr ? e.security : cluster->security;
}

absl::StatusOr<ClusterAccess> ResolveEndpoints(const Endpoints& e) {
  if (e.cluster_file.empty()) return ClusterAccess{e.oracle, e.security};
  auto c = LoadClusterFile(e.cluster_file);
  if (!c.ok()) return c.status();
  return ClusterAccess{c->oracle.grpc, ClientSecurity(e, &*c)};
}

}  // namespace augur::cli
