// Local patch convolution, THEORY.md §8: every closed form against an independent computation —
// T (8.2) from Σ vs from samples of patches (8.1) vs from the autocovariance; (8.3) vs the pixel-space loss (2.2);
// (8.4) vs two dopri5 flows (patch space and brute-force pixel space); (8.9) vs the quadrature (8.8) vs the
// full-matrix PF transport (4.1)–(4.2) of the circulant W; the §8.3 limits; the K = N reduction (8.10) to §7.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "models/conv_patch.hpp"
#include "models/pf_ode.hpp"
#include "models/splitmix64.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using namespace specbias::models;

namespace {

// A non-stationary covariance with a decaying spectrum: Σ = B Bᵀ/N + 0.05 I, B's columns scaled by 1/(1+m).
Eigen::MatrixXd random_covariance(int n, std::uint64_t seed) {
  SplitMix64 rng(seed);
  Eigen::MatrixXd B = rng.normal_matrix(n, n);
  for (int m = 0; m < n; ++m) B.col(m) /= (1.0 + m);
  Eigen::MatrixXd S = B * B.transpose() / n;
  S.diagonal().array() += 0.05;
  return S;
}

// Unitary DFT vectors f_k(i) = N^{-1/2} e^{−2πi k·i} (1-D or 2-D, mode k = ky·W + kx), as dense N×N columns.
Eigen::MatrixXcd dense_dft(const PatchGeometry& g) {
  const int N = g.pixels();
  Eigen::MatrixXcd F(N, N);
  for (int i = 0; i < N; ++i)
    for (int k = 0; k < N; ++k) {
      const double ph = 2.0 * std::numbers::pi *
                        (static_cast<double>(i / g.width) * (k / g.width) / g.height +
                         static_cast<double>(i % g.width) * (k % g.width) / g.width);
      F(i, k) = std::polar(1.0 / std::sqrt(static_cast<double>(N)), -ph);
    }
  return F;
}

// (7.3) by dense DFT: s_k = f_k^* Σ f_k.
Eigen::VectorXd dense_fourier_variances(const Eigen::MatrixXd& S, const PatchGeometry& g) {
  const Eigen::MatrixXcd F = dense_dft(g);
  return (F.adjoint() * S.cast<std::complex<double>>() * F).diagonal().real();
}

// (8.2) t_ℓ = (1/N) Σ_i Σ_{i, i+ℓ} straight from its definition (cyclic 2-D lag ℓ = (ly, lx)).
Eigen::VectorXd direct_autocovariance(const Eigen::MatrixXd& S, const PatchGeometry& g) {
  const int N = g.pixels();
  Eigen::VectorXd t = Eigen::VectorXd::Zero(N);
  for (int l = 0; l < N; ++l)
    for (int i = 0; i < N; ++i) {
      const int j = ((i / g.width + l / g.width) % g.height) * g.width + (i % g.width + l % g.width) % g.width;
      t(l) += S(i, j) / N;
    }
  return t;
}

double max_rel(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  return ((a - b).array().abs() / b.array().abs()).maxCoeff();
}

Eigen::VectorXd random_filter(int taps, std::uint64_t seed, double centre, double spread) {
  SplitMix64 rng(seed);
  Eigen::VectorXd w = spread * rng.normals(taps);
  w(taps / 2) += centre;
  return w;
}

const PatchGeometry kLine{1, 12, 5};     // N = 12, K = 5
const PatchGeometry kImage{6, 5, 3};     // 6×5 image, 3×3 kernel (non-square on purpose)

}  // namespace

TEST_CASE("conv_patch: patch extractor gives D(x) = P_r(x) transposed times w = W x for the circulant W (8.1)", "[fast][models][conv_patch]") {
  for (const PatchGeometry& g : {kLine, kImage}) {
    SplitMix64 rng(7);
    const Eigen::VectorXd x = rng.normals(g.pixels());
    const Eigen::VectorXd w = rng.normals(g.taps());
    const Eigen::MatrixXd P = extract_patches(x, g);
    REQUIRE(P.rows() == g.taps());
    REQUIRE(P.cols() == g.pixels());
    REQUIRE((P.transpose() * w - circulant_from_taps(w, g) * x).cwiseAbs().maxCoeff() < test::kRoundoff);
    // The centre row of P is x itself.
    REQUIRE((P.row(g.centre()).transpose() - x).cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("conv_patch: patch covariance from sigma equals the patch second moment and the Toeplitz assembly (8.2)", "[fast][models][conv_patch]") {
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 11);
    const Eigen::MatrixXd T = patch_covariance(S, g);
    // Independent: x = L z with Σ = L Lᵀ, so E[P(x) P(x)ᵀ] = Σ_m P(L e_m) P(L e_m)ᵀ exactly (P is linear in x).
    const Eigen::MatrixXd L = S.llt().matrixL();
    Eigen::MatrixXd second = Eigen::MatrixXd::Zero(g.taps(), g.taps());
    for (int m = 0; m < g.pixels(); ++m) {
      const Eigen::MatrixXd P = extract_patches(L.col(m), g);
      second += P * P.transpose();
    }
    REQUIRE((T - second / g.pixels()).cwiseAbs().maxCoeff() < test::kRoundoff);
    // Toeplitz / block-Toeplitz from the directly computed t_ℓ.
    const Eigen::MatrixXd T2 = patch_covariance_from_autocovariance(direct_autocovariance(S, g), g);
    REQUIRE((T - T2).cwiseAbs().maxCoeff() < test::kRoundoff);
    // Centre entry = t_0 = tr Σ / N.
    REQUIRE(T(g.centre(), g.centre()) == Approx(S.trace() / g.pixels()).epsilon(1e-14));
  }
  // 1-D: constant along diagonals.
  const Eigen::MatrixXd T = patch_covariance(random_covariance(kLine.pixels(), 3), kLine);
  for (int p = 1; p < kLine.taps(); ++p)
    for (int q = 1; q < kLine.taps(); ++q) REQUIRE(std::abs(T(p, q) - T(p - 1, q - 1)) < test::kRoundoff);
}

TEST_CASE("conv_patch: loss (8.3) equals the pixel-space loss (2.2) of the circulant filter and its gradient matches finite differences", "[fast][models][conv_patch]") {
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 5);
    const Eigen::MatrixXd T = patch_covariance(S, g);
    Eigen::VectorXd w = random_filter(g.taps(), 9, 0.4, 0.3);
    for (double sigma : {0.1, 0.7, 3.0}) {
      const Eigen::MatrixXd W = circulant_from_taps(w, g);
      Eigen::MatrixXd noised = S;
      noised.diagonal().array() += sigma * sigma;
      const double pixel = (W * noised * W.transpose() - 2.0 * W * S + S).trace();  // (2.2), μ = 0, b = 0
      const double patch = patch_loss(w, T, g.pixels(), sigma, S.trace());
      REQUIRE(patch == Approx(pixel).epsilon(1e-13));
      const Eigen::VectorXd grad = patch_loss_gradient(w, T, g.pixels(), sigma);
      const double h = 1e-6;
      for (int p = 0; p < g.taps(); ++p) {
        Eigen::VectorXd wp = w, wm = w;
        wp(p) += h;
        wm(p) -= h;
        const double fd = (patch_loss(wp, T, g.pixels(), sigma, S.trace()) -
                           patch_loss(wm, T, g.pixels(), sigma, S.trace())) / (2 * h);
        REQUIRE(std::abs(fd - grad(p)) < test::kFiniteDifferenceAbs * std::max(1.0, grad.cwiseAbs().maxCoeff()));
      }
    }
  }
}

TEST_CASE("conv_patch: optimum (8.5) is even and the minimiser of (8.3) and gives the minimum loss (8.6)", "[fast][models][conv_patch]") {
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 21);  // non-stationary on purpose
    const Eigen::MatrixXd T = patch_covariance(S, g);
    const PatchConvolution pc(T, g, Eigen::VectorXd::Zero(g.taps()), 1.0);
    for (double sigma : {0.05, 0.5, 4.0}) {
      const Eigen::VectorXd w_star = patch_optimum(T, sigma);
      // (T + σ²I)^{-1} T e_0 by an LU solve, independent of the Cholesky and eigenbasis forms.
      Eigen::MatrixXd A = T;
      A.diagonal().array() += sigma * sigma;
      Eigen::VectorXd e0 = Eigen::VectorXd::Zero(g.taps());
      e0(g.centre()) = 1.0;
      REQUIRE((w_star - A.partialPivLu().solve(T * e0)).cwiseAbs().maxCoeff() < test::kRoundoff);
      REQUIRE((w_star - pc.optimum(sigma)).cwiseAbs().maxCoeff() < test::kRoundoff);
      // Even: w_a = w_{−a}, i.e. tap p equals tap taps−1−p (point reflection in 2-D).
      REQUIRE((w_star - w_star.reverse()).cwiseAbs().maxCoeff() < test::kRoundoff);
      // Minimiser: zero gradient and every finite step raises the loss by the quadratic amount N hᵀ(T+σ²I)h.
      REQUIRE(patch_loss_gradient(w_star, T, g.pixels(), sigma).cwiseAbs().maxCoeff() < test::kRoundoff * 100);
      const double L_star = patch_loss(w_star, T, g.pixels(), sigma, S.trace());
      for (int p = 0; p < g.taps(); ++p)
        for (double h : {1e-3, -1e-3}) {
          Eigen::VectorXd wp = w_star;
          wp(p) += h;
          const double rise = patch_loss(wp, T, g.pixels(), sigma, S.trace()) - L_star;
          REQUIRE(rise > 0);
          REQUIRE(rise == Approx(g.pixels() * h * h * A(p, p)).epsilon(1e-6));
        }
      REQUIRE(patch_min_loss(T, g.pixels(), sigma, S.trace()) == Approx(L_star).epsilon(1e-13));
      // (8.6) never beats the dense Bayes loss (2.5): a patch filter is a constrained linear denoiser.
      const Eigen::VectorXd lam = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(S).eigenvalues();
      const double dense_min = (sigma * sigma * lam.array() / (lam.array() + sigma * sigma)).sum();
      REQUIRE(L_star >= dense_min);
    }
  }
}

TEST_CASE("conv_patch: closed-form filter flow (8.4) matches dopri5 in patch space and brute-force pixel space", "[fast][models][conv_patch]") {
  solver::OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-14;
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 31);
    const Eigen::MatrixXd T = patch_covariance(S, g);
    const Eigen::VectorXd w0 = random_filter(g.taps(), 4, 0.2, 0.2);
    const double eta = 0.3;
    const PatchConvolution pc(T, g, w0, eta);
    for (double sigma : {0.05, 0.4, 1.5})
      for (double tau : {0.002, 0.05, 0.5}) {
        const Eigen::VectorXd closed = pc.filter(sigma, tau);
        const Eigen::VectorXd patch = patch_filter_flow_numeric(T, g.pixels(), eta, sigma, w0, tau, opt);
        const Eigen::VectorXd pixel = pixel_filter_flow_numeric(S, g, eta, sigma, w0, tau, opt);
        INFO("dims " << g.dims() << " sigma " << sigma << " tau " << tau);
        REQUIRE((closed - patch).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
        REQUIRE((closed - pixel).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
      }
    // Converges to (8.5) along T's eigenvectors (rates 2Nη(σ²+ρ_j)); τ = 0 returns w(0).
    REQUIRE((pc.filter(0.4, 0.0) - w0).cwiseAbs().maxCoeff() < test::kRoundoff);
    REQUIRE((pc.filter(0.4, 1e4) - patch_optimum(T, 0.4)).cwiseAbs().maxCoeff() < test::kRoundoff);
  }
}

TEST_CASE("conv_patch: generated variance closed form (8.9) agrees with the quadrature (8.8)", "[fast][models][conv_patch]") {
  const SamplingRange range;
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd T = patch_covariance(random_covariance(g.pixels(), 41), g);
    const PatchConvolution pc(T, g, random_filter(g.taps(), 8, 0.3, 0.15), 0.5);
    // Σ_j α_kj = Re φ_kᵀ e_0 = 1 cancels the ln σ terms of (8.9).
    REQUIRE((pc.alpha().rowwise().sum().array() - 1.0).abs().maxCoeff() < test::kRoundoff);
    for (double tau : {1e-4, 0.01, 0.3, 5.0}) {
      const Eigen::VectorXd closed = pc.generated_variance(tau, range);
      Eigen::VectorXd quad(g.pixels());
      for (int k = 0; k < g.pixels(); ++k) {
        quad(k) = pc.generated_variance_quadrature(k, tau, range);
        // The one-mode evaluator used for root finding is the same formula, one row of it.
        REQUIRE(pc.generated_variance_mode(k, tau, range) == Approx(closed(k)).epsilon(1e-12));  // exp amplifies round-off in 2ΔH
      }
      INFO("dims " << g.dims() << " tau " << tau);
      REQUIRE(max_rel(closed, quad) < test::kClosedVsQuadratureRel);
    }
  }
}

TEST_CASE("conv_patch: generated variance closed form (8.9) agrees with the full-matrix PF transport of the circulant W", "[fast][models][conv_patch]") {
  const SamplingRange range;
  solver::OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-16;
  // 4×5: a non-square image, so a swapped ky/kx or H/W in the Fourier convention cannot pass.
  for (const PatchGeometry& g : {PatchGeometry{1, 8, 3}, PatchGeometry{4, 5, 3}}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 51);
    const PatchConvolution pc(patch_covariance(S, g), g, random_filter(g.taps(), 2, 0.5, 0.1), 0.5);
    const Eigen::MatrixXcd F = dense_dft(g);
    for (double tau : {0.001, 0.1, 3.0}) {
      const auto transport = pf_affine_transport(
          [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
            W = circulant_from_taps(pc.filter(std::exp(s), tau), g);
            b.setZero();
          },
          g.pixels(), range, opt);
      // (7.6): Σ̃ is circulant; its Fourier diagonal holds λ̃_k and everything off the diagonal vanishes.
      const Eigen::MatrixXcd M = F.adjoint() * transport.covariance(range.sigma_max).cast<std::complex<double>>() * F;
      const Eigen::VectorXd full = M.diagonal().real();
      INFO("dims " << g.dims() << " tau " << tau);
      REQUIRE(max_rel(pc.generated_variance(tau, range), full) < test::kClosedVsPfTransitionRel);
      const double off = (M - Eigen::MatrixXcd(M.diagonal().asDiagonal())).cwiseAbs().maxCoeff();
      REQUIRE(off < test::kClosedVsPfTransitionRel * full.maxCoeff());
    }
  }
}

TEST_CASE("conv_patch: generated variance limits at tau = 0 and tau to infinity (8.3)", "[fast][models][conv_patch]") {
  const SamplingRange range;
  for (const PatchGeometry& g : {kLine, kImage}) {
    const Eigen::MatrixXd T = patch_covariance(random_covariance(g.pixels(), 61), g);
    const Eigen::VectorXd w0 = random_filter(g.taps(), 6, 0.4, 0.1);
    const PatchConvolution pc(T, g, w0, 1.0);
    // τ = 0: σ_T^{2 Re γ_k(0)} σ_0^{2(1 − Re γ_k(0))}, γ_k(0) the eigenvalue of the pixel-space circulant on the
    // dense DFT vector f_k (independent of the multiplier code (8.7), which must agree with it).
    const Eigen::MatrixXcd F = dense_dft(g);
    const Eigen::VectorXcd gamma0 =
        (F.adjoint() * circulant_from_taps(w0, g).cast<std::complex<double>>() * F).diagonal();
    REQUIRE((fourier_multipliers(w0, g) - gamma0).cwiseAbs().maxCoeff() < test::kRoundoff);
    const Eigen::VectorXd q = gamma0.real();
    Eigen::VectorXd expect0(g.pixels());
    for (int k = 0; k < g.pixels(); ++k)
      expect0(k) = std::pow(range.sigma_max, 2 * q(k)) * std::pow(range.sigma_min, 2 * (1 - q(k)));
    REQUIRE(max_rel(pc.generated_variance(0.0, range), expect0) < test::kRoundoff * 10);
    // The c → 0 limit is continuous: (8.9) at a tiny τ approaches it (the deviation is O(c·σ_T²)).
    REQUIRE(max_rel(pc.generated_variance(1e-12, range), expect0) < 1e-6);
    // τ → ∞: the closed-form limit equals the quadrature (8.8) of the optimum's multiplier (independent).
    const Eigen::VectorXd conv = pc.converged_variance(range);
    const Eigen::MatrixXd C = fourier_cosines(g);
    for (int k = 0; k < g.pixels(); ++k) {
      const double quad = generated_variance_quadrature(
          [&](double sigma) { return C.row(k).dot(patch_optimum(T, sigma)); }, range);
      REQUIRE(conv(k) == Approx(quad).epsilon(test::kClosedVsQuadratureRel));
    }
    REQUIRE(max_rel(pc.generated_variance(1e6, range), conv) < test::kClosedVsQuadratureRel);
  }
}

TEST_CASE("conv_patch: K = N reduces to the full-width circulant result (8.10) with s_k (7.3)", "[fast][models][conv_patch]") {
  const SamplingRange range;
  for (const PatchGeometry& g : {PatchGeometry{1, 9, 9}, PatchGeometry{5, 5, 5}}) {
    const Eigen::MatrixXd S = random_covariance(g.pixels(), 71);
    const Eigen::MatrixXd T = patch_covariance(S, g);
    // T is then the (block-)circulant shift-averaged covariance: its eigenvalues are the s_k.
    const Eigen::VectorXd s = dense_fourier_variances(S, g);
    Eigen::VectorXd rho = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(T).eigenvalues();
    Eigen::VectorXd s_sorted = s;
    std::sort(s_sorted.data(), s_sorted.data() + s_sorted.size());
    REQUIRE((rho - s_sorted).cwiseAbs().maxCoeff() < test::kRoundoff);
    const Eigen::VectorXd w0 = random_filter(g.taps(), 13, 0.3, 0.1);
    const double eta = 0.7;
    const PatchConvolution pc(T, g, w0, eta);
    const Eigen::MatrixXcd F = dense_dft(g);  // Re γ_k(0) from the pixel-space circulant, as in the limits test
    const Eigen::VectorXd q =
        (F.adjoint() * circulant_from_taps(w0, g).cast<std::complex<double>>() * F).diagonal().real();
    for (double tau : {0.0, 1e-3, 0.05, 2.0}) {
      const Eigen::VectorXd patch = pc.generated_variance(tau, range);
      Eigen::VectorXd full(g.pixels());
      for (int k = 0; k < g.pixels(); ++k)  // (7.7): (4.6) with λ → s_k, η → Nη, Q_k → Re γ_k(0)
        full(k) = one_layer_generated_variance(s(k), q(k), g.pixels() * eta, tau, range);
      INFO("dims " << g.dims() << " tau " << tau);
      REQUIRE(max_rel(patch, full) < test::kClosedVsQuadratureRel);
    }
  }
}

TEST_CASE("conv_patch: bad geometry and inputs are rejected with the allowed range", "[fast][models][conv_patch]") {
  REQUIRE_THROWS_WITH(check_patch_geometry({1, 8, 4}), Catch::Contains("odd"));
  REQUIRE_THROWS_WITH(check_patch_geometry({1, 8, 9}), Catch::Contains("exceeds the image side 8"));
  REQUIRE_THROWS_WITH(check_patch_geometry({6, 4, 5}), Catch::Contains("exceeds the image side 4"));
  REQUIRE_NOTHROW(check_patch_geometry({1, 9, 9}));
  const Eigen::MatrixXd T = patch_covariance(random_covariance(8, 1), {1, 8, 3});
  REQUIRE_THROWS_WITH(PatchConvolution(T, {1, 8, 3}, Eigen::VectorXd::Zero(3), 0.0), Catch::Contains("eta"));
  REQUIRE_THROWS_WITH(PatchConvolution(-T, {1, 8, 3}, Eigen::VectorXd::Zero(3), 1.0),
                      Catch::Contains("positive semi-definite"));
  REQUIRE_THROWS_WITH(patch_covariance(Eigen::MatrixXd::Identity(7, 7), {1, 8, 3}), Catch::Contains("N x N"));
}

TEST_CASE("conv_patch: one integration along a tau list equals separate integrations to each tau", "[fast][models][conv_patch]") {
  const PatchGeometry g{1, 10, 3};
  const Eigen::MatrixXd S = random_covariance(10, 17);
  const Eigen::MatrixXd T = patch_covariance(S, g);
  const Eigen::VectorXd w0 = random_filter(3, 5, 0.1, 0.2);
  solver::OdeOptions opt;
  opt.rtol = 1e-12;
  opt.atol = 1e-14;
  const std::vector<double> taus{0.0, 0.01, 0.1, 0.4};
  const Eigen::MatrixXd patch = patch_filter_flow_numeric(T, 10, 0.5, 0.3, w0, taus, opt);
  const Eigen::MatrixXd pixel = pixel_filter_flow_numeric(S, g, 0.5, 0.3, w0, taus, opt);
  const PatchConvolution pc(T, g, w0, 0.5);
  for (std::size_t j = 0; j < taus.size(); ++j) {
    const auto jj = static_cast<Eigen::Index>(j);
    REQUIRE((patch.col(jj) - pc.filter(0.3, taus[j])).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
    REQUIRE((pixel.col(jj) - pc.filter(0.3, taus[j])).cwiseAbs().maxCoeff() < test::kClosedVsGradientFlowAbs);
  }
  const std::vector<double> backwards{0.1, 0.01};
  REQUIRE_THROWS_WITH(patch_filter_flow_numeric(T, 10, 0.5, 0.3, w0, backwards, opt), Catch::Contains("non-decreasing"));
}
