// Single-precision matrix product for the float32 Linear layers (train/layers.cpp): C = [C +] A·B with C
// column-major and A, B strided views. On an AVX-512 build this is a packed, cache-blocked product with a 32×8
// register tile (16 accumulators); otherwise it is Eigen's product. Why it exists: the MLP-UNet's training step
// is ~70 % matrix products, and Eigen 3.4's single-precision kernel (48×4 tile, 12 accumulators) reaches ≈ 80
// GFLOP/s per core on the reference machine (AMD Zen 4, AVX-512) against ≈ 115 for the FMA peak; this kernel
// reaches ≈ 100–110 on the trainer's shapes (docs/benchmarks.md, "Trainer benchmark").
//
// Results: every C(i, j) is accumulated in the same order whatever the thread count or the split of the work
// (the k dimension is cut into blocks that depend on k alone; inside a block the sum runs over k in order in one
// register; blocks are added to C in order), so a product is bit-identical for any number of threads. The sum
// order differs from Eigen's, so values differ from an Eigen product by float roundoff.
//
// Threads: inside an OpenMP parallel region (the EDM loss's batch shards) a call runs on the calling thread;
// outside one it splits the columns of C over the OpenMP threads when the product is large enough.
#pragma once

#include "train/tensor.hpp"

namespace specbias::train {

// A read-only strided matrix: element (i, j) at data[i·rs + j·cs]. One of rs, cs must be 1.
struct GemmOperand {
  const float* data;
  Index rs;
  Index cs;
};

// C (m×n, column-major, column stride ldc ≥ m) = A (m×k) · B (k×n), or C += A·B with accumulate. C must not
// alias A or B. k = 0 gives C = 0 (or C unchanged with accumulate).
void gemm(Index m, Index n, Index k, GemmOperand A, GemmOperand B, float* C, Index ldc, bool accumulate);

// True when gemm uses its own AVX-512 kernel (false: it forwards to Eigen).
[[nodiscard]] bool gemm_has_native_kernel();

}  // namespace specbias::train
