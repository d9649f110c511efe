// Tests for train/gemm (the float32 product behind the Linear layers): against a double-precision reference over
// shapes that exercise every edge of the 32×8 register tile, the k blocking and the packing (both unit-stride
// layouts of A and of B, a column stride larger than the row count), with and without accumulation; and the
// same bits whatever the number of OpenMP threads.
#include "train/gemm.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "train/rng.hpp"

namespace {

using specbias::train::GemmOperand;
using specbias::train::Index;

struct Operand {
  std::vector<float> data;
  GemmOperand view;
  float at(Index i, Index j) const { return view.data[i * view.rs + j * view.cs]; }
};

// rows×cols, stored column-major (transposed = false) or row-major, with 3 spare entries per line.
Operand random_operand(Index rows, Index cols, bool row_major, specbias::train::Rng& rng) {
  Operand o;
  const Index ld = (row_major ? cols : rows) + 3;
  o.data.resize(static_cast<std::size_t>(ld * (row_major ? rows : cols)));
  for (float& v : o.data) v = static_cast<float>(rng.uniform(-1.0, 1.0));
  o.view = row_major ? GemmOperand{o.data.data(), ld, 1} : GemmOperand{o.data.data(), 1, ld};
  return o;
}

}  // namespace

TEST_CASE("train gemm: matches a double-precision product on edge shapes and both layouts", "[fast][train]") {
  specbias::train::Rng rng(5);
  const Index ms[] = {1, 15, 32, 33, 70, 200};
  const Index ns[] = {1, 8, 13, 130};
  const Index ks[] = {1, 9, 384, 385, 800};
  int checked = 0;
  for (Index m : ms)
    for (Index n : ns)
      for (Index k : ks)
        for (int layout = 0; layout < 4; ++layout) {
          const Operand A = random_operand(m, k, (layout & 1) != 0, rng);
          const Operand B = random_operand(k, n, (layout & 2) != 0, rng);
          const bool accumulate = (m + n + k + layout) % 2 == 1;
          const Index ldc = m + 5;
          std::vector<float> C(static_cast<std::size_t>(ldc * n));
          for (float& v : C) v = static_cast<float>(rng.uniform(-1.0, 1.0));
          const std::vector<float> C0 = C;
          specbias::train::gemm(m, n, k, A.view, B.view, C.data(), ldc, accumulate);
          double worst = 0.0;
          for (Index j = 0; j < n; ++j)
            for (Index i = 0; i < m; ++i) {
              double ref = accumulate ? C0[static_cast<std::size_t>(i + j * ldc)] : 0.0, mag = std::abs(ref);
              for (Index p = 0; p < k; ++p) {
                ref += static_cast<double>(A.at(i, p)) * B.at(p, j);
                mag += std::abs(static_cast<double>(A.at(i, p)) * B.at(p, j));
              }
              worst = std::max(worst, std::abs(C[static_cast<std::size_t>(i + j * ldc)] - ref) / (mag + 1e-30));
            }
          // Padding rows of C (between m and ldc) are untouched.
          for (Index j = 0; j < n; ++j)
            for (Index i = m; i < ldc; ++i)
              REQUIRE(C[static_cast<std::size_t>(i + j * ldc)] == C0[static_cast<std::size_t>(i + j * ldc)]);
          INFO("m " << m << " n " << n << " k " << k << " layout " << layout << " accumulate " << accumulate);
          REQUIRE(worst < 1e-5);  // float roundoff of a k-term sum, relative to Σ|a b|
          ++checked;
        }
  REQUIRE(checked == 6 * 4 * 5 * 4);
}

TEST_CASE("train gemm: k = 0 zeroes C, or leaves it with accumulation", "[fast][train]") {
  std::vector<float> C(6, 2.0f);
  const float dummy = 1.0f;
  specbias::train::gemm(2, 3, 0, {&dummy, 1, 2}, {&dummy, 1, 1}, C.data(), 2, true);
  REQUIRE(C == std::vector<float>(6, 2.0f));
  specbias::train::gemm(2, 3, 0, {&dummy, 1, 2}, {&dummy, 1, 1}, C.data(), 2, false);
  REQUIRE(C == std::vector<float>(6, 0.0f));
}

TEST_CASE("train gemm: bit-identical for 1 and 2 OpenMP threads", "[fast][train]") {
#ifdef _OPENMP
  specbias::train::Rng rng(6);
  const Index m = 300, n = 260, k = 700;
  const Operand A = random_operand(m, k, true, rng);
  const Operand B = random_operand(k, n, false, rng);
  std::vector<float> C1(static_cast<std::size_t>(m * n)), C2(C1.size());
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  specbias::train::gemm(m, n, k, A.view, B.view, C1.data(), m, false);
  omp_set_num_threads(2);
  specbias::train::gemm(m, n, k, A.view, B.view, C2.data(), m, false);
  omp_set_num_threads(saved);
  REQUIRE(std::memcmp(C1.data(), C2.data(), C1.size() * sizeof(float)) == 0);
#else
  SUCCEED("built without OpenMP");
#endif
}
