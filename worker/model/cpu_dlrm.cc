// CpuDlrm: GEMMs through OpenBLAS, everything else as plain loops over contiguous rows that
// the compiler vectorises (no reassociation: -ffp-contract=off and no fast-math, so every sum
// has a fixed, documented order and the float and double instantiations agree in structure).
#include "worker/model/cpu_dlrm.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace augur::model {
namespace {

// A mean-pooled bag of n rows is its sum times 1/n, the reciprocal rounded once in T (the CUDA
// backend computes 1.0f / n the same way).
template <typename T>
T MeanScale(int64_t n) {
  return T(1) / static_cast<T>(n);
}

inline CBLAS_TRANSPOSE Tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

void Gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb,
          float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, Tr(ta), Tr(tb), m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}
void Gemm(bool ta, bool tb, int m, int n, int k, const double* a, int lda, const double* b,
          int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, Tr(ta), Tr(tb), m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc);
}

// y = x W^T + b, then ReLU when the layer has one. x: B x in, y: B x out.
template <typename T>
void LinearForward(const LayerSlice& l, const T* w, int batch, const T* x, T* y) {
  Gemm(false, true, batch, l.out, l.in, x, l.in, w + l.weight_offset, l.in, y, l.out);
  const T* bias = w + l.bias_offset;
  for (int r = 0; r < batch; ++r) {
    T* yr = y + static_cast<int64_t>(r) * l.out;
    for (int o = 0; o < l.out; ++o) yr[o] += bias[o];
    if (l.relu) {
      for (int o = 0; o < l.out; ++o) yr[o] = yr[o] > T(0) ? yr[o] : T(0);
    }
  }
}

// dy (B x out) holds dL/dy on entry; the ReLU mask is applied in place. Writes dW, db into
// `grad` and, when dx is not null, dL/dx (B x in).
template <typename T>
void LinearBackward(const LayerSlice& l, const T* w, int batch, const T* x, const T* y, T* dy,
                    T* grad, T* dx) {
  if (l.relu) {
    const int64_t n = static_cast<int64_t>(batch) * l.out;
    for (int64_t i = 0; i < n; ++i) dy[i] = y[i] > T(0) ? dy[i] : T(0);
  }
  Gemm(true, false, l.out, l.in, batch, dy, l.out, x, l.in, grad + l.weight_offset, l.in);
  T* db = grad + l.bias_offset;
  std::fill(db, db + l.out, T(0));
  for (int r = 0; r < batch; ++r) {  // sample order, as the CUDA column reduction
    const T* dyr = dy + static_cast<int64_t>(r) * l.out;
    for (int o = 0; o < l.out; ++o) db[o] += dyr[o];
  }
  if (dx != nullptr) {
    Gemm(false, false, batch, l.in, l.out, dy, l.out, w + l.weight_offset, l.in, dx, l.in);
  }
}

// Dot product with eight interleaved partial sums (lane k sums elements k, k+8, ...), then the
// lanes in order: vectorisable without fast-math, and a fixed order the CUDA kernel repeats.
template <typename T>
inline T Dot(const T* a, const T* b, int n) {
  T lane[8] = {};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) lane[k] += a[i + k] * b[i + k];
  }
  for (int k = 0; i < n; ++i, ++k) lane[k] += a[i] * b[i];
  T s = T(0);
  for (int k = 0; k < 8; ++k) s += lane[k];
  return s;
}

}  // namespace

template <typename T>
CpuDlrm<T>::CpuDlrm(const DlrmConfig& config) : config_(config), layout_(MakeDenseLayout(config)) {
  width_max_ = std::max(config.num_dense, TopInputWidth(config));
  for (const auto& l : layout_.bottom) width_max_ = std::max(width_max_, l.out);
  for (const auto& l : layout_.top) width_max_ = std::max(width_max_, l.out);
  bottom_.resize(layout_.bottom.size());
  top_.resize(layout_.top.size());
  cross_x_.resize(layout_.cross.size());
  cross_u_.resize(layout_.cross.size());
  cross_t_.resize(layout_.cross.size());
}

template <typename T>
void CpuDlrm<T>::Reserve(int batch) {
  if (batch <= reserved_) return;
  const int64_t b = batch;
  const int64_t v = InteractionVectors(config_);
  input_.resize(b * config_.num_dense);
  for (size_t i = 0; i < bottom_.size(); ++i) bottom_[i].resize(b * layout_.bottom[i].out);
  for (size_t i = 0; i < top_.size(); ++i) top_[i].resize(b * layout_.top[i].out);
  z_.resize(b * v * config_.dim);
  dz_.resize(b * v * config_.dim);
  if (config_.interaction == Interaction::kDot) top_in_.resize(b * TopInputWidth(config_));
  for (size_t i = 0; i < layout_.cross.size(); ++i) {
    cross_x_[i].resize(b * layout_.cross[i].in);
    cross_u_[i].resize(b * layout_.cross[i].rank);
    cross_t_[i].resize(b * layout_.cross[i].in);
  }
  if (!layout_.cross.empty()) {
    cross_dt_.resize(b * layout_.cross[0].in);
    cross_du_.resize(b * layout_.cross[0].rank);
  }
  grad_a_.resize(b * width_max_);
  grad_b_.resize(b * width_max_);
  dlogits_.resize(b);
  reserved_ = batch;
}

template <typename T>
void CpuDlrm<T>::Pool(const T* slot_array, int64_t row_stride, const Minibatch& mb) {
  const int dim = config_.dim, v = InteractionVectors(config_), batch = mb.batch_size;
  const int first = FirstEmbeddingVector(config_);
  for (int f = 0; f < config_.num_sparse; ++f) {
    const int64_t* off = mb.offsets.data() + static_cast<int64_t>(f) * (batch + 1);
    for (int b = 0; b < batch; ++b) {
      T* dst = z_.data() + (static_cast<int64_t>(b) * v + first + f) * dim;
      std::fill(dst, dst + dim, T(0));
      for (int64_t k = off[b]; k < off[b + 1]; ++k) {  // bag position order
        const T* row = slot_array + static_cast<int64_t>(mb.slots[k]) * row_stride;
        for (int d = 0; d < dim; ++d) dst[d] += row[d];
      }
      if (MeanPooled(config_, f) && off[b + 1] > off[b]) {
        const T scale = MeanScale<T>(off[b + 1] - off[b]);
        for (int d = 0; d < dim; ++d) dst[d] *= scale;
      }
    }
  }
}

template <typename T>
void CpuDlrm<T>::Interact(int batch) {
  const int dim = config_.dim, v = InteractionVectors(config_), tw = TopInputWidth(config_);
  const int self = config_.self_interaction ? 1 : 0;
  const int lead = HasBottom(config_) ? dim : 0;  // bottom_out leads the top input
  for (int b = 0; b < batch; ++b) {
    const T* z = z_.data() + static_cast<int64_t>(b) * v * dim;
    T* out = top_in_.data() + static_cast<int64_t>(b) * tw;
    std::memcpy(out, z, sizeof(T) * lead);
    int p = lead;
    for (int i = 0; i < v; ++i) {
      for (int j = 0; j < i + self; ++j) out[p++] = Dot(z + i * dim, z + j * dim, dim);
    }
  }
}

template <typename T>
void CpuDlrm<T>::InteractBackward(int batch) {
  // grad_a_ holds dL/d(top input) (B x tw); writes dz_ (B x V x dim).
  const int dim = config_.dim, v = InteractionVectors(config_), tw = TopInputWidth(config_);
  const int self = config_.self_interaction ? 1 : 0;
  const int lead = HasBottom(config_) ? dim : 0;
  for (int b = 0; b < batch; ++b) {
    const T* z = z_.data() + static_cast<int64_t>(b) * v * dim;
    const T* g = grad_a_.data() + static_cast<int64_t>(b) * tw;
    T* dz = dz_.data() + static_cast<int64_t>(b) * v * dim;
    std::memcpy(dz, g, sizeof(T) * lead);
    std::fill(dz + lead, dz + static_cast<int64_t>(v) * dim, T(0));
    // Row i of dz collects sum_j g_ij z_j over the pairs in reference order; the partner
    // contributions follow, so each dz row has a fixed summation order.
    int p = lead;
    for (int i = 0; i < v; ++i) {
      for (int j = 0; j < i + self; ++j, ++p) {
        const T gp = g[p];
        T* di = dz + i * dim;
        T* dj = dz + j * dim;
        const T* zi = z + i * dim;
        const T* zj = z + j * dim;
        for (int d = 0; d < dim; ++d) di[d] += gp * zj[d];
        for (int d = 0; d < dim; ++d) dj[d] += gp * zi[d];
      }
    }
  }
}

template <typename T>
void CpuDlrm<T>::Cross(const T* weights, int batch) {
  const int cw = CrossWidth(config_);
  const int64_t n = static_cast<int64_t>(batch) * cw;
  const T* x0 = z_.data();  // B x V x dim is B x cw: Z concatenated per sample
  const T* x = x0;
  for (size_t l = 0; l < layout_.cross.size(); ++l) {
    const CrossSlice& s = layout_.cross[l];
    T* u = cross_u_[l].data();
    T* t = cross_t_[l].data();
    T* y = cross_x_[l].data();
    Gemm(false, true, batch, s.rank, cw, x, cw, weights + s.v_offset, cw, u, s.rank);
    Gemm(false, true, batch, cw, s.rank, u, s.rank, weights + s.w_offset, s.rank, t, cw);
    const T* bias = weights + s.bias_offset;
    for (int r = 0; r < batch; ++r) {
      T* tr = t + static_cast<int64_t>(r) * cw;
      for (int i = 0; i < cw; ++i) tr[i] += bias[i];
    }
    for (int64_t i = 0; i < n; ++i) y[i] = x0[i] * t[i] + x[i];
    x = y;
  }
}

// Per layer, last first, with g = dL/dx_{l+1}: dt = g * x0 (dL/dt), dx0 += g * t, dW = dt^T u,
// db = column sums of dt, du = dt W, dV = du^T x_l, and g becomes dL/dx_l = g + du V. dz_ (dx0)
// sums the layers' g * t terms from the last layer down, then the residual chain's g.
template <typename T>
void CpuDlrm<T>::CrossBackward(const T* weights, int batch, T* dense_grad) {
  const int cw = CrossWidth(config_), nl = static_cast<int>(layout_.cross.size());
  const int64_t n = static_cast<int64_t>(batch) * cw;
  const T* x0 = z_.data();
  T* g = grad_a_.data();
  T* tmp = grad_b_.data();
  T* dz = dz_.data();
  T* dt = cross_dt_.data();
  T* du = cross_du_.data();
  for (int l = nl - 1; l >= 0; --l) {
    const CrossSlice& s = layout_.cross[l];
    const T* u = cross_u_[l].data();
    const T* t = cross_t_[l].data();
    const T* xl = l == 0 ? x0 : cross_x_[l - 1].data();
    for (int64_t i = 0; i < n; ++i) dt[i] = g[i] * x0[i];
    if (l == nl - 1) {
      for (int64_t i = 0; i < n; ++i) dz[i] = g[i] * t[i];
    } else {
      for (int64_t i = 0; i < n; ++i) dz[i] += g[i] * t[i];
    }
    Gemm(true, false, cw, s.rank, batch, dt, cw, u, s.rank, dense_grad + s.w_offset, s.rank);
    T* db = dense_grad + s.bias_offset;
    std::fill(db, db + cw, T(0));
    for (int r = 0; r < batch; ++r) {  // sample order, as the CUDA column reduction
      const T* dtr = dt + static_cast<int64_t>(r) * cw;
      for (int i = 0; i < cw; ++i) db[i] += dtr[i];
    }
    Gemm(false, false, batch, s.rank, cw, dt, cw, weights + s.w_offset, s.rank, du, s.rank);
    Gemm(true, false, s.rank, cw, batch, du, s.rank, xl, cw, dense_grad + s.v_offset, cw);
    Gemm(false, false, batch, cw, s.rank, du, s.rank, weights + s.v_offset, cw, tmp, cw);
    for (int64_t i = 0; i < n; ++i) g[i] += tmp[i];
  }
  for (int64_t i = 0; i < n; ++i) dz[i] += g[i];
}

template <typename T>
const T* CpuDlrm<T>::TopInput() const {
  return config_.interaction == Interaction::kDcn ? cross_x_.back().data() : top_in_.data();
}

template <typename T>
void CpuDlrm<T>::Forward(const T* weights, const T* slot_array, int64_t row_stride,
                         const Minibatch& mb) {
  const int batch = mb.batch_size, dim = config_.dim, v = InteractionVectors(config_);
  Reserve(batch);
  const int64_t nin = static_cast<int64_t>(batch) * config_.num_dense;
  for (int64_t i = 0; i < nin; ++i) input_[i] = static_cast<T>(mb.dense[i]);
  const T* x = input_.data();
  for (size_t l = 0; l < layout_.bottom.size(); ++l) {
    LinearForward(layout_.bottom[l], weights, batch, x, bottom_[l].data());
    x = bottom_[l].data();
  }
  if (HasBottom(config_)) {
    for (int b = 0; b < batch; ++b) {
      std::memcpy(z_.data() + static_cast<int64_t>(b) * v * dim,
                  x + static_cast<int64_t>(b) * dim, sizeof(T) * dim);
    }
  }
  Pool(slot_array, row_stride, mb);
  if (config_.interaction == Interaction::kDcn) {
    Cross(weights, batch);
  } else {
    Interact(batch);
  }
  x = TopInput();
  for (size_t l = 0; l < layout_.top.size(); ++l) {
    LinearForward(layout_.top[l], weights, batch, x, top_[l].data());
    x = top_[l].data();
  }
  logits_ = x;
}

template <typename T>
double CpuDlrm<T>::Loss(const Minibatch& mb) {
  double sum = 0.0;
  const T inv_global = T(1) / static_cast<T>(mb.global_batch_size);
  for (int b = 0; b < mb.batch_size; ++b) {
    const T z = logits_[b];
    const T y = static_cast<T>(mb.labels[b]);
    // Stable forms: BCE = max(z,0) - z y + log1p(exp(-|z|)); sigmoid without overflow.
    const double zd = static_cast<double>(z), yd = static_cast<double>(y);
    sum += std::max(zd, 0.0) - zd * yd + std::log1p(std::exp(-std::abs(zd)));
    const T e = std::exp(-std::abs(z));
    const T sig = z >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
    dlogits_[b] = (sig - y) * inv_global;
  }
  return sum;
}

template <typename T>
void CpuDlrm<T>::Backward(const T* weights, const Minibatch& mb, T* dense_grad,
                          std::vector<SlotIndex>* unique_slots, std::vector<T>* row_grads,
                          int32_t* slot_to_unique) {
  const int batch = mb.batch_size, dim = config_.dim, v = InteractionVectors(config_);
  // Top MLP, last layer first; grad_a_ always holds dL/d(current layer output).
  std::copy(dlogits_.begin(), dlogits_.begin() + batch, grad_a_.begin());
  for (int l = static_cast<int>(layout_.top.size()) - 1; l >= 0; --l) {
    const T* x = l == 0 ? TopInput() : top_[l - 1].data();
    LinearBackward(layout_.top[l], weights, batch, x, top_[l].data(), grad_a_.data(), dense_grad,
                   grad_b_.data());
    std::swap(grad_a_, grad_b_);
  }
  if (config_.interaction == Interaction::kDcn) {
    CrossBackward(weights, batch, dense_grad);
  } else {
    InteractBackward(batch);
  }
  // Bottom MLP (when there is one): its output gradient is dz_[b][0].
  if (HasBottom(config_)) {
    for (int b = 0; b < batch; ++b) {
      std::memcpy(grad_a_.data() + static_cast<int64_t>(b) * dim,
                  dz_.data() + static_cast<int64_t>(b) * v * dim, sizeof(T) * dim);
    }
  }
  for (int l = static_cast<int>(layout_.bottom.size()) - 1; l >= 0; --l) {
    const T* x = l == 0 ? input_.data() : bottom_[l - 1].data();
    LinearBackward(layout_.bottom[l], weights, batch, x, bottom_[l].data(), grad_a_.data(),
                   dense_grad, l == 0 ? nullptr : grad_b_.data());
    std::swap(grad_a_, grad_b_);
  }
  // Embedding rows: every bag member receives its bag's gradient; rows are numbered by first
  // appearance and summed in (sample, feature, position) order, never in slot order.
  unique_slots->clear();
  row_grads->clear();
  const int first = FirstEmbeddingVector(config_);
  for (int b = 0; b < batch; ++b) {
    for (int f = 0; f < config_.num_sparse; ++f) {
      const int64_t* off = mb.offsets.data() + static_cast<int64_t>(f) * (batch + 1);
      T* g = dz_.data() + (static_cast<int64_t>(b) * v + first + f) * dim;
      if (MeanPooled(config_, f) && off[b + 1] > off[b]) {  // each member gets 1/n of it
        const T scale = MeanScale<T>(off[b + 1] - off[b]);
        for (int d = 0; d < dim; ++d) g[d] *= scale;
      }
      for (int64_t k = off[b]; k < off[b + 1]; ++k) {
        const SlotIndex s = mb.slots[k];
        int32_t u = slot_to_unique[s];
        if (u < 0) {
          u = static_cast<int32_t>(unique_slots->size());
          slot_to_unique[s] = u;
          unique_slots->push_back(s);
          row_grads->insert(row_grads->end(), g, g + dim);
        } else {
          T* dst = row_grads->data() + static_cast<int64_t>(u) * dim;
          for (int d = 0; d < dim; ++d) dst[d] += g[d];
        }
      }
    }
  }
  for (SlotIndex s : *unique_slots) slot_to_unique[s] = -1;
}

template class CpuDlrm<float>;
template class CpuDlrm<double>;

}  // namespace augur::model
