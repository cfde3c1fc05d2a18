#include "server/store_files.h"

#include <filesystem>
#include <memory>
#include <vector>

#include "common/status.h"

namespace augur::shard {

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = what + ": " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsNotSupported()) return absl::UnimplementedError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsIOError())
    return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

static std::vector<std::string> Files(rocksdb::Env* env, const std::string& dir) {
  std::vector<std::string> children, files;
  if (!env->GetChildren(dir, &children).ok()) return files;
  for (auto& c : children)
    if (c != "." && c != "..") files.push_back(c);
  return files;
}

absl::Status CopyFlatDir(rocksdb::Env* src, const std::string& from, rocksdb::Env* dst,
                         const std::string& to) {
  AUGUR_RETURN_IF_ERROR(FromRocks(dst->CreateDirIfMissing(to), "create " + to));
  rocksdb::EnvOptions eo;
  std::string buf(1 << 20, '\0');
  for (const auto& name : Files(src, from)) {
    std::unique_ptr<rocksdb::SequentialFile> in;
    std::unique_ptr<rocksdb::WritableFile> out;
    AUGUR_RETURN_IF_ERROR(FromRocks(src->NewSequentialFile(from + "/" + name, &in, eo), "open"));
    AUGUR_RETURN_IF_ERROR(FromRocks(dst->NewWritableFile(to + "/" + name, &out, eo), "create"));
    for (;;) {
      rocksdb::Slice chunk;
      AUGUR_RETURN_IF_ERROR(FromRocks(in->Read(buf.size(), &chunk, buf.data()), "read " + name));
      if (chunk.empty()) break;
      AUGUR_RETURN_IF_ERROR(FromRocks(out->Append(chunk), "write " + name));
    }
    AUGUR_RETURN_IF_ERROR(FromRocks(out->Sync(), "sync " + name));
    AUGUR_RETURN_IF_ERROR(FromRocks(out->Close(), "close " + name));
  }
  return absl::OkStatus();
}

void RemoveFlatDir(rocksdb::Env* env, const std::string& dir) {
  for (const auto& name : Files(env, dir)) env->DeleteFile(dir + "/" + name).PermitUncheckedError();
  env->DeleteDir(dir).PermitUncheckedError();
}

bool HasSubdirectory(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_directory(ec) || e.is_symlink(ec)) return true;
  return static_cast<bool>(ec);
}

bool IsCheckpointDir(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir, ec) &&
         std::filesystem::is_regular_file(dir + "/CURRENT", ec) && !HasSubdirectory(dir);
}

absl::Status SeedFromCheckpoint(const std::string& ckpt, rocksdb::Env* env,
                                const std::string& path) {
  rocksdb::Env* disk = rocksdb::Env::Default();
  if (!disk->FileExists(ckpt + "/CURRENT").ok())
    return absl::NotFoundError("checkpoint " + ckpt + " does not exist or is not a checkpoint");
  if (!Files(env, path).empty())
    return absl::FailedPreconditionError("cannot start from checkpoint " + ckpt + ": data dir " +
                                         path + " is not empty");
  return CopyFlatDir(disk, ckpt, env, path);
}

}  // namespace augur::shard
