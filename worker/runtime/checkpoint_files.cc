#include "worker/runtime/checkpoint_files.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/status.h"

namespace augur::worker {
namespace {

constexpr char kMagic[8] = {'A', 'U', 'G', 'D', 'O', 'P', 'T', '1'};
// magic, kind, steps, |s1|, |s2|
constexpr size_t kHeaderBytes = sizeof(kMagic) + 1 + 8 + 8 + 8;

// Writes `bytes` to dir/name through dir/name.tmp and a rename.
absl::Status WriteFileAtomically(const std::string& dir, const std::string& name,
                                 const std::string& bytes) {
  const std::string path = dir + "/" + name, tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return absl::InternalError("cannot write checkpoint file " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError("cannot rename " + tmp + ": " + ec.message());
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("checkpoint file " + path + " is missing");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError("cannot read checkpoint file " + path);
  return bytes;
}

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(v));
}
template <typename T>
T Get(const std::string& in, size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof(v));
  return v;
}
void PutFloats(std::string& out, const std::vector<float>& v) {
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

}  // namespace

absl::Status WriteDenseCheckpoint(const std::string& dir, const DenseCheckpoint& ckpt,
                                  OptimizerKind kind) {
  std::string dense;
  PutFloats(dense, ckpt.weights);
  AUGUR_RETURN_IF_ERROR(WriteFileAtomically(dir, "dense.f32", dense));
  std::string opt(kMagic, sizeof(kMagic));
  Put<uint8_t>(opt, static_cast<uint8_t>(kind));
  Put<int64_t>(opt, ckpt.optimizer.steps);
  Put<uint64_t>(opt, ckpt.optimizer.s1.size());
  Put<uint64_t>(opt, ckpt.optimizer.s2.size());
  PutFloats(opt, ckpt.optimizer.s1);
  PutFloats(opt, ckpt.optimizer.s2);
  return WriteFileAtomically(dir, "dense_optimizer.bin", opt);
}

absl::StatusOr<DenseCheckpoint> ReadDenseCheckpoint(const std::string& dir, int64_t weights,
                                                    OptimizerKind kind) {
  DenseCheckpoint c;
  const std::string dense_path = dir + "/dense.f32";
  AUGUR_ASSIGN_OR_RETURN(std::string dense, ReadFile(dense_path));
  if (dense.size() != static_cast<size_t>(weights) * sizeof(float))
    return absl::DataLossError(dense_path + " holds " + std::to_string(dense.size()) +
                               " bytes, the model's " + std::to_string(weights) +
                               " dense weights take " + std::to_string(weights * 4));
  c.weights.resize(static_cast<size_t>(weights));
  std::memcpy(c.weights.data(), dense.data(), dense.size());

  const std::string opt_path = dir + "/dense_optimizer.bin";
  AUGUR_ASSIGN_OR_RETURN(std::string opt, ReadFile(opt_path));
  if (opt.size() < kHeaderBytes || std::memcmp(opt.data(), kMagic, sizeof(kMagic)) != 0)
    return absl::DataLossError(opt_path + " is not a dense optimizer state file");
  size_t at = sizeof(kMagic);
  const auto got_kind = static_cast<OptimizerKind>(Get<uint8_t>(opt, at));
  at += 1;
  c.optimizer.steps = Get<int64_t>(opt, at);
  at += 8;
  const uint64_t n1 = Get<uint64_t>(opt, at), n2 = Get<uint64_t>(opt, at + 8);
  at += 16;
  if (got_kind != kind)
    return absl::DataLossError(opt_path + " holds " + std::string(OptimizerName(got_kind)) +
                               " state, the job's dense optimizer is " +
                               std::string(OptimizerName(kind)));
  const uint64_t limit = static_cast<uint64_t>(weights);
  if (n1 > limit || n2 > limit || opt.size() != kHeaderBytes + (n1 + n2) * sizeof(float))
    return absl::DataLossError(opt_path + " has the wrong size for " + std::to_string(n1) +
                               " + " + std::to_string(n2) + " floats");
  c.optimizer.s1.resize(n1);
  c.optimizer.s2.resize(n2);
  std::memcpy(c.optimizer.s1.data(), opt.data() + at, n1 * sizeof(float));
  std::memcpy(c.optimizer.s2.data(), opt.data() + at + n1 * sizeof(float), n2 * sizeof(float));
  auto fits = model::CheckDenseOptimizerState(c.optimizer, kind, weights);
  if (!fits.ok()) return absl::DataLossError(opt_path + ": " + std::string(fits.message()));
  return c;
}

}  // namespace augur::worker
