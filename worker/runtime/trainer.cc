#include "worker/runtime/trainer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/metrics.h"
#include "common/status.h"
#include "worker/runtime/checkpoint_files.h"
#include "worker/runtime/slot_cache.h"

namespace augur::worker {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Versions ride in float all-reduce buffers as two exact 24-bit halves.
void PackVersion(int64_t v, float* out) {
  out[0] = static_cast<float>(v & 0xFFFFFF);
  out[1] = static_cast<float>(v >> 24);
}
int64_t UnpackVersion(const float* in) {
  return static_cast<int64_t>(in[0]) + (static_cast<int64_t>(in[1]) << 24);
}

class Loop {
 public:
  explicit Loop(const TrainerDeps& d)
      : d_(d),
        w_(d.assignment.worker_index),
        W_(d.spec.cluster.workers),
        B_(d.spec.training.batch_size),
        dim_(d.compute->config().dim),
        none_(d.spec.cache.policy == "none"),
        dense_path_(ChooseDenseReducePath(d.collective->buffer_kind(),
                                          d.compute->dense_gradients_on_device(), W_)),
        cache_(d.shards, d.compute),
        slice_(B_) {
    if (d.metrics) {
      MetricLabels l{{"worker", std::to_string(w_)}};
      for (int t = 0; t < d.compute->config().num_sparse; ++t) {
        MetricLabels lt{{"worker", std::to_string(w_)},
                        {"table", d.train->manifest().sparse[t].name}};
        hits_c_.push_back(d.metrics->GetCounter("augur_worker_cache_hits_total",
                                                "Rows a step found in the cache", lt));
        miss_c_.push_back(d.metrics->GetCounter(
            "augur_worker_cache_misses_total", "Rows a step needed fetched or handed over", lt));
      }
      stall_c_ = d.metrics->GetCounter("augur_worker_stall_seconds_total",
                                       "Time the trainer waited for rows or write-backs", l);
      samples_c_ = d.metrics->GetCounter("augur_worker_samples_total", "Samples trained", l);
      iter_h_ = d.metrics->GetHistogram("augur_worker_iteration_seconds", "Time per iteration", l);
      if (w_ == 0)
        ckpt_h_ = d.metrics->GetHistogram(
            "augur_job_checkpoint_seconds",
            "Time training pauses for a checkpoint on worker 0: every worker's flush of its "
            "cached rows, the dense weights and optimizer state, the shards' RocksDB checkpoints",
            l);
      loss_g_ = d.metrics->GetGauge("augur_worker_loss", "Mean training loss of the last step", l);
      for (int st = 0; st < kNumStages; ++st)
        stage_c_[st] = d.metrics->GetCounter(
            "augur_worker_step_seconds_total",
            "Time of the training steps by stage: fill_wait (rows not yet arrived), batch, "
            "compute (forward and backward), reduce_update (all-reduce and optimizer), "
            "evict (write-backs issued, transfers), writeback_wait, push_wait",
            {{"worker", std::to_string(w_)}, {"stage", kStageNames[st]}});
    }
  }

  absl::Status Run();

 private:
  absl::Status Step(int64_t i, const plan::WorkerIterationPlan& plan, bool* stop);
  absl::Status BuildMinibatch(int64_t i, model::Minibatch* mb);
  // `kept`: the row gradients stayed in the backend (emb holds only their slots). `loss`: this
  // worker's loss sum of the step. INTERNAL, before any update, when the step diverged.
  absl::Status ReduceAndUpdate(const plan::WorkerIterationPlan& plan,
                               const model::EmbeddingGradients& emb, bool kept, int64_t i,
                               double loss, bool* stop);
  absl::Status PushGradients(const model::EmbeddingGradients& emb, int64_t i);
  absl::Status Transfers(const plan::WorkerIterationPlan& plan, int64_t i);
  absl::Status Report(bool force, bool done, const std::string& error);
  absl::Status Finish(int64_t completed, bool cancelled);
  // Puts every cached row on the shards (unless `flushed`), then worker 0 scores the held-out
  // set.
  absl::Status EvaluateNow(int64_t completed, bool flushed = false);
  absl::Status FlushToShards(int64_t completed);
  absl::Status CheckpointNow(int64_t completed);
  // A resumed job: worker 0 reads the dense weights and optimizer state of the checkpoint at
  // `iteration` and every worker takes them (one all-reduce, the others adding -0.0).
  absl::Status LoadCheckpoint(int64_t iteration);
  std::unique_ptr<model::DenseCompute> eval_model_;
  absl::Status WaitPushes(int64_t through);

  const TrainerDeps& d_;
  const int w_, W_;
  const int64_t B_;
  const int dim_;
  const bool none_;
  const DenseReducePath dense_path_;
  SlotCache cache_;
  data::Slice slice_;
  std::vector<model::SlotIndex> slots_;
  std::vector<float> reduce_;
  // Fills + transfers-in per table, by the iteration needing them.
  std::map<int64_t, std::vector<int64_t>> misses_at_;
  std::vector<int64_t>& MissesAt(int64_t i) {
    auto& v = misses_at_[i];
    v.resize(d_.compute->config().num_sparse);
    return v;
  }
  std::deque<std::pair<int64_t, std::future<absl::StatusOr<bool>>>> pushes_;
  std::string cancel_reason_;
  // (loss sum, samples) of the last kLossWindowIterations steps, for the reported loss.
  std::deque<std::pair<double, int64_t>> window_;
  // Progress since the last report.
  ProgressUpdate pending_;
  int64_t completed_ = 0;
  Clock::time_point last_report_ = Clock::now();
  Counter *stall_c_ = nullptr, *samples_c_ = nullptr;
  // Where a step's time goes (augur_worker_step_seconds_total{stage}).
  enum Stage { kFillWait, kBatch, kCompute, kReduceUpdate, kEvict, kWritebackWait, kPushWait,
               kNumStages };
  static constexpr const char* kStageNames[kNumStages] = {
      "fill_wait", "batch", "compute", "reduce_update", "evict", "writeback_wait", "push_wait"};
  Counter* stage_c_[kNumStages] = {};
  // Adds the time since `*mark` to `stage` and moves the mark to now.
  void Lap(Stage stage, Clock::time_point* mark) {
    auto now = Clock::now();
    if (stage_c_[stage])
      stage_c_[stage]->Increment(std::chrono::duration<double>(now - *mark).count());
    *mark = now;
  }
  std::vector<Counter*> hits_c_, miss_c_;  // per table
  Histogram* iter_h_ = nullptr;
  Histogram* ckpt_h_ = nullptr;  // worker 0: augur_job_checkpoint_seconds
  Gauge* loss_g_ = nullptr;
};

absl::Status Loop::BuildMinibatch(int64_t i, model::Minibatch* mb) {
  data::BatchShape shape{B_, W_};
  int64_t batch = i % d_.train->num_batches(shape);
  AUGUR_RETURN_IF_ERROR(d_.train->FillSlice(batch, w_, shape, &slice_));
  const int F = d_.compute->config().num_sparse;
  if (slice_.num_sparse != F || static_cast<int64_t>(slice_.dense.size()) !=
                                    B_ * d_.compute->config().num_dense)
    return absl::FailedPreconditionError("the dataset's features do not match the model's");
  slots_.resize(slice_.sparse.size());
  for (int f = 0; f < F; ++f) {
    const int64_t begin = slice_.offsets[f * (B_ + 1)], end = slice_.offsets[f * (B_ + 1) + B_];
    for (int64_t j = begin; j < end; ++j) {
      AUGUR_ASSIGN_OR_RETURN(slots_[j], cache_.SlotOf(plan::MakeKey(f, slice_.sparse[j])));
    }
  }
  mb->batch_size = static_cast<int>(B_);
  mb->global_batch_size = B_ * W_;
  mb->dense = slice_.dense;
  mb->labels = slice_.labels;
  mb->offsets = slice_.offsets;
  mb->slots = slots_;
  return absl::OkStatus();
}

// Host path (DenseReducePath::kHost): one all-reduce of [dense gradients | shared rows' gradients
// | stop | diverged]. Device path: the dense gradients all-reduced in place on the device, then
// [shared rows' gradients | stop | diverged] through the host. Every holder of a touched row then
// applies the same update, so replicas stay bit-identical.
absl::Status Loop::ReduceAndUpdate(const plan::WorkerIterationPlan& plan,
                                   const model::EmbeddingGradients& emb, bool kept, int64_t i,
                                   double loss, bool* stop) {
  // The dense gradients may live in device memory (cuda backend): copy, never dereference.
  const bool on_device = dense_path_ == DenseReducePath::kDevice;
  const size_t nd = d_.compute->dense_gradients().size(), ns = none_ ? 0 : plan.shared.size();
  const size_t rows_at = on_device ? 0 : nd;  // where the shared rows start in reduce_
  absl::flat_hash_map<model::SlotIndex, size_t> local;  // slot -> row in emb.grads
  if (ns > 0) {  // only shared rows are looked up; kept gradients have no rows here at all
    for (size_t r = 0; r < emb.slots.size(); ++r) local[emb.slots[r]] = r;
  }
  reduce_.assign(rows_at + ns * dim_ + 2, -0.0f);
  if (!on_device)
    AUGUR_RETURN_IF_ERROR(d_.compute->ReadDenseGradients(absl::MakeSpan(reduce_.data(), nd)));
  for (size_t s = 0; s < ns; ++s) {
    if (!cache_.Holds(plan.shared[s])) continue;
    auto it = local.find(*cache_.SlotOf(plan.shared[s]));
    if (it != local.end())
      std::copy_n(emb.grads.begin() + it->second * dim_, dim_,
                  reduce_.begin() + rows_at + s * dim_);
  }
  // Two flags ride along: stop (a cancel reached some worker) and diverged (some worker's loss
  // or row gradients are not finite). Every worker sees the same sums, so all stop together.
  bool local_bad = !std::isfinite(loss);
  for (size_t k = 0; k < emb.grads.size() && !local_bad; ++k) local_bad = !std::isfinite(emb.grads[k]);
  reduce_[reduce_.size() - 2] = cancel_reason_.empty() ? -0.0f : 1.0f;
  reduce_.back() = local_bad ? 1.0f : -0.0f;
  if (W_ > 1 && on_device) {
    absl::Span<float> dense = d_.compute->dense_gradients();
    AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceSum(dense.data(), dense.size()));
  }
  if (W_ > 1)
    AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceHostSum(reduce_.data(), reduce_.size()));
  *stop = reduce_[reduce_.size() - 2] > 0.0f;
  // Divergence ends the job here, before any dense weight, slot or shard row takes the update.
  bool diverged = reduce_.back() != 0.0f;
  for (size_t k = 0; k + 2 < reduce_.size() && !diverged; ++k) diverged = !std::isfinite(reduce_[k]);
  if (!diverged && on_device) {  // the reduced dense gradients are equal on every rank
    AUGUR_ASSIGN_OR_RETURN(bool finite, d_.compute->DenseGradientsFinite());
    diverged = !finite;
  }
  if (diverged)
    return absl::InternalError("iteration " + std::to_string(i) +
                               ": the training loss or gradients are not finite (the job "
                               "diverged; this worker's loss: " + std::to_string(loss) +
                               "); no update of this step was applied");
  if (!on_device)
    AUGUR_RETURN_IF_ERROR(
        d_.compute->WriteDenseGradients(absl::MakeConstSpan(reduce_.data(), nd)));
  AUGUR_RETURN_IF_ERROR(d_.compute->ApplyDenseGradients());
  if (none_) return PushGradients(emb, i);
  if (kept) {
    AUGUR_RETURN_IF_ERROR(
        d_.compute->ApplyEmbeddingGradients(d_.spec.training.embedding_optimizer));
    for (auto s : emb.slots) cache_.set_version(s, i + 1);
    return absl::OkStatus();
  }

  std::vector<model::SlotIndex> slots;
  std::vector<float> grads;
  for (size_t s = 0; s < ns; ++s) {
    if (!cache_.Holds(plan.shared[s])) continue;
    slots.push_back(*cache_.SlotOf(plan.shared[s]));
    grads.insert(grads.end(), reduce_.begin() + rows_at + s * dim_,
                 reduce_.begin() + rows_at + (s + 1) * dim_);
  }
  for (size_t r = 0; r < emb.slots.size(); ++r) {
    plan::RowKey k = cache_.KeyOf(emb.slots[r]);
    if (std::binary_search(plan.shared.begin(), plan.shared.end(), k)) continue;
    slots.push_back(emb.slots[r]);
    grads.insert(grads.end(), emb.grads.begin() + r * dim_, emb.grads.begin() + (r + 1) * dim_);
  }
  AUGUR_RETURN_IF_ERROR(d_.compute->UpdateSlots(slots, grads, d_.spec.training.embedding_optimizer));
  for (auto s : slots) cache_.set_version(s, i + 1);
  return absl::OkStatus();
}

// The `none` policy: the shards apply the optimizer once every worker pushed.
absl::Status Loop::PushGradients(const model::EmbeddingGradients& emb, int64_t i) {
  std::vector<plan::RowKey> keys;
  for (auto s : emb.slots) keys.push_back(cache_.KeyOf(s));
  std::vector<std::vector<size_t>> index;
  auto blocks = BlocksByTable(keys, &index);
  for (size_t b = 0; b < blocks.size(); ++b)
    for (size_t r : index[b])
      blocks[b].values.insert(blocks[b].values.end(), emb.grads.begin() + r * dim_,
                              emb.grads.begin() + (r + 1) * dim_);
  pushes_.emplace_back(i, d_.shards->ApplyGradients(std::move(blocks), i, w_, W_));
  return absl::OkStatus();
}

absl::Status Loop::WaitPushes(int64_t through) {
  while (!pushes_.empty() && pushes_.front().first <= through) {
    auto t0 = Clock::now();
    auto r = pushes_.front().second.get();
    pending_.stall_seconds += Since(t0);
    pushes_.pop_front();
    if (!r.ok()) return ShardError(r.status(), "pushing gradients");
  }
  return absl::OkStatus();
}

// Rows handed from a holder to a worker that needs them next: the source contributes value,
// state and version, everyone else -0.0; receivers place them after the evictions. Each side
// moves its rows with one ReadSlots / WriteSlots (one gather or scatter and one wait on a
// device), not one call per row.
absl::Status Loop::Transfers(const plan::WorkerIterationPlan& plan, int64_t i) {
  const int rf = d_.compute->row_floats();
  const size_t per = rf + 2, n = plan.transfers.size();
  std::vector<float> buf(n * per, -0.0f);
  std::vector<size_t> mine;  // indices into plan.transfers this worker sends (or receives)
  std::vector<model::SlotIndex> slots;
  std::vector<float> rows;
  for (size_t t = 0; t < n; ++t) {
    if (plan.transfers[t].src_worker != w_) continue;
    mine.push_back(t);
    slots.push_back(static_cast<model::SlotIndex>(plan.transfers[t].src_slot));
  }
  rows.resize(slots.size() * rf);
  AUGUR_RETURN_IF_ERROR(d_.compute->ReadSlots(slots, absl::MakeSpan(rows)));
  for (size_t k = 0; k < mine.size(); ++k) {
    float* out = buf.data() + mine[k] * per;
    std::copy_n(rows.data() + k * rf, rf, out);
    PackVersion(cache_.version(slots[k]), out + rf);
  }
  if (W_ > 1) AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceHostSum(buf.data(), buf.size()));
  AUGUR_RETURN_IF_ERROR(cache_.Evict(plan.evictions, i));
  mine.clear();
  slots.clear();
  rows.clear();
  for (size_t t = 0; t < n; ++t) {
    if (plan.transfers[t].dst_worker != w_) continue;
    mine.push_back(t);
    slots.push_back(static_cast<model::SlotIndex>(plan.transfers[t].dst_slot));
    rows.insert(rows.end(), buf.begin() + t * per, buf.begin() + t * per + rf);
  }
  AUGUR_RETURN_IF_ERROR(d_.compute->WriteSlots(slots, rows));
  for (size_t k = 0; k < mine.size(); ++k) {
    const auto& x = plan.transfers[mine[k]];
    cache_.Insert(x.key, slots[k], UnpackVersion(buf.data() + mine[k] * per + rf));
    ++MissesAt(i + 1)[plan::KeyTable(x.key)];
  }
  return absl::OkStatus();
}

absl::Status Loop::Step(int64_t i, const plan::WorkerIterationPlan& plan, bool* stop) {
  auto t0 = Clock::now();
  cache_.IssueFills(plan.fills);
  for (const auto& f : plan.fills) ++MissesAt(f.need_at)[plan::KeyTable(f.key)];
  pending_.rows_fetched += static_cast<int64_t>(plan.fills.size());
  pending_.bytes_fetched +=
      static_cast<int64_t>(plan.fills.size()) * d_.compute->row_floats() * int64_t{sizeof(float)};
  auto mark = Clock::now();
  AUGUR_ASSIGN_OR_RETURN(double waited, cache_.ApplyFillsFor(i));
  Lap(kFillWait, &mark);
  model::Minibatch mb;
  AUGUR_RETURN_IF_ERROR(BuildMinibatch(i, &mb));
  Lap(kBatch, &mark);
  // A lone worker shares no row: its row gradients can stay in the backend (on a GPU they
  // never leave the device) and update the slots there, the same math as UpdateSlots.
  const bool keep = W_ == 1 && !none_ && plan.shared.empty();
  model::EmbeddingGradients emb;
  AUGUR_ASSIGN_OR_RETURN(double loss, d_.compute->ForwardBackward(mb, keep ? nullptr : &emb));
  if (keep) AUGUR_RETURN_IF_ERROR(d_.compute->KeptEmbeddingSlots(&emb.slots));
  Lap(kCompute, &mark);
  AUGUR_RETURN_IF_ERROR(ReduceAndUpdate(plan, emb, keep, i, loss, stop));
  Lap(kReduceUpdate, &mark);
  if (plan.transfers.empty()) {
    AUGUR_RETURN_IF_ERROR(cache_.Evict(plan.evictions, i));
  } else {
    AUGUR_RETURN_IF_ERROR(Transfers(plan, i));
  }
  Lap(kEvict, &mark);
  // Stay within the write-back horizon the planner relies on for rows it no longer tracks.
  int64_t horizon = d_.assignment.writeback_horizon;
  AUGUR_ASSIGN_OR_RETURN(double wb_wait, cache_.WaitWriteBacks(i + 1 - horizon));
  Lap(kWritebackWait, &mark);
  AUGUR_RETURN_IF_ERROR(WaitPushes(i + 1 - horizon));
  Lap(kPushWait, &mark);
  // Per table: every unique row this step read was either cached already or missed.
  std::vector<int64_t> misses = MissesAt(i), unique(misses.size(), 0);
  misses_at_.erase(i);
  for (auto s : emb.slots) ++unique[plan::KeyTable(cache_.KeyOf(s))];
  for (size_t t = 0; t < unique.size(); ++t) {
    int64_t miss = std::min(misses[t], unique[t]), hit = unique[t] - miss;
    pending_.cache_hits += hit;
    pending_.cache_misses += miss;
    if (d_.metrics) {
      hits_c_[t]->Increment(static_cast<double>(hit));
      miss_c_[t]->Increment(static_cast<double>(miss));
    }
  }
  pending_.stall_seconds += waited + wb_wait;
  pending_.loss_sum += loss;
  pending_.samples += B_;
  window_.emplace_back(loss, B_);
  if (window_.size() > kLossWindowIterations) window_.pop_front();
  double secs = Since(t0);
  pending_.busy_seconds += secs;
  if (d_.metrics) {
    stall_c_->Increment(waited + wb_wait);
    samples_c_->Increment(static_cast<double>(B_));
    iter_h_->Observe(secs);
    loss_g_->Set(loss / static_cast<double>(B_));
  }
  return absl::OkStatus();
}

absl::Status Loop::Report(bool force, bool done, const std::string& error) {
  pending_.completed = completed_;
  if (!force && completed_ % 16 != 0 && Since(last_report_) < 0.25) return absl::OkStatus();
  pending_.done = done;
  pending_.error = error;
  for (const auto& [l, n] : window_) {
    pending_.window_loss_sum += l;
    pending_.window_samples += n;
  }
  auto r = d_.oracle->Report(d_.assignment.job_id, w_, pending_);
  last_report_ = Clock::now();
  pending_ = ProgressUpdate{};
  if (!r.ok()) return r.status();
  if (!r->empty() && cancel_reason_.empty()) cancel_reason_ = *r;
  return absl::OkStatus();
}

// After the last step: every cached row is on its shard, then worker 0 evaluates.
absl::Status Loop::Finish(int64_t completed, bool cancelled) {
  AUGUR_RETURN_IF_ERROR(cache_.ApplyAllFills());
  if (cancelled) AUGUR_RETURN_IF_ERROR(cache_.Evict(cache_.AllAsWriteBacks(), completed));
  AUGUR_RETURN_IF_ERROR(cache_.WaitWriteBacks(INT64_MAX).status());
  AUGUR_RETURN_IF_ERROR(WaitPushes(INT64_MAX));
  float barrier = 1.0f;  // every worker's rows are on the shards past this point
  if (W_ > 1) AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceHostSum(&barrier, 1));
  if (w_ == 0) {
    AUGUR_ASSIGN_OR_RETURN(auto weights, d_.compute->GetDenseWeights());
    AUGUR_RETURN_IF_ERROR(d_.oracle->PutModel(d_.assignment.job_id, weights));
  }
  if (w_ == 0 && !d_.output_dir.empty()) {
    AUGUR_ASSIGN_OR_RETURN(auto weights, d_.compute->GetDenseWeights());
    std::filesystem::create_directories(d_.output_dir);
    std::ofstream out(d_.output_dir + "/dense.f32", std::ios::binary);
    out.write(reinterpret_cast<const char*>(weights.data()),
              static_cast<std::streamsize>(weights.size() * sizeof(float)));
    if (!out) return absl::InternalError("cannot write " + d_.output_dir + "/dense.f32");
  }
  if (d_.eval && !cancelled) AUGUR_RETURN_IF_ERROR(EvaluateNow(completed));
  return Report(true, true, "");
}

// Every worker writes its cached rows back (keeping them cached) and meets the others: past
// this point the shards hold the model as of `completed` iterations, and they stay quiet until
// worker 0 joins the next step's all-reduce (writes only follow that all-reduce).
absl::Status Loop::FlushToShards(int64_t completed) {
  AUGUR_RETURN_IF_ERROR(cache_.WriteBackAll(completed));
  AUGUR_RETURN_IF_ERROR(cache_.WaitWriteBacks(INT64_MAX).status());
  AUGUR_RETURN_IF_ERROR(WaitPushes(INT64_MAX));
  float barrier = 1.0f;
  if (W_ > 1) AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceHostSum(&barrier, 1));
  return absl::OkStatus();
}

// Worker 0 saves <checkpoint.dir>/<job>/iter-<N>/ (checkpoint_files.h): the shards' RocksDB
// checkpoints (shard-<i>/, on each shard's machine), the dense weights and optimizer state, and
// the job spec. A resumed job passes iterations it checkpointed before: those are replaced.
absl::Status Loop::CheckpointNow(int64_t completed) {
  const auto start = Clock::now();
  AUGUR_RETURN_IF_ERROR(FlushToShards(completed));
  if (w_ != 0) return absl::OkStatus();
  const double flush_s = Since(start);
  const std::string dir =
      job::CheckpointDir(d_.spec, d_.assignment.job_id, completed);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError("cannot create checkpoint dir " + dir + ": " + ec.message());
  DenseCheckpoint dense;
  AUGUR_ASSIGN_OR_RETURN(dense.weights, d_.compute->GetDenseWeights());
  AUGUR_ASSIGN_OR_RETURN(dense.optimizer, d_.compute->GetDenseOptimizerState());
  AUGUR_RETURN_IF_ERROR(
      WriteDenseCheckpoint(dir, dense, d_.spec.training.dense_optimizer.kind));
  std::ofstream spec(dir + "/job.yaml");
  spec << job::ToYaml(d_.spec) << "# checkpoint after iteration " << completed << "\n";
  if (!spec) return absl::InternalError("cannot write checkpoint files in " + dir);
  const double dense_s = Since(start) - flush_s;
  auto st = d_.shards->Checkpoint(dir, /*replace=*/true).get();
  if (!st.ok()) return ShardError(st, "checkpointing the shards");
  const double seconds = Since(start);
  if (ckpt_h_) ckpt_h_->Observe(seconds);
  spdlog::info(
      "worker 0: checkpoint after iteration {} in {} ({:.3f} s: flush {:.3f}, dense state "
      "{:.3f}, shards {:.3f})",
      completed, dir, seconds, flush_s, dense_s, seconds - flush_s - dense_s);
  pending_.checkpoint = completed;  // the oracle lists it (resume reads the list)
  return absl::OkStatus();
}

absl::Status Loop::LoadCheckpoint(int64_t iteration) {
  const OptimizerKind kind = d_.spec.training.dense_optimizer.kind;
  AUGUR_ASSIGN_OR_RETURN(auto current, d_.compute->GetDenseWeights());
  const size_t n = current.size();
  const size_t n1 = kind == OptimizerKind::kSgd ? 0 : n;
  const size_t n2 = kind == OptimizerKind::kAdam ? n : 0;
  // [weights | s1 | s2 | steps (two exact 24-bit halves) | worker 0 failed]
  std::vector<float> buf(n + n1 + n2 + 3, -0.0f);
  const std::string dir = job::CheckpointDir(d_.spec, d_.assignment.job_id, iteration);
  absl::Status read = absl::OkStatus();
  if (w_ == 0) {
    auto c = ReadDenseCheckpoint(dir, static_cast<int64_t>(n), kind);
    if (c.ok()) {
      std::copy(c->weights.begin(), c->weights.end(), buf.begin());
      std::copy(c->optimizer.s1.begin(), c->optimizer.s1.end(), buf.begin() + n);
      std::copy(c->optimizer.s2.begin(), c->optimizer.s2.end(), buf.begin() + n + n1);
      PackVersion(c->optimizer.steps, &buf[n + n1 + n2]);
    } else {
      read = c.status();
      buf.back() = 1.0f;
    }
  }
  // Adding -0.0 leaves every float as it is: the others end with worker 0's bits exactly.
  if (W_ > 1) AUGUR_RETURN_IF_ERROR(d_.collective->AllReduceHostSum(buf.data(), buf.size()));
  if (!read.ok())
    return absl::Status(read.code(), "resuming from " + dir + ": " + std::string(read.message()));
  if (buf.back() != 0.0f)
    return absl::FailedPreconditionError("resuming from " + dir +
                                         ": worker 0 could not read the checkpoint");
  model::DenseOptimizerState state;
  state.s1.assign(buf.begin() + n, buf.begin() + n + n1);
  state.s2.assign(buf.begin() + n + n1, buf.begin() + n + n1 + n2);
  state.steps = UnpackVersion(&buf[n + n1 + n2]);
  buf.resize(n);
  AUGUR_RETURN_IF_ERROR(d_.compute->SetDenseWeights(buf));
  AUGUR_RETURN_IF_ERROR(d_.compute->SetDenseOptimizerState(state));
  spdlog::info("worker {}: resuming after iteration {} from {}", w_, iteration, dir);
  return absl::OkStatus();
}

absl::Status Loop::EvaluateNow(int64_t completed, bool flushed) {
  if (!flushed) AUGUR_RETURN_IF_ERROR(FlushToShards(completed));
  if (w_ != 0) return absl::OkStatus();
  const int64_t batch = EvalBatchOf(d_.spec);
  if (!eval_model_) {
    AUGUR_ASSIGN_OR_RETURN(eval_model_,
                           model::CreateDenseCompute(EvalComputeOptionsOf(
                               d_.spec, d_.compute->config(), batch, d_.cuda_device,
                               d_.eval->manifest().max_ids_per_sample())));
  }
  AUGUR_ASSIGN_OR_RETURN(auto weights, d_.compute->GetDenseWeights());
  AUGUR_RETURN_IF_ERROR(eval_model_->SetDenseWeights(weights));
  AUGUR_ASSIGN_OR_RETURN(auto ev, Evaluate(*d_.eval, batch, d_.spec.training.eval_samples,
                                           d_.shards, eval_model_.get()));
  pending_.has_eval = ev.samples > 0;
  pending_.eval_auc = ev.auc;
  pending_.eval_logloss = ev.logloss;
  pending_.eval_samples = ev.samples;
  pending_.eval_iteration = completed;
  return absl::OkStatus();
}

absl::Status Loop::Run() {
  const int64_t n = d_.assignment.iterations;
  const int64_t start = d_.assignment.start_iteration;
  if (start > 0) AUGUR_RETURN_IF_ERROR(LoadCheckpoint(start));
  completed_ = start;
  bool stop = false;
  int64_t i = start;
  for (; i < n && !stop; ++i) {
    auto plan = d_.oracle->NextPlan(i, absl::Seconds(60));
    if (!plan.ok()) return plan.status();
    AUGUR_RETURN_IF_ERROR(Step(i, *plan, &stop));
    completed_ = i + 1;
    const int64_t every = d_.spec.training.eval_every;
    bool eval = d_.eval && every > 0 && completed_ % every == 0 && completed_ < n && !stop;
    const int64_t ckpt_every = d_.spec.checkpoint.every;
    bool ckpt = ckpt_every > 0 && completed_ % ckpt_every == 0 && !stop;
    if (ckpt) AUGUR_RETURN_IF_ERROR(CheckpointNow(completed_));
    if (eval) AUGUR_RETURN_IF_ERROR(EvaluateNow(completed_, /*flushed=*/ckpt));
    // A checkpoint is reported at once: its report names `completed` as its iteration.
    AUGUR_RETURN_IF_ERROR(Report(completed_ == n || eval || ckpt, false, ""));
  }
  AUGUR_RETURN_IF_ERROR(Finish(i, stop));
  if (stop) return absl::CancelledError(cancel_reason_.empty() ? "cancelled" : cancel_reason_);
  return absl::OkStatus();
}

}  // namespace

DenseReducePath ChooseDenseReducePath(model::BufferKind collective, bool gradients_on_device,
                                      int workers) {
  if (!gradients_on_device) return DenseReducePath::kHost;
  return workers <= 1 || collective == model::BufferKind::kDevice ? DenseReducePath::kDevice
                                                                  : DenseReducePath::kHost;
}

model::DenseComputeOptions ComputeOptionsOf(const job::JobSpec& spec,
                                            const model::DlrmConfig& config, int64_t capacity,
                                            int cuda_device) {
  model::DenseComputeOptions co;
  co.backend = spec.training.backend;
  co.model = config;
  co.capacity = capacity;
  co.embedding_optimizer = spec.training.embedding_optimizer;
  co.dense_optimizer = spec.training.dense_optimizer;
  co.seed = spec.seed;
  co.threads = spec.training.threads;
  co.max_batch_size = static_cast<int>(spec.training.batch_size);
  co.tf32 = spec.training.tf32;
  co.device = cuda_device;
  return co;
}

int64_t EvalBatchOf(const job::JobSpec& spec) {
  return std::min<int64_t>(spec.training.batch_size, kMaxEvalBatch);
}

model::DenseComputeOptions EvalComputeOptionsOf(const job::JobSpec& spec,
                                                const model::DlrmConfig& config,
                                                int64_t eval_batch, int cuda_device,
                                                int64_t ids_per_sample) {
  if (ids_per_sample <= 0) ids_per_sample = config.num_sparse;
  model::DenseComputeOptions co =
      ComputeOptionsOf(spec, config, eval_batch * ids_per_sample, cuda_device);
  // Not the training batch: for mlperf at 65,536 that pre-sized about 4.4 GB of device
  // buffers for evaluation batches of at most 1,024.
  co.max_batch_size = static_cast<int>(eval_batch);
  return co;
}

absl::Status RunTrainer(const TrainerDeps& deps) {
  Loop loop(deps);
  auto st = loop.Run();
  if (!st.ok() && st.code() != absl::StatusCode::kCancelled) {
    spdlog::error("worker {}: {}", deps.assignment.worker_index, st.ToString());
    ProgressUpdate u;
    u.error = std::string(st.message());
    (void)deps.oracle->Report(deps.assignment.job_id, deps.assignment.worker_index, u);
  }
  return st;
}

}  // namespace augur::worker
