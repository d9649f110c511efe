// Single-precision GEMM (see gemm.hpp). The AVX-512 path is the classic Goto/BLIS structure:
//   for each block of NC columns of C:
//     for each block of ≤ KC_MAX steps of k (sizes depend on k only):   pack B's kc×nc block into NR-column panels
//       for each block of MC rows of C:                                 pack A's mc×kc block into MR-row panels
//         for each NR-column panel, for each MR-row panel:              32×8 register-tile kernel over kc
// Panels are zero-padded to full tiles, so the kernel always runs the full tile and only its stores are masked.
// The packed A block (MC × KC_MAX floats, 288 KiB) stays in L2 while the current B panel (KC_MAX × NR floats,
// 12 KiB) stays in L1; the tile's 16 accumulators (2 × 8 zmm registers) leave enough registers for the two A
// vectors and the B broadcast, and 16 independent FMA chains cover the FMA latency on Zen 4 and on Intel cores.
// Packing handles the two layouts the layers need: a unit stride along the packed panel's short side (a plain
// copy per k step, masked at the edge) or along k (8×8 in-register transposes).
#include "train/gemm.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__) && defined(__AVX512VL__)
#include <immintrin.h>
#define SPECBIAS_GEMM_AVX512 1
#endif

namespace specbias::train {

namespace {

// Eigen's product on the same strided views (builds without AVX-512).
template <class MA, class MB>
void eigen_product(const MA& a, const MB& b, float* C, Index m, Index n, Index ldc, bool accumulate) {
  Eigen::Map<Mat<float>, 0, Eigen::OuterStride<>> c(C, m, n, Eigen::OuterStride<>(ldc));
  if (accumulate)
    c.noalias() += a * b;
  else
    c.noalias() = a * b;
}

template <class MA>
void eigen_gemm_b(const MA& a, Index n, Index k, GemmOperand B, float* C, Index m, Index ldc, bool accumulate) {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Dyn = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  if (B.rs == 1)
    eigen_product(a, Eigen::Map<const Mat<float>, 0, Eigen::OuterStride<>>(B.data, k, n, Eigen::OuterStride<>(B.cs)),
                  C, m, n, ldc, accumulate);
  else if (B.cs == 1)
    eigen_product(a, Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>(B.data, k, n, Eigen::OuterStride<>(B.rs)), C,
                  m, n, ldc, accumulate);
  else
    eigen_product(a, Eigen::Map<const Mat<float>, 0, Dyn>(B.data, k, n, Dyn(B.cs, B.rs)), C, m, n, ldc, accumulate);
}

[[maybe_unused]] void eigen_gemm(Index m, Index n, Index k, GemmOperand A, GemmOperand B, float* C, Index ldc,
                                 bool accumulate) {
  using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Dyn = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
  if (A.rs == 1)
    eigen_gemm_b(Eigen::Map<const Mat<float>, 0, Eigen::OuterStride<>>(A.data, m, k, Eigen::OuterStride<>(A.cs)), n, k,
                 B, C, m, ldc, accumulate);
  else if (A.cs == 1)
    eigen_gemm_b(Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>(A.data, m, k, Eigen::OuterStride<>(A.rs)), n, k, B,
                 C, m, ldc, accumulate);
  else
    eigen_gemm_b(Eigen::Map<const Mat<float>, 0, Dyn>(A.data, m, k, Dyn(A.cs, A.rs)), n, k, B, C, m, ldc, accumulate);
}

#ifdef SPECBIAS_GEMM_AVX512

constexpr Index MR = 32;      // rows of the register tile (2 zmm)
constexpr Index NR = 8;       // columns of the register tile
constexpr Index KC_MAX = 384; // longest k block
constexpr Index MC = 192;     // rows of a packed A block (multiple of MR)
constexpr Index NC = 1024;    // columns of a packed B block (multiple of NR)

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

// Per-thread packing buffers, allocated on first use (64-byte aligned).
struct PackBuffers {
  std::unique_ptr<float, FreeDeleter> a, b;
  PackBuffers() {
    a.reset(static_cast<float*>(std::aligned_alloc(64, sizeof(float) * MC * KC_MAX)));
    b.reset(static_cast<float*>(std::aligned_alloc(64, sizeof(float) * KC_MAX * NC)));
    if (!a || !b) throw std::bad_alloc();
  }
};

PackBuffers& buffers() {
  thread_local PackBuffers buf;
  return buf;
}

__mmask16 mask16(Index valid) {
  return valid >= 16 ? static_cast<__mmask16>(0xFFFF) : valid <= 0 ? 0 : static_cast<__mmask16>((1u << valid) - 1u);
}
__mmask8 mask8(Index valid) {
  return valid >= 8 ? static_cast<__mmask8>(0xFF) : valid <= 0 ? 0 : static_cast<__mmask8>((1u << valid) - 1u);
}

// In-place transpose of an 8×8 block held as 8 rows.
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// Packs `width` (≤ W) lines of a kc-long stretch into dst[p·W + line], lines ≥ width zero. Line l, step p is at
// src[l·ls + p·ps]; one of ls, ps is 1.
template <Index W>
void pack_panel(const float* src, Index ls, Index ps, Index width, Index kc, float* dst) {
  if (ls == 1) {  // each k step is a contiguous run of lines: masked copies
    if constexpr (W == 32) {
      const __mmask16 m0 = mask16(width), m1 = mask16(width - 16);
      for (Index p = 0; p < kc; ++p) {
        const float* s = src + p * ps;
        _mm512_store_ps(dst + p * 32, _mm512_maskz_loadu_ps(m0, s));
        _mm512_store_ps(dst + p * 32 + 16, _mm512_maskz_loadu_ps(m1, s + 16));
      }
    } else {
      const __mmask8 m = mask8(width);
      for (Index p = 0; p < kc; ++p) _mm256_store_ps(dst + p * 8, _mm256_maskz_loadu_ps(m, src + p * ps));
    }
  } else if (ps == 1) {  // each line is contiguous along k: 8×8 transposes
    for (Index p = 0; p < kc; p += 8) {
      const Index pr = std::min<Index>(8, kc - p);
      const __mmask8 pm = mask8(pr);
      for (Index lb = 0; lb < W; lb += 8) {
        __m256 r[8];
        for (Index q = 0; q < 8; ++q)
          r[q] = lb + q < width ? _mm256_maskz_loadu_ps(pm, src + (lb + q) * ls + p) : _mm256_setzero_ps();
        transpose8(r);
        for (Index q = 0; q < pr; ++q) _mm256_store_ps(dst + (p + q) * W + lb, r[q]);
      }
    }
  } else {  // general strides (not used by the layers)
    for (Index p = 0; p < kc; ++p)
      for (Index l = 0; l < W; ++l) dst[p * W + l] = l < width ? src[l * ls + p * ps] : 0.0f;
  }
}

// C tile (mv × nv of a 32 × 8 tile, column stride ldc) = [C +] Σ_p a_p b_pᵀ over kc packed steps.
inline void kernel(Index kc, const float* __restrict a, const float* __restrict b, float* c, Index ldc, Index mv,
                   Index nv, bool overwrite) {
  __m512 lo[NR], hi[NR];
#pragma GCC unroll 8
  for (int j = 0; j < NR; ++j) lo[j] = hi[j] = _mm512_setzero_ps();
  for (Index p = 0; p < kc; ++p) {
    const __m512 a0 = _mm512_load_ps(a), a1 = _mm512_load_ps(a + 16);
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      const __m512 bj = _mm512_set1_ps(b[j]);
      lo[j] = _mm512_fmadd_ps(a0, bj, lo[j]);
      hi[j] = _mm512_fmadd_ps(a1, bj, hi[j]);
    }
    a += MR;
    b += NR;
  }
  if (mv == MR && nv == NR) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      float* cj = c + j * ldc;
      if (overwrite) {
        _mm512_storeu_ps(cj, lo[j]);
        _mm512_storeu_ps(cj + 16, hi[j]);
      } else {
        _mm512_storeu_ps(cj, _mm512_add_ps(_mm512_loadu_ps(cj), lo[j]));
        _mm512_storeu_ps(cj + 16, _mm512_add_ps(_mm512_loadu_ps(cj + 16), hi[j]));
      }
    }
    return;
  }
  const __mmask16 m0 = mask16(mv), m1 = mask16(mv - 16);
  for (int j = 0; j < nv; ++j) {
    float* cj = c + j * ldc;
    if (overwrite) {
      _mm512_mask_storeu_ps(cj, m0, lo[j]);
      _mm512_mask_storeu_ps(cj + 16, m1, hi[j]);
    } else {
      _mm512_mask_storeu_ps(cj, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cj), lo[j]));
      _mm512_mask_storeu_ps(cj + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cj + 16), hi[j]));
    }
  }
}

void native_gemm(Index m, Index n, Index k, GemmOperand A, GemmOperand B, float* C, Index ldc, bool accumulate) {
  PackBuffers& buf = buffers();
  float* const ap = buf.a.get();
  float* const bp = buf.b.get();
  // k blocks of equal length ≤ KC_MAX: their boundaries depend on k alone (see gemm.hpp, "Results").
  const Index kblocks = (k + KC_MAX - 1) / KC_MAX;
  const Index kcb = (k + kblocks - 1) / kblocks;
  for (Index jc = 0; jc < n; jc += NC) {
    const Index nc = std::min(NC, n - jc);
    for (Index pc = 0; pc < k; pc += kcb) {
      const Index kc = std::min(kcb, k - pc);
      const bool overwrite = !accumulate && pc == 0;
      // B panels: line = column j (stride cs), step = p (stride rs).
      for (Index jr = 0; jr < nc; jr += NR)
        pack_panel<NR>(B.data + pc * B.rs + (jc + jr) * B.cs, B.cs, B.rs, std::min(NR, nc - jr), kc, bp + jr * kc);
      for (Index ic = 0; ic < m; ic += MC) {
        const Index mc = std::min(MC, m - ic);
        // A panels: line = row i (stride rs), step = p (stride cs).
        for (Index ir = 0; ir < mc; ir += MR)
          pack_panel<MR>(A.data + (ic + ir) * A.rs + pc * A.cs, A.rs, A.cs, std::min(MR, mc - ir), kc, ap + ir * kc);
        for (Index jr = 0; jr < nc; jr += NR) {
          const Index nv = std::min(NR, nc - jr);
          for (Index ir = 0; ir < mc; ir += MR)
            kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) + (jc + jr) * ldc, ldc, std::min(MR, mc - ir), nv,
                   overwrite);
        }
      }
    }
  }
}

#endif  // SPECBIAS_GEMM_AVX512

}  // namespace

bool gemm_has_native_kernel() {
#ifdef SPECBIAS_GEMM_AVX512
  return true;
#else
  return false;
#endif
}

void gemm(Index m, Index n, Index k, GemmOperand A, GemmOperand B, float* C, Index ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (Index j = 0; j < n; ++j) std::fill(C + j * ldc, C + j * ldc + m, 0.0f);
    return;
  }
#ifdef SPECBIAS_GEMM_AVX512
  int threads = 1;
#ifdef _OPENMP
  // Split the columns of C over the threads when not already inside a parallel region (batch shards) and the
  // product is worth it; each column's arithmetic is the same whichever thread computes it.
  if (!omp_in_parallel() && 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) > 4e6)
    threads = static_cast<int>(std::min<Index>(omp_get_max_threads(), n / NR));
#endif
  if (threads <= 1) {
    native_gemm(m, n, k, A, B, C, ldc, accumulate);
    return;
  }
  const Index per = ((n + threads - 1) / threads + NR - 1) / NR * NR;
#pragma omp parallel num_threads(threads)
  {
#ifdef _OPENMP
    const Index j0 = per * omp_get_thread_num();
#else
    const Index j0 = 0;
#endif
    if (j0 < n)
      native_gemm(m, std::min(per, n - j0), k, A, GemmOperand{B.data + j0 * B.cs, B.rs, B.cs}, C + j0 * ldc, ldc,
                  accumulate);
  }
#else
  eigen_gemm(m, n, k, A, B, C, ldc, accumulate);
#endif
}

}  // namespace specbias::train
