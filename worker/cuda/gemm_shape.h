// The shapes of the CUDA backend's planned GEMMs, free of CUDA headers so host-only tests can
// check them (tests/model/cross_gemm_shapes_test.cc) on machines without a GPU or nvcc.
//
// Terms are cuBLASLt's, column-major: C (m x n, ldc) = op(A) op(B), op(A) m x k, op(B) k x n;
// A is stored m x k (k x m when trans_a) with leading dimension lda, likewise B. The model's
// row-major B x w activations are column-major w x B; a row-major out x in weight is
// column-major in x out.
#pragma once

namespace augur::cuda {

struct LtGemmShape {
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  int lda = 0, ldb = 0, ldc = 0;
};

// The six GEMMs of one DCNv2 cross layer of width cw and rank r over a batch, with the
// operands cuda_dlrm_step.cc gives them (row-major names: V r x cw, W cw x r, x_l / t / dt
// B x cw, u / du B x r; dV r x cw and dW cw x r land in the dense-gradient buffer):
//   u_fwd  A = V,   B = x_l, C = u      u  = x_l V^T
//   t_fwd  A = W,   B = u,   C = t      t  = u W^T (+ b by the epilogue or a kernel)
//   dw     A = u,   B = dt,  C = dW     dW = dt^T u
//   du     A = W,   B = dt,  C = du     du = dt W
//   dv     A = x_l, B = du,  C = dV     dV = du^T x_l
//   dx     A = V,   B = du,  C = dx     dx = du V
struct CrossGemmShapes {
  LtGemmShape u_fwd, t_fwd, dw, du, dv, dx;
};

inline CrossGemmShapes CrossLayerShapes(int cw, int r, int batch) {
  CrossGemmShapes s;
  s.u_fwd = LtGemmShape{true, false, r, batch, cw, cw, cw, r};
  s.t_fwd = LtGemmShape{true, false, cw, batch, r, r, r, cw};
  s.dw = LtGemmShape{false, true, r, cw, batch, r, cw, r};
  s.du = LtGemmShape{false, false, r, batch, cw, r, cw, r};
  s.dv = LtGemmShape{false, true, cw, r, batch, cw, r, cw};
  s.dx = LtGemmShape{false, false, cw, batch, r, cw, r, cw};
  return s;
}

}  // namespace augur::cuda
