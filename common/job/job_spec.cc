#include "common/job/job_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <climits>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "common/limits.h"
#include "common/status.h"
#include "common/table_spec.h"

namespace augur::job {
namespace {

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(path + ": " + what);
}

std::string Show(const YAML::Node& n) {
  if (n.IsScalar()) return Echo(n.Scalar());
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

// Reads one mapping: each known key has a handler; anything else is an error with a suggestion.
class MapReader {
 public:
  using Handler = std::function<absl::Status(const YAML::Node&, const std::string& path)>;
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {}
  MapReader& On(const std::string& key, Handler h) {
    handlers_.emplace(key, std::move(h));
    return *this;
  }
  absl::Status Run() {
    if (!node_ || node_.IsNull()) return absl::OkStatus();
    if (!node_.IsMap()) return Bad(path_.empty() ? "job" : path_, "expected a mapping, got " + Show(node_));
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string key = it->first.as<std::string>();
      // A long key is quoted short: errors travel in gRPC metadata, which is small.
      std::string shown = key.size() > kMaxEchoBytes ? Echo(key) : key;
      std::string path = path_.empty() ? shown : path_ + "." + shown;
      auto h = handlers_.find(key);
      if (h == handlers_.end()) {
        std::string best;
        int best_d = 1 << 30;
        for (auto& [k, _] : handlers_) {
          int d = EditDistance(key, k);
          if (d < best_d) best_d = d, best = k;
        }
        std::string hint = best_d <= std::max<int>(2, key.size() / 3)
                               ? " (did you mean '" + best + "'?)"
                               : "";
        return Bad(path, "unknown key" + hint);
      }
      auto st = h->second(it->second, path);
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::map<std::string, Handler> handlers_;
};

template <typename T>
MapReader::Handler Scalar(T* out, const char* kind) {
  return [out, kind](const YAML::Node& n, const std::string& path) -> absl::Status {
    if (!n.IsScalar()) return Bad(path, std::string("expected ") + kind + ", got " + Show(n));
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      return Bad(path, std::string("expected ") + kind + ", got " + Show(n));
    }
    return absl::OkStatus();
  };
}
MapReader::Handler Str(std::string* o) { return Scalar(o, "a string"); }
MapReader::Handler Int(int* o) { return Scalar(o, "an integer"); }
MapReader::Handler Int64(int64_t* o) { return Scalar(o, "an integer"); }
MapReader::Handler U64(uint64_t* o) { return Scalar(o, "a non-negative integer"); }
MapReader::Handler Float(float* o) { return Scalar(o, "a number"); }
MapReader::Handler Double(double* o) { return Scalar(o, "a number"); }
MapReader::Handler Bool(bool* o) { return Scalar(o, "true or false"); }

template <typename T>
MapReader::Handler List(std::vector<T>* out, const char* kind) {
  return [out, kind](const YAML::Node& n, const std::string& path) -> absl::Status {
    if (!n.IsSequence()) return Bad(path, std::string("expected a list of ") + kind + ", got " + Show(n));
    out->clear();
    for (size_t i = 0; i < n.size(); ++i) {
      T v;
      auto st = Scalar(&v, kind)(n[i], path + "[" + std::to_string(i) + "]");
      if (!st.ok()) return st;
      out->push_back(v);
    }
    return absl::OkStatus();
  };
}

MapReader::Handler Optimizer(OptimizerConfig* o) {
  return [o](const YAML::Node& n, const std::string& path) -> absl::Status {
    std::string kind(OptimizerName(o->kind));
    auto st = MapReader(n, path)
                  .On("kind", Str(&kind))
                  .On("lr", Float(&o->lr))
                  .On("eps", Float(&o->eps))
                  .On("beta1", Float(&o->beta1))
                  .On("beta2", Float(&o->beta2))
                  .On("initial_accumulator", Float(&o->initial_accumulator))
                  .Run();
    if (!st.ok()) return st;
    auto k = ParseOptimizerKind(kind);
    if (!k.ok()) return Bad(path + ".kind", std::string(k.status().message()));
    o->kind = *k;
    auto v = ValidateOptimizerConfig(*o);
    if (!v.ok()) return Bad(path, std::string(v.message()));
    return absl::OkStatus();
  };
}

// The interaction keys: their values, and that each is used with the interaction it belongs to.
absl::Status ValidateInteraction(const ModelSpec& m) {
  if (!m.interaction.empty() && m.interaction != "dot" && m.interaction != "dcn")
    return Bad("model.interaction", "expected dot or dcn, got " + Echo(m.interaction));
  if (m.cross_layers < 0 || m.cross_layers > 64)
    return Bad("model.cross_layers", "must be in 1..64 (0 or absent: the preset's)");
  if (m.cross_rank < 0 || m.cross_rank > 65536)
    return Bad("model.cross_rank", "must be in 1..65536 (0 or absent: the preset's)");
  const bool dcn = EffectiveInteraction(m) == "dcn";
  if (!dcn) {
    if (m.cross_layers > 0) return Bad("model.cross_layers", "only for interaction: dcn");
    if (m.cross_rank > 0) return Bad("model.cross_rank", "only for interaction: dcn");
    return absl::OkStatus();
  }
  if (m.self_interaction) return Bad("model.self_interaction", "only for interaction: dot");
  if (m.preset != "dlrmv2") {  // dlrmv2 brings its cross network; the others have none
    if (m.cross_layers == 0)
      return Bad("model.cross_layers", "required with interaction: dcn (preset " + m.preset + ")");
    if (m.cross_rank == 0)
      return Bad("model.cross_rank", "required with interaction: dcn (preset " + m.preset + ")");
  }
  return absl::OkStatus();
}

// Bounds on everything that sizes an allocation or travels in a message (common/limits.h).
absl::Status ValidateSizes(const JobSpec& s) {
  AUGUR_RETURN_IF_ERROR(CheckLength("name", s.name, kMaxNameBytes));
  AUGUR_RETURN_IF_ERROR(CheckLength("data.train", s.data.train, kMaxPathBytes));
  AUGUR_RETURN_IF_ERROR(CheckLength("data.eval", s.data.eval, kMaxPathBytes));
  AUGUR_RETURN_IF_ERROR(CheckLength("data.schema", s.data.schema, kMaxPathBytes));
  if (s.data.num_dense < -1 || s.data.num_dense > 1024)
    return Bad("data.num_dense", "must be -1 (from the dataset) or 0..1024");
  if (s.data.num_sparse < -1 || s.data.num_sparse == 0 || s.data.num_sparse > 1024)
    return Bad("data.num_sparse", "must be -1 (from the dataset) or 1..1024");
  if (s.data.mean_pooled.size() > 1024) return Bad("data.mean_pooled", "more than 1024 features");
  for (int f : s.data.mean_pooled)
    if (f < 0 || f >= (s.data.num_sparse > 0 ? s.data.num_sparse : 1024))
      return Bad("data.mean_pooled", "feature index " + std::to_string(f) +
                                         " is outside the dataset's sparse features");
  AUGUR_RETURN_IF_ERROR(CheckLength("checkpoint.dir", s.checkpoint.dir, kMaxPathBytes));
  if (s.cluster.shards.size() > kMaxShards)
    return Bad("cluster.shards", "more than " + std::to_string(kMaxShards) + " shards");
  for (const auto& e : s.cluster.shards)
    AUGUR_RETURN_IF_ERROR(CheckLength("cluster.shards", e, kMaxNameBytes));
  if (s.model.dim > static_cast<int>(kMaxTableDim))
    return Bad("model.dim", "must be <= " + std::to_string(kMaxTableDim));
  for (const auto* layers : {&s.model.bottom, &s.model.top}) {
    const char* path = layers == &s.model.bottom ? "model.bottom" : "model.top";
    if (layers->size() > 64) return Bad(path, "more than 64 layers");
    for (int w : *layers)
      if (w < 1 || w > 65536) return Bad(path, "layer widths must be in 1..65536");
  }
  if (s.training.batch_size > (int64_t{1} << 24))
    return Bad("training.batch_size", "must be <= 2^24");
  if (s.training.iterations > kMaxIteration)
    return Bad("training.iterations", "must be <= 2^48");
  if (!(s.training.epochs <= 1e6)) return Bad("training.epochs", "must be <= 1e6");
  if (s.training.threads > 1024) return Bad("training.threads", "must be <= 1024");
  if (s.cache.capacity > INT32_MAX) return Bad("cache.capacity", "must be < 2^31 rows");
  // The planner keeps each read's distance to the next in 16 bits (oracle_cacher/planner_state.h).
  if (s.cache.lookahead > 65534) return Bad("cache.lookahead", "must be <= 65534");
  if (s.cache.plans_in_flight > 100000) return Bad("cache.plans_in_flight", "must be <= 100000");
  return absl::OkStatus();
}

absl::Status Validate(const JobSpec& s) {
  auto oneof = [](const std::string& v, std::initializer_list<const char*> allowed) {
    for (auto a : allowed)
      if (v == a) return true;
    return false;
  };
  if (!oneof(s.model.preset, {"kaggle", "mlperf", "dlrmv2", "custom"}))
    return Bad("model.preset",
               "expected kaggle, mlperf, dlrmv2 or custom, got " + Echo(s.model.preset));
  if (s.model.preset == "custom" && (s.model.dim <= 0 || s.model.bottom.empty() || s.model.top.empty()))
    return Bad("model", "a custom model needs dim, bottom and top");
  AUGUR_RETURN_IF_ERROR(ValidateInteraction(s.model));
  if (s.data.train.empty()) return Bad("data.train", "required (a dataset directory)");
  if (s.training.batch_size < 1) return Bad("training.batch_size", "must be >= 1");
  if (s.training.iterations < 0) return Bad("training.iterations", "must be >= 0");
  if (s.training.epochs < 0) return Bad("training.epochs", "must be >= 0");
  if (s.training.eval_every < 0) return Bad("training.eval_every", "must be >= 0");
  if (!oneof(s.training.backend, {"cpu", "cuda"}))
    return Bad("training.backend", "expected cpu or cuda, got " + Echo(s.training.backend));
  if (s.training.threads < 1) return Bad("training.threads", "must be >= 1");
  if (!oneof(s.cache.policy, {"oracle", "prefetch1", "none"}))
    return Bad("cache.policy", "expected oracle, prefetch1 or none, got " + Echo(s.cache.policy));
  if (s.cache.capacity < 1) return Bad("cache.capacity", "must be >= 1 row");
  if (s.cache.lookahead < 1) return Bad("cache.lookahead", "must be >= 1");
  if (s.cache.prefetch_distance < 0 || s.cache.prefetch_distance > s.cache.lookahead)
    return Bad("cache.prefetch_distance", "must be in 0..lookahead");
  if (s.cache.plans_in_flight < 1) return Bad("cache.plans_in_flight", "must be >= 1");
  if (s.cluster.workers < 1 || s.cluster.workers > static_cast<int>(kMaxWorkers))
    return Bad("cluster.workers", "must be in 1.." + std::to_string(kMaxWorkers));
  if (s.checkpoint.every < 0) return Bad("checkpoint.every", "must be >= 0");
  if (s.checkpoint.every > 0 && s.checkpoint.dir.empty())
    return Bad("checkpoint.dir", "required when checkpoint.every > 0");
  if (s.checkpoint.max_recoveries < 0 || s.checkpoint.max_recoveries > 1000)
    return Bad("checkpoint.max_recoveries", "must be in 0..1000");
  return ValidateSizes(s);
}

void EmitOptimizer(YAML::Emitter& e, const char* key, const OptimizerConfig& o) {
  e << YAML::Key << key << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "kind" << YAML::Value << std::string(OptimizerName(o.kind));
  e << YAML::Key << "lr" << YAML::Value << o.lr << YAML::Key << "eps" << YAML::Value << o.eps;
  e << YAML::Key << "beta1" << YAML::Value << o.beta1 << YAML::Key << "beta2" << YAML::Value << o.beta2;
  e << YAML::Key << "initial_accumulator" << YAML::Value << o.initial_accumulator << YAML::EndMap;
}

}  // namespace

std::string EffectiveInteraction(const ModelSpec& m) {
  if (!m.interaction.empty()) return m.interaction;
  return m.preset == "dlrmv2" ? "dcn" : "dot";
}

int EditDistance(const std::string& a, const std::string& b) {
  std::vector<int> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

absl::StatusOr<JobSpec> ParseJobSpec(const std::string& yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string("job spec is not valid YAML: ") + e.what());
  }
  JobSpec s;
  try {
    auto st =
        MapReader(root, "")
            .On("name", Str(&s.name))
            .On("seed", U64(&s.seed))
            .On("model", [&](const YAML::Node& n, const std::string& p) {
              return MapReader(n, p)
                  .On("preset", Str(&s.model.preset))
                  .On("dim", Int(&s.model.dim))
                  .On("bottom", List(&s.model.bottom, "integers"))
                  .On("top", List(&s.model.top, "integers"))
                  .On("self_interaction", Bool(&s.model.self_interaction))
                  .On("interaction", Str(&s.model.interaction))
                  .On("cross_layers", Int(&s.model.cross_layers))
                  .On("cross_rank", Int(&s.model.cross_rank))
                  .Run();
            })
            .On("data", [&](const YAML::Node& n, const std::string& p) {
              return MapReader(n, p)
                  .On("train", Str(&s.data.train))
                  .On("eval", Str(&s.data.eval))
                  .On("max_rows", U64(&s.data.max_rows))
                  .On("schema", Str(&s.data.schema))
                  .On("num_dense", Int(&s.data.num_dense))
                  .On("num_sparse", Int(&s.data.num_sparse))
                  .On("mean_pooled", List(&s.data.mean_pooled, "integers"))
                  .Run();
            })
            .On("training", [&](const YAML::Node& n, const std::string& p) {
              auto& t = s.training;
              return MapReader(n, p)
                  .On("batch_size", Int64(&t.batch_size))
                  .On("iterations", Int64(&t.iterations))
                  .On("epochs", Double(&t.epochs))
                  .On("dense_optimizer", Optimizer(&t.dense_optimizer))
                  .On("embedding_optimizer", Optimizer(&t.embedding_optimizer))
                  .On("eval_every", Int64(&t.eval_every))
                  .On("eval_samples", Int64(&t.eval_samples))
                  .On("backend", Str(&t.backend))
                  .On("tf32", Bool(&t.tf32))
                  .On("threads", Int(&t.threads))
                  .Run();
            })
            .On("cache", [&](const YAML::Node& n, const std::string& p) {
              auto& c = s.cache;
              return MapReader(n, p)
                  .On("policy", Str(&c.policy))
                  .On("capacity", Int64(&c.capacity))
                  .On("lookahead", Int(&c.lookahead))
                  .On("prefetch_distance", Int(&c.prefetch_distance))
                  .On("plans_in_flight", Int(&c.plans_in_flight))
                  .Run();
            })
            .On("cluster", [&](const YAML::Node& n, const std::string& p) {
              return MapReader(n, p)
                  .On("workers", Int(&s.cluster.workers))
                  .On("shards", List(&s.cluster.shards, "host:port strings"))
                  .Run();
            })
            .On("checkpoint", [&](const YAML::Node& n, const std::string& p) {
              return MapReader(n, p)
                  .On("every", Int64(&s.checkpoint.every))
                  .On("dir", Str(&s.checkpoint.dir))
                  .On("max_recoveries", Int(&s.checkpoint.max_recoveries))
                  .Run();
            })
            .Run();
    if (!st.ok()) return st;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string("job spec: ") + e.what());
  }
  auto v = Validate(s);
  if (!v.ok()) return v;
  return s;
}

absl::StatusOr<JobSpec> LoadJobSpec(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError("cannot read job spec " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto spec = ParseJobSpec(ss.str());
  if (!spec.ok()) return absl::InvalidArgumentError(path + ": " + std::string(spec.status().message()));
  return spec;
}

std::string CheckpointDir(const JobSpec& spec, const std::string& job_id, int64_t iteration) {
  return spec.checkpoint.dir + "/" + job_id + "/iter-" + std::to_string(iteration);
}

std::string ToYaml(const JobSpec& s) {
  YAML::Emitter e;
  e.SetFloatPrecision(9);
  e << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << s.name << YAML::Key << "seed" << YAML::Value << s.seed;
  e << YAML::Key << "model" << YAML::Value << YAML::BeginMap << YAML::Key << "preset" << YAML::Value
    << s.model.preset << YAML::Key << "dim" << YAML::Value << s.model.dim << YAML::Key << "bottom"
    << YAML::Value << YAML::Flow << s.model.bottom << YAML::Key << "top" << YAML::Value << YAML::Flow
    << s.model.top << YAML::Key << "self_interaction" << YAML::Value << s.model.self_interaction;
  // Only when set, so the canonical YAML of a job that does not use them is what it always was.
  if (!s.model.interaction.empty())
    e << YAML::Key << "interaction" << YAML::Value << s.model.interaction;
  if (s.model.cross_layers != 0)
    e << YAML::Key << "cross_layers" << YAML::Value << s.model.cross_layers;
  if (s.model.cross_rank != 0) e << YAML::Key << "cross_rank" << YAML::Value << s.model.cross_rank;
  e << YAML::EndMap;
  e << YAML::Key << "data" << YAML::Value << YAML::BeginMap << YAML::Key << "train" << YAML::Value
    << s.data.train << YAML::Key << "eval" << YAML::Value << s.data.eval << YAML::Key
    << "max_rows" << YAML::Value << s.data.max_rows << YAML::Key << "schema" << YAML::Value
    << s.data.schema << YAML::Key << "num_dense" << YAML::Value << s.data.num_dense << YAML::Key
    << "num_sparse" << YAML::Value << s.data.num_sparse << YAML::Key << "mean_pooled"
    << YAML::Value << YAML::Flow << s.data.mean_pooled << YAML::EndMap;
  const auto& t = s.training;
  e << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "batch_size" << YAML::Value << t.batch_size << YAML::Key << "iterations"
    << YAML::Value << t.iterations << YAML::Key << "epochs" << YAML::Value << t.epochs;
  EmitOptimizer(e, "dense_optimizer", t.dense_optimizer);
  EmitOptimizer(e, "embedding_optimizer", t.embedding_optimizer);
  e << YAML::Key << "eval_every" << YAML::Value << t.eval_every << YAML::Key << "eval_samples"
    << YAML::Value << t.eval_samples << YAML::Key << "backend" << YAML::Value << t.backend
    << YAML::Key << "tf32" << YAML::Value << t.tf32 << YAML::Key << "threads" << YAML::Value
    << t.threads << YAML::EndMap;
  const auto& c = s.cache;
  e << YAML::Key << "cache" << YAML::Value << YAML::BeginMap << YAML::Key << "policy" << YAML::Value
    << c.policy << YAML::Key << "capacity" << YAML::Value << c.capacity << YAML::Key << "lookahead"
    << YAML::Value << c.lookahead << YAML::Key << "prefetch_distance" << YAML::Value
    << c.prefetch_distance << YAML::Key << "plans_in_flight" << YAML::Value << c.plans_in_flight
    << YAML::EndMap;
  e << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap << YAML::Key << "workers"
    << YAML::Value << s.cluster.workers << YAML::Key << "shards" << YAML::Value << YAML::Flow
    << s.cluster.shards << YAML::EndMap;
  e << YAML::Key << "checkpoint" << YAML::Value << YAML::BeginMap << YAML::Key << "every"
    << YAML::Value << s.checkpoint.every << YAML::Key << "dir" << YAML::Value << s.checkpoint.dir
    << YAML::Key << "max_recoveries" << YAML::Value << s.checkpoint.max_recoveries
    << YAML::EndMap;
  e << YAML::EndMap;
  return e.c_str();
}

}  // namespace augur::job
