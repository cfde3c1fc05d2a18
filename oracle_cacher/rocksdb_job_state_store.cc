// JobStateStore on an embedded RocksDB, records as JSON. rocksdb::Status is converted here and
// nowhere else in oracle_cacher/.
#include "oracle_cacher/rocksdb_job_state_store.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/status.h"

namespace augur::oracle {
namespace {

using json = nlohmann::json;
constexpr char kNextSeqKey[] = "next_seq";

std::string SeqKey(const char* prefix, int64_t seq) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%s%020lld", prefix, static_cast<long long>(seq));
  return buf;
}

absl::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = "oracle state: " + what + ": " + s.ToString();
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

// JSON has no NaN or inf: a diverged job's loss is stored as null and read back as NaN.
json Num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
double NumOf(const json& j) {
  return j.is_null() ? std::numeric_limits<double>::quiet_NaN() : j.get<double>();
}

JobState StateOf(const std::string& name) {
  for (JobState s : {JobState::kPending, JobState::kRunning, JobState::kSucceeded,
                     JobState::kFailed, JobState::kCancelled})
    if (name == JobStateName(s)) return s;
  throw std::runtime_error("unknown job state " + name);
}

json StatusJson(const JobStatus& s) {
  json j = {{"job_id", s.job_id}, {"name", s.name}, {"state", JobStateName(s.state)},
            {"reason", s.reason}, {"iteration", s.iteration}, {"iterations", s.iterations},
            {"loss", Num(s.loss)}, {"samples_per_s", Num(s.samples_per_s)},
            {"hit_ratio", Num(s.hit_ratio)}, {"stall_fraction", Num(s.stall_fraction)},
            {"planned_hit_ratio", Num(s.planned_hit_ratio)},
            {"workers_registered", s.workers_registered}, {"workers", s.workers},
            {"elapsed_s", Num(s.elapsed_s)}, {"rows_fetched", s.rows_fetched},
            {"bytes_fetched", s.bytes_fetched}, {"checkpoints", s.checkpoints}, {"recoveries", s.recoveries}, {"last_recovery", s.last_recovery}};
  if (s.eval_auc) j["eval_auc"] = Num(*s.eval_auc);
  if (s.eval_logloss) j["eval_logloss"] = Num(*s.eval_logloss);
  return j;
}

JobStatus StatusOf(const json& j) {
  JobStatus s;
  s.job_id = j.at("job_id").get<std::string>();
  s.name = j.at("name").get<std::string>();
  s.state = StateOf(j.at("state").get<std::string>());
  s.reason = j.at("reason").get<std::string>();
  s.iteration = j.at("iteration").get<int64_t>();
  s.iterations = j.at("iterations").get<int64_t>();
  s.loss = NumOf(j.at("loss"));
  s.samples_per_s = NumOf(j.at("samples_per_s"));
  s.hit_ratio = NumOf(j.at("hit_ratio"));
  s.stall_fraction = NumOf(j.at("stall_fraction"));
  s.planned_hit_ratio = NumOf(j.at("planned_hit_ratio"));
  if (j.contains("eval_auc")) s.eval_auc = NumOf(j.at("eval_auc"));
  if (j.contains("eval_logloss")) s.eval_logloss = NumOf(j.at("eval_logloss"));
  s.workers_registered = j.at("workers_registered").get<int>();
  s.workers = j.at("workers").get<int>();
  s.elapsed_s = NumOf(j.at("elapsed_s"));
  s.rows_fetched = j.at("rows_fetched").get<int64_t>();
  s.bytes_fetched = j.at("bytes_fetched").get<int64_t>();
  s.checkpoints = j.at("checkpoints").get<std::vector<int64_t>>();
  s.recoveries = j.value("recoveries", int64_t{0});
  s.last_recovery = j.value("last_recovery", std::string());
  return s;
}

class RocksJobStateStore final : public JobStateStore {
 public:
  explicit RocksJobStateStore(std::unique_ptr<rocksdb::DB> db) : db_(std::move(db)) {}

  absl::StatusOr<StoredJobs> Load() override {
    StoredJobs out;
    std::string next;
    auto s = db_->Get(rocksdb::ReadOptions(), kNextSeqKey, &next);
    if (!s.IsNotFound()) {
      AUGUR_RETURN_IF_ERROR(FromRocks(s, "read next_seq"));
      out.next_seq = std::strtoll(next.c_str(), nullptr, 10);
      if (out.next_seq < 1) return absl::DataLossError("oracle state: corrupt next_seq");
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("job/"); it->Valid() && it->key().starts_with("job/"); it->Next()) {
      AUGUR_ASSIGN_OR_RETURN(JobRecord r, DecodeJobRecord(it->value().ToStringView()));
      out.next_seq = std::max(out.next_seq, r.seq + 1);
      out.jobs.push_back(std::move(r));
    }
    for (it->Seek("model/"); it->Valid() && it->key().starts_with("model/"); it->Next()) {
      const int64_t seq = std::strtoll(it->key().ToString().c_str() + 6, nullptr, 10);
      std::string_view v = it->value().ToStringView();
      if (v.size() % sizeof(float) != 0)
        return absl::DataLossError("oracle state: model of job-" + std::to_string(seq) +
                                   " is " + std::to_string(v.size()) + " bytes");
      std::vector<float> dense(v.size() / sizeof(float));
      if (!dense.empty()) std::memcpy(dense.data(), v.data(), v.size());
      out.models.emplace_back(seq, std::move(dense));
    }
    AUGUR_RETURN_IF_ERROR(FromRocks(it->status(), "scan"));
    return out;
  }

  absl::Status Put(const JobRecord& record, int64_t next_seq) override {
    rocksdb::WriteBatch wb;
    wb.Put(SeqKey("job/", record.seq), EncodeJobRecord(record));
    wb.Put(kNextSeqKey, std::to_string(next_seq));
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &wb), "write " + record.id);
  }

  absl::Status PutModel(int64_t seq, const std::vector<float>& dense) override {
    rocksdb::Slice v(reinterpret_cast<const char*>(dense.data()), dense.size() * sizeof(float));
    return FromRocks(db_->Put(rocksdb::WriteOptions(), SeqKey("model/", seq), v),
                     "write model of job-" + std::to_string(seq));
  }

  absl::Status Delete(int64_t seq) override {
    rocksdb::WriteBatch wb;
    wb.Delete(SeqKey("job/", seq));
    wb.Delete(SeqKey("model/", seq));
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &wb),
                     "delete job-" + std::to_string(seq));
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace

std::string EncodeJobRecord(const JobRecord& r) {
  json j = {{"format", 1},           {"seq", r.seq},         {"id", r.id},
            {"spec_yaml", r.spec_yaml}, {"status", StatusJson(r.status)},
            {"finished", r.finished}, {"started", r.started},
            {"oracle_shards", r.oracle_shards}, {"events", r.events},
            {"resume_from", r.resume_from}, {"recoveries", r.recoveries},
            {"running", r.running}};
  return j.dump();
}

absl::StatusOr<JobRecord> DecodeJobRecord(std::string_view text) {
  try {
    json j = json::parse(text);
    if (j.at("format").get<int>() != 1) throw std::runtime_error("unknown format");
    JobRecord r;
    r.seq = j.at("seq").get<int64_t>();
    r.id = j.at("id").get<std::string>();
    r.spec_yaml = j.at("spec_yaml").get<std::string>();
    r.status = StatusOf(j.at("status"));
    r.finished = j.at("finished").get<bool>();
    r.started = j.at("started").get<bool>();
    r.oracle_shards = j.value("oracle_shards", false);
    r.events = j.at("events").get<std::vector<std::string>>();
    r.resume_from = j.value("resume_from", int64_t{0});
    r.recoveries = j.value("recoveries", int64_t{0});
    r.running = j.value("running", r.started && !r.finished &&
                                       r.status.state != JobState::kPending);
    if (r.resume_from < 0 || r.recoveries < 0) throw std::runtime_error("negative resume_from");
    return r;
  } catch (const std::exception& e) {
    return absl::DataLossError(std::string("oracle state: a job record does not decode: ") +
                               e.what());
  }
}

absl::StatusOr<std::unique_ptr<JobStateStore>> OpenRocksJobStateStore(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--state-dir: empty");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError("cannot create state dir " + dir + ": " + ec.message());
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_background_jobs = 1;
  o.write_buffer_size = 4 << 20;  // a few KB per job; the default 64 MB would only sit idle
  o.keep_log_file_num = 4;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    std::string msg = s.ToString();
    if (msg.find("lock") != std::string::npos || msg.find("LOCK") != std::string::npos)
      return absl::FailedPreconditionError("state dir " + dir +
                                           " is in use by another oracle: " + msg);
    return FromRocks(s, "open " + dir);
  }
  return std::unique_ptr<JobStateStore>(
      std::make_unique<RocksJobStateStore>(std::unique_ptr<rocksdb::DB>(raw)));
}

}  // namespace augur::oracle
