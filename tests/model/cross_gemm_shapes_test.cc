// The CUDA backend's cross-layer GEMM shapes (worker/cuda/gemm_shape.h), checked on the host:
// a plain column-major GEMM with cuBLASLt's operand conventions, run on row-major buffers with
// the operands cuda_dlrm_step.cc passes, must compute the products the DCNv2 math needs. This
// is the part of the CUDA cross network most easily got wrong (transposes, leading
// dimensions) and it runs here, without a GPU or nvcc.
#include "worker/cuda/gemm_shape.h"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

namespace augur::cuda {
namespace {

using Mat = std::vector<double>;

// C (m x n, ldc) = op(A) op(B), column-major, as cublasLtMatmul with alpha 1, beta 0.
void ColMajorGemm(const LtGemmShape& s, const Mat& a, const Mat& b, Mat* c) {
  REQUIRE(c->size() >= static_cast<size_t>(s.ldc) * (s.n - 1) + s.m);
  for (int j = 0; j < s.n; ++j) {
    for (int i = 0; i < s.m; ++i) {
      double acc = 0;
      for (int k = 0; k < s.k; ++k) {
        const size_t ia = s.trans_a ? k + static_cast<size_t>(i) * s.lda
                                    : i + static_cast<size_t>(k) * s.lda;
        const size_t ib = s.trans_b ? j + static_cast<size_t>(k) * s.ldb
                                    : k + static_cast<size_t>(j) * s.ldb;
        REQUIRE(ia < a.size());
        REQUIRE(ib < b.size());
        acc += a[ia] * b[ib];
      }
      (*c)[i + static_cast<size_t>(j) * s.ldc] = acc;
    }
  }
}

Mat Random(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<double> normal(0, 1);
  Mat m(n);
  for (auto& x : m) x = normal(g);
  return m;
}

void CheckEqual(const Mat& got, const Mat& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-12));
}

TEST_CASE("The CUDA cross-layer GEMM shapes compute the DCNv2 products") {
  const int cw = 7, r = 3, batch = 5;  // all different, so a swapped dimension shows
  const CrossGemmShapes sh = CrossLayerShapes(cw, r, batch);
  // Row-major operands: V r x cw, W cw x r, x / dt B x cw, u / du B x r.
  const Mat v = Random(r * cw, 1), w = Random(cw * r, 2), x = Random(batch * cw, 3);
  const Mat u = Random(batch * r, 4), dt = Random(batch * cw, 5), du = Random(batch * r, 6);
  auto at = [](const Mat& m, int cols, int row, int col) { return m[row * cols + col]; };

  Mat got(batch * r), want(batch * r);
  ColMajorGemm(sh.u_fwd, v, x, &got);  // u = x V^T
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < r; ++k) {
      double s = 0;
      for (int i = 0; i < cw; ++i) s += at(v, cw, k, i) * at(x, cw, b, i);
      want[b * r + k] = s;
    }
  CheckEqual(got, want);

  got.assign(batch * cw, 0);
  want.assign(batch * cw, 0);
  ColMajorGemm(sh.t_fwd, w, u, &got);  // t = u W^T
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < cw; ++i) {
      double s = 0;
      for (int k = 0; k < r; ++k) s += at(w, r, i, k) * at(u, r, b, k);
      want[b * cw + i] = s;
    }
  CheckEqual(got, want);

  got.assign(cw * r, 0);
  want.assign(cw * r, 0);
  ColMajorGemm(sh.dw, u, dt, &got);  // dW (cw x r) = dt^T u
  for (int i = 0; i < cw; ++i)
    for (int k = 0; k < r; ++k) {
      double s = 0;
      for (int b = 0; b < batch; ++b) s += at(dt, cw, b, i) * at(u, r, b, k);
      want[i * r + k] = s;
    }
  CheckEqual(got, want);

  got.assign(batch * r, 0);
  want.assign(batch * r, 0);
  ColMajorGemm(sh.du, w, dt, &got);  // du = dt W
  for (int b = 0; b < batch; ++b)
    for (int k = 0; k < r; ++k) {
      double s = 0;
      for (int i = 0; i < cw; ++i) s += at(dt, cw, b, i) * at(w, r, i, k);
      want[b * r + k] = s;
    }
  CheckEqual(got, want);

  got.assign(r * cw, 0);
  want.assign(r * cw, 0);
  ColMajorGemm(sh.dv, x, du, &got);  // dV (r x cw) = du^T x
  for (int k = 0; k < r; ++k)
    for (int i = 0; i < cw; ++i) {
      double s = 0;
      for (int b = 0; b < batch; ++b) s += at(du, r, b, k) * at(x, cw, b, i);
      want[k * cw + i] = s;
    }
  CheckEqual(got, want);

  got.assign(batch * cw, 0);
  want.assign(batch * cw, 0);
  ColMajorGemm(sh.dx, v, du, &got);  // dx = du V
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < cw; ++i) {
      double s = 0;
      for (int k = 0; k < r; ++k) s += at(du, r, b, k) * at(v, cw, k, i);
      want[b * cw + i] = s;
    }
  CheckEqual(got, want);
}

}  // namespace
}  // namespace augur::cuda
