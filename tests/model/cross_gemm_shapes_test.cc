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

// The row-major product op(A) op(B), A rows_a x cols_a and B rows_b x cols_b as stored, each
// transposed when asked: the independent reference each GEMM shape is held to.
Mat RowMajorProduct(const Mat& a, int rows_a, int cols_a, bool ta, const Mat& b, int rows_b,
                    int cols_b, bool tb) {
  const int m = ta ? cols_a : rows_a, inner = ta ? rows_a : cols_a, n = tb ? rows_b : cols_b;
  REQUIRE(inner == (tb ? cols_b : rows_b));
  Mat c(static_cast<size_t>(m) * n, 0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < inner; ++k)
        s += (ta ? a[k * cols_a + i] : a[i * cols_a + k]) * (tb ? b[j * cols_b + k] : b[k * cols_b + j]);
      c[i * n + j] = s;
    }
  return c;
}

// The GEMM `shape` on operands (a, b) must write exactly `want`.
void CheckShape(const LtGemmShape& shape, const Mat& a, const Mat& b, const Mat& want) {
  Mat got(want.size(), 0);
  ColMajorGemm(shape, a, b, &got);
  CheckEqual(got, want);
}

TEST_CASE("The CUDA cross-layer GEMM shapes compute the DCNv2 products") {
  const int cw = 7, r = 3, batch = 5;  // all different, so a swapped dimension shows
  const CrossGemmShapes sh = CrossLayerShapes(cw, r, batch);
  // Row-major operands: V r x cw, W cw x r, x / dt B x cw, u / du B x r.
  const Mat v = Random(r * cw, 1), w = Random(cw * r, 2), x = Random(batch * cw, 3);
  const Mat u = Random(batch * r, 4), dt = Random(batch * cw, 5), du = Random(batch * r, 6);
  // u = x V^T
  CheckShape(sh.u_fwd, v, x, RowMajorProduct(x, batch, cw, false, v, r, cw, true));
  // t = u W^T
  CheckShape(sh.t_fwd, w, u, RowMajorProduct(u, batch, r, false, w, cw, r, true));
  // dW (cw x r) = dt^T u
  CheckShape(sh.dw, u, dt, RowMajorProduct(dt, batch, cw, true, u, batch, r, false));
  // du = dt W
  CheckShape(sh.du, w, dt, RowMajorProduct(dt, batch, cw, false, w, cw, r, false));
  // dV (r x cw) = du^T x
  CheckShape(sh.dv, x, du, RowMajorProduct(du, batch, r, true, x, batch, cw, false));
  // dx = du V
  CheckShape(sh.dx, v, du, RowMajorProduct(du, batch, r, false, v, r, cw, false));
}

}  // namespace
}  // namespace augur::cuda
