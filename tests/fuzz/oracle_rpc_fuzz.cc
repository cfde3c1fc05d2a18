// libFuzzer target: the oracle's RPC handlers (OracleServiceImpl, called directly with the
// decoded request, as gRPC would) over a real JobHost. One input is a short sequence of requests
// whose every field is filled from the fuzzer's bytes through protobuf reflection: strings come
// from the ids, tokens and names the oracle handed out earlier (so reports and model uploads
// reach registered workers of live jobs) or are arbitrary; numbers are small or extreme.
// Submitted specs are parsed and pointed at a tiny generated dataset (a fuzzer-chosen path could
// name any file on the machine), and the job's shard is a closed port, so jobs start, plan and
// fail on their own thread while requests arrive. StreamPlan and StoreGet need a live call
// context and are left out. A handler may refuse anything; nothing may crash, hang or leak.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fuzzer/FuzzedDataProvider.h>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "common/data/synthetic.h"
#include "common/job/job_spec.h"
#include "oracle_cacher/job_host.h"
#include "oracle_cacher/oracle_service.h"
#include "oracle_cacher/shard_tables.h"
#include "proto/oracle.grpc.pb.h"

namespace {

namespace fs = std::filesystem;
namespace v1 = augur::oracle::v1;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

struct World {
  std::string dataset, work_dir;
  std::unique_ptr<augur::oracle::JobHost> host;
  std::unique_ptr<augur::oracle::OracleServiceImpl> service;
  std::vector<std::string> strings = {"job-1", "job-2", "job-3", "", "worker", "k"};
  int inputs = 0;

  World() {
    const fs::path base = fs::temp_directory_path() / ("augur-oracle-fuzz-" + std::to_string(getpid()));
    fs::remove_all(base);
    dataset = (base / "data").string();
    work_dir = (base / "work").string();
    fs::create_directories(work_dir);
    augur::data::SyntheticOptions g;
    g.samples = 256;
    g.seed = 5;
    g.threads = 1;
    if (!augur::data::GenerateDataset(g, dataset).ok()) __builtin_trap();
    Reset();
  }
  void Reset() {
    service.reset();
    host.reset();
    augur::oracle::JobRunnerOptions o;
    o.worker_timeout = absl::Seconds(2);
    host = std::make_unique<augur::oracle::JobHost>(augur::oracle::NewShardTables({}), o,
                                                    std::vector<std::string>{"127.0.0.1:1"},
                                                    work_dir);
    // Unpaced: status reads would otherwise wait their turn (500/s) and slow the fuzzer.
    service = std::make_unique<augur::oracle::OracleServiceImpl>(host.get(), 0);
    strings.resize(6);
  }
};

std::string AnyString(FuzzedDataProvider& in, const World& w) {
  if (in.ConsumeBool()) return w.strings[in.ConsumeIntegralInRange<size_t>(0, w.strings.size() - 1)];
  return in.ConsumeRandomLengthString(in.ConsumeBool() ? 64 : 8192);
}

// Fills every field of `m` from the input (nested messages two levels deep).
void Fill(FuzzedDataProvider& in, const World& w, Message* m, int depth) {
  const auto* d = m->GetDescriptor();
  const auto* r = m->GetReflection();
  for (int i = 0; i < d->field_count() && in.remaining_bytes() > 0; ++i) {
    const FieldDescriptor* f = d->field(i);
    if (!in.ConsumeBool()) continue;
    const int n = f->is_repeated() ? in.ConsumeIntegralInRange<int>(0, 3) : 1;
    for (int k = 0; k < n; ++k) {
      const bool small = in.ConsumeBool();
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32: {
          int32_t v = small ? in.ConsumeIntegralInRange<int32_t>(-2, 4) : in.ConsumeIntegral<int32_t>();
          f->is_repeated() ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_INT64: {
          int64_t v = small ? in.ConsumeIntegralInRange<int64_t>(-2, 64) : in.ConsumeIntegral<int64_t>();
          f->is_repeated() ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT32: {
          uint32_t v = small ? in.ConsumeIntegralInRange<uint32_t>(0, 4) : in.ConsumeIntegral<uint32_t>();
          f->is_repeated() ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT64: {
          uint64_t v = small ? in.ConsumeIntegralInRange<uint64_t>(0, 64) : in.ConsumeIntegral<uint64_t>();
          f->is_repeated() ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_DOUBLE: {
          double v = small ? in.ConsumeFloatingPointInRange<double>(0, 10) : in.ConsumeFloatingPoint<double>();
          if (!small && in.ConsumeBool()) v = in.ConsumeBool() ? NAN : INFINITY;
          f->is_repeated() ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_FLOAT: {
          float v = in.ConsumeFloatingPoint<float>();
          f->is_repeated() ? r->AddFloat(m, f, v) : r->SetFloat(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL: {
          bool v = in.ConsumeBool();
          f->is_repeated() ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string v = AnyString(in, w);
          f->is_repeated() ? r->AddString(m, f, v) : r->SetString(m, f, v);
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 2) Fill(in, w, f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f), depth + 1);
          break;
        default:
          break;
      }
    }
  }
}

void Remember(World& w, const std::string& s) {
  if (!s.empty() && w.strings.size() < 64) w.strings.push_back(s);
}

void RunOne(FuzzedDataProvider& in, World& w) {
  auto& svc = *w.service;
  switch (in.ConsumeIntegralInRange<int>(0, 11)) {
    case 0: {  // a job spec: the fuzzer's numbers on a real spec, or its own text
      v1::SubmitJobRequest req;
      std::string yaml = in.ConsumeBool()
          ? "name: fuzz\ntraining: {batch_size: " + std::to_string(in.ConsumeIntegralInRange<int>(0, 70)) +
                ", iterations: " + std::to_string(in.ConsumeIntegralInRange<int>(0, 9)) +
                "}\ncache: {capacity: " + std::to_string(in.ConsumeIntegralInRange<int>(0, 5000)) +
                ", lookahead: 4, prefetch_distance: 1}\ncluster: {workers: " +
                std::to_string(in.ConsumeIntegralInRange<int>(0, 3)) + "}\n"
          : in.ConsumeRandomLengthString(2048);
      auto spec = augur::job::ParseJobSpec(yaml);
      if (spec.ok()) {  // never read a file the fuzzer named
        spec->data.train = w.dataset;
        spec->data.eval = "";
        spec->checkpoint = {};
        yaml = augur::job::ToYaml(*spec);
      }
      req.set_job_yaml(yaml);
      v1::SubmitJobResponse resp;
      if (svc.SubmitJob(nullptr, &req, &resp).ok()) Remember(w, resp.job_id());
      break;
    }
    case 1: { v1::CancelJobRequest q; Fill(in, w, &q, 0); v1::CancelJobResponse p; (void)svc.CancelJob(nullptr, &q, &p); break; }
    case 2: { v1::DeleteJobRequest q; Fill(in, w, &q, 0); v1::DeleteJobResponse p; (void)svc.DeleteJob(nullptr, &q, &p); break; }
    case 3: { v1::ListJobsRequest q; v1::ListJobsResponse p; (void)svc.ListJobs(nullptr, &q, &p); break; }
    case 4: { v1::JobEventsRequest q; Fill(in, w, &q, 0); v1::JobEventsResponse p; (void)svc.JobEvents(nullptr, &q, &p); break; }
    case 5: { v1::PutModelRequest q; Fill(in, w, &q, 0); v1::PutModelResponse p; (void)svc.PutModel(nullptr, &q, &p); break; }
    case 6: { v1::GetModelRequest q; Fill(in, w, &q, 0); v1::GetModelResponse p; (void)svc.GetModel(nullptr, &q, &p); break; }
    case 7: {
      v1::RegisterWorkerRequest q;
      Fill(in, w, &q, 0);
      v1::RegisterWorkerResponse p;
      if (svc.RegisterWorker(nullptr, &q, &p).ok()) Remember(w, p.worker_token());
      break;
    }
    case 8: { v1::ProgressReport q; Fill(in, w, &q, 0); v1::ProgressAck p; (void)svc.ReportProgress(nullptr, &q, &p); break; }
    case 9: { v1::JobStatusRequest q; Fill(in, w, &q, 0); v1::JobStatusResponse p; (void)svc.JobStatus(nullptr, &q, &p); break; }
    case 10: { v1::StoreSetRequest q; Fill(in, w, &q, 0); v1::StoreSetResponse p; (void)svc.StoreSet(nullptr, &q, &p); break; }
    case 11: { v1::ResumeJobRequest q; Fill(in, w, &q, 0); v1::ResumeJobResponse p; (void)svc.ResumeJob(nullptr, &q, &p); break; }
    default: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = new World;  // never destroyed at exit: its threads may outlive statics
  if (++w->inputs % 500 == 0) w->Reset();
  FuzzedDataProvider in(data, size);
  for (int op = 0; op < 8 && in.remaining_bytes() > 0; ++op) RunOne(in, *w);
  return 0;
}
