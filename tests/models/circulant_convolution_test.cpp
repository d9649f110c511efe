// Full-width circular convolution (THEORY §7), every fast Fourier-space result against an independent pixel-space
// computation: filter-entry gradient flow (dopri5 on dense circulants) vs (7.4)/(7.5); generated variances (7.7) vs
// the full-matrix PF transport (4.1)–(4.2) of the circulant W; kernel (7.6); shift augmentation (7.8) vs a dense
// one-layer model on Σ_avg; two-layer filter pairs vs the per-mode law (7.9). Data covariances are deliberately
// NOT stationary (7.3–7.4 hold for any Σ) unless a test is about stationarity.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <complex>

#include "common/errors.hpp"
#include "models/circulant_convolution.hpp"
#include "models/nested_paths.hpp"
#include "models/one_layer.hpp"
#include "models/splitmix64.hpp"
#include "support/finite_difference.hpp"
#include "support/tolerances.hpp"

using namespace specbias;
using models::ImageShape;
namespace conv = specbias::models::conv;

namespace {

const models::SamplingRange kRange{0.002, 80.0};

// Generic SPD, not stationary: Σ = B Bᵀ/N + 0.05 I from the seeded generator.
Eigen::MatrixXd generic_covariance(int N, std::uint64_t seed) {
  models::SplitMix64 rng(seed);
  const Eigen::MatrixXd B = rng.normal_matrix(N, N);
  return B * B.transpose() / N + 0.05 * Eigen::MatrixXd::Identity(N, N);
}

// A generic filter (not even, so γ(0) is complex): w_l = q δ_l0 + 0.05 sin(1 + 2.3 l).
Eigen::VectorXd generic_filter(int N, double q) {
  Eigen::VectorXd w(N);
  for (int l = 0; l < N; ++l) w[l] = 0.05 * std::sin(1.0 + 2.3 * l);
  w[0] += q;
  return w;
}

// An even filter (w_l = w_{-l} per axis): centre q plus eps on the four (or two) nearest neighbours.
Eigen::VectorXd even_filter(const ImageShape& s, double q, double eps) {
  Eigen::VectorXd w = Eigen::VectorXd::Zero(s.size());
  w[0] = q;
  w[1 % s.width] += eps;
  w[s.width - 1] += eps;
  if (s.height > 1) {
    w[s.width] += 0.5 * eps;
    w[(s.height - 1) * s.width] += 0.5 * eps;
  }
  return w;
}

solver::OdeOptions tight() { return {1e-12, 1e-14, 1e-6, 2'000'000, "test", "conv test"}; }

// λ̃_k = f_k^* Σ̃ f_k of the full-matrix PF transport (4.1)–(4.2) of the circulant W_σ = circ(w_σ(τ)).
Eigen::MatrixXd transported_covariance(const std::function<Eigen::VectorXd(double sigma)>& filter_at,
                                       const ImageShape& shape) {
  const auto t = models::pf_affine_transport(
      [&](double s, Eigen::MatrixXd& W, Eigen::VectorXd& b) {
        W = models::circulant_from_first_row(filter_at(std::exp(s)), shape);
        b.setZero();
      },
      shape.size(), kRange, {1e-12, 1e-14, 1e-4, 2'000'000, "test", "PF transport"});
  return t.covariance(kRange.sigma_max);
}

double max_rel(const Eigen::VectorXd& a, const Eigen::VectorXd& ref) {
  return ((a - ref).array().abs() / ref.array().abs()).maxCoeff();
}

}  // namespace

TEST_CASE("conv full: filter-entry gradient of section 7.2 matches central finite differences of the loss", "[fast][models][conv]") {
  for (const ImageShape shape : {ImageShape{1, 7}, ImageShape{3, 4}}) {
    INFO(models::describe(shape));
    const Eigen::MatrixXd S = generic_covariance(shape.size(), 3);
    Eigen::VectorXd w = generic_filter(shape.size(), 0.3);
    const double sigma = 0.7;
    const Eigen::VectorXd g = conv::filter_gradient(S, shape, sigma, w);
    const auto check = test::check_gradient(std::span<double>(w.data(), w.size()), std::span<const double>(g.data(), g.size()),
                                            [&] { return conv::filter_loss(S, shape, sigma, w); }, 1e-6);
    INFO("rel error " << check.rel_error());
    CHECK(check.rel_error() < test::kGradCheckRel);
  }
}

TEST_CASE("conv full: pixel-space filter flow equals the Fourier closed form 7.4 with the N-fold factor 7.5", "[fast][models][conv]") {
  const std::vector<double> taus{0.0, 0.01, 0.05, 0.2, 1.0};
  const double eta = 0.05;
  for (const ImageShape shape : {ImageShape{1, 8}, ImageShape{3, 4}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    const Eigen::MatrixXd S = generic_covariance(N, 17);
    const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
    const Eigen::VectorXd w0 = generic_filter(N, 0.2);
    for (double sigma : {0.3, 1.5}) {
      INFO("sigma " << sigma);
      for (auto coords : {conv::Coordinates::filter_entries, conv::Coordinates::spectral}) {
        const Eigen::MatrixXd numeric = conv::filter_flow_numeric(S, shape, sigma, eta, w0, taus, coords, tight());
        double err = 0, err_wrong_factor = 0;
        const auto other = coords == conv::Coordinates::spectral ? conv::Coordinates::filter_entries
                                                                  : conv::Coordinates::spectral;
        for (std::size_t j = 0; j < taus.size(); ++j) {
          const auto jj = static_cast<Eigen::Index>(j);
          err = std::max(err, (conv::filter_closed_form(s, shape, sigma, eta, taus[j], w0, coords) - numeric.col(jj))
                                  .cwiseAbs().maxCoeff());
          err_wrong_factor = std::max(
              err_wrong_factor,
              (conv::filter_closed_form(s, shape, sigma, eta, taus[j], w0, other) - numeric.col(jj)).cwiseAbs().maxCoeff());
        }
        INFO("max |w_closed - w_numeric| = " << err << ", with the other factor " << err_wrong_factor);
        CHECK(err < test::kClosedVsGradientFlowAbs);
        CHECK(err_wrong_factor > 1e-3);  // the factor N is real, not a convention
      }
    }
  }
}

TEST_CASE("conv full: spectral-coordinate filter flow equals a dense one-layer flow on stationary data 7.5", "[fast][models][conv]") {
  // On circulant Σ the Fourier modes are the PCs, and a dense W(0) = circ(w0) stays circulant under (3.2):
  // its first row must follow the spectral-coordinate filter flow (rate 2η(σ²+s_k), no factor N).
  const ImageShape shape{2, 5};
  const Eigen::MatrixXd S = conv::stationary_image_covariance(shape, 0.6);
  const auto data = models::DataMoments::from_covariance(S);
  const Eigen::VectorXd w0 = generic_filter(shape.size(), 0.1);
  const models::one_layer::Params init{models::circulant_from_first_row(w0, shape), Eigen::VectorXd::Zero(shape.size())};
  const std::vector<double> taus{0.0, 0.1, 0.7, 3.0};
  const double sigma = 0.8, eta = 0.2;
  const Eigen::MatrixXd numeric =
      conv::filter_flow_numeric(S, shape, sigma, eta, w0, taus, conv::Coordinates::spectral, tight());
  for (std::size_t j = 0; j < taus.size(); ++j) {
    const auto dense = models::one_layer::closed_form_flow(data, sigma, eta, taus[j], init);
    CHECK((dense.W.row(0).transpose() - numeric.col(static_cast<Eigen::Index>(j))).cwiseAbs().maxCoeff() <
          test::kClosedVsGradientFlowAbs);
    CHECK(models::is_stationary(dense.W, shape, 1e-12));
  }
}

TEST_CASE("conv full: generated variances 7.7 equal the full-matrix PF transport of the circulant filter", "[fast][models][conv]") {
  const double eta = 0.02;
  for (const ImageShape shape : {ImageShape{1, 8}, ImageShape{3, 4}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    const Eigen::MatrixXd S = generic_covariance(N, 29);
    const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
    const Eigen::VectorXd w0 = generic_filter(N, 0.3);  // complex γ(0): only Re γ_k(0) may matter (7.7)
    const Eigen::VectorXd Q = models::filter_multipliers(w0, shape).real();
    const std::vector<double> taus{0.0, 0.05, 1.0, 20.0};
    const Eigen::MatrixXd closed = conv::generated_variance_grid(s, Q, shape, eta, taus, kRange);
    for (std::size_t j = 0; j < taus.size(); ++j) {
      INFO("tau " << taus[j]);
      const Eigen::MatrixXd cov = transported_covariance(
          [&](double sigma) {
            return conv::filter_closed_form(s, shape, sigma, eta, taus[j], w0, conv::Coordinates::filter_entries);
          },
          shape);
      // The output of any circular convolution is a stationary process (7.6) ...
      CHECK(models::is_stationary(cov, shape, 1e-8));
      const Eigen::VectorXd from_pf = models::fourier_mode_variances(cov, shape);
      const Eigen::VectorXd row = closed.row(static_cast<Eigen::Index>(j)).transpose();
      INFO("max rel error " << max_rel(row, from_pf));
      CHECK(max_rel(row, from_pf) < test::kClosedVsPfTransitionRel);
      // ... whose covariance kernel C(Δ) = Σ̃_{0,Δ} is the inverse DFT of λ̃ (7.6).
      const Eigen::VectorXd kernel = models::covariance_kernel(row, shape);
      CHECK((kernel - cov.row(0).transpose()).cwiseAbs().maxCoeff() < test::kClosedVsPfTransitionRel * kernel[0]);
    }
  }
}

TEST_CASE("conv full: shift augmentation 7.8 - the conv model equals a dense one-layer model on the shift-averaged covariance", "[fast][models][conv]") {
  const double eta = 0.05, Q = 0.1;
  for (const ImageShape shape : {ImageShape{1, 9}, ImageShape{2, 4}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    const Eigen::MatrixXd S = generic_covariance(N, 41);
    const Eigen::MatrixXd S_avg = conv::shift_augmented_covariance(S, shape);  // literal average over N shifts
    CHECK(models::is_stationary(S_avg, shape, 1e-12));
    const auto dense = models::DataMoments::from_covariance(S_avg);
    const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
    const Eigen::MatrixXcd F = models::dense_fourier_basis(shape);
    const std::vector<double> taus{0.0, 0.3, 5.0, 1e9};
    const Eigen::MatrixXd conv_grid = conv::generated_variance_grid(s, Eigen::VectorXd::Constant(N, Q), shape, eta, taus, kRange);
    // The dense model's generated covariance U diag(λ̃(λ)) Uᵀ at rate Nη (delta start W(0) = Q I is aligned with any
    // basis) against the conv model's F diag(λ̃) F^*: basis-free, so degenerate pairs s_k = s_{−k} do not matter.
    const Eigen::MatrixXd dense_grid = models::one_layer_generated_variance_grid(
        dense.eigenvalues, Eigen::VectorXd::Constant(N, Q), N * eta, taus, kRange);
    for (std::size_t j = 0; j < taus.size(); ++j) {
      const auto jj = static_cast<Eigen::Index>(j);
      const Eigen::MatrixXd cov_dense =
          dense.eigenvectors * dense_grid.row(jj).transpose().asDiagonal() * dense.eigenvectors.transpose();
      const Eigen::MatrixXd cov_conv =
          (F * conv_grid.row(jj).transpose().cast<std::complex<double>>().asDiagonal() * F.adjoint()).real();
      CHECK((cov_dense - cov_conv).cwiseAbs().maxCoeff() < 1e-10 * cov_conv.cwiseAbs().maxCoeff());
    }
    // Converged (τ → ∞): (4.8) with s_k = the Gaussian fit of the shift-augmented data.
    for (int k = 0; k < N; ++k)
      CHECK(conv_grid(3, k) == Approx(models::converged_generated_variance(s[k], kRange)).epsilon(1e-12));
  }
}

TEST_CASE("conv full: two-layer filter-pair flow follows the per-mode law 7.9 of section 6.1 with N eta", "[fast][models][conv]") {
  const double eta = 0.02;
  for (const ImageShape shape : {ImageShape{1, 7}, ImageShape{3, 3}}) {
    INFO(models::describe(shape));
    const int N = shape.size();
    const Eigen::MatrixXd S = generic_covariance(N, 53);
    const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
    const conv::FilterPair init{even_filter(shape, 0.4, 0.05), even_filter(shape, 0.6, -0.03)};
    const Eigen::VectorXd a0 = models::filter_multipliers(init.w1, shape).real();
    const Eigen::VectorXd b0 = models::filter_multipliers(init.w2, shape).real();
    const std::vector<double> taus{0.0, 0.1, 0.5, 2.0};
    for (double sigma : {0.4, 1.2}) {
      const auto numeric = conv::filter_pair_flow_numeric(S, shape, sigma, eta, init, taus, tight());
      double err = 0, imag = 0, drift = 0;
      for (std::size_t j = 0; j < taus.size(); ++j) {
        const auto [a, b] = conv::two_layer_multipliers(s, shape, sigma, eta, taus[j], a0, b0);
        const Eigen::VectorXcd g1 = models::filter_multipliers(numeric[j].w1, shape);
        const Eigen::VectorXcd g2 = models::filter_multipliers(numeric[j].w2, shape);
        err = std::max({err, (g1.real() - a).cwiseAbs().maxCoeff(), (g2.real() - b).cwiseAbs().maxCoeff()});
        imag = std::max({imag, g1.imag().cwiseAbs().maxCoeff(), g2.imag().cwiseAbs().maxCoeff()});
        // (6.2) per mode: a² − b² conserved.
        drift = std::max(drift, ((g1.real().array().square() - g2.real().array().square()) -
                                 (a0.array().square() - b0.array().square())).abs().maxCoeff());
      }
      INFO("sigma " << sigma << ": max |gamma_numeric - (6.4)| = " << err << ", max |Im| = " << imag);
      CHECK(err < test::kChainVsModeAbs);
      CHECK(imag < test::kChainVsModeAbs);
      CHECK(drift < test::kConservedDrift);
    }
  }
}

TEST_CASE("conv full: Fourier form of the two-layer filter gradient 7.9 holds for non-even filters", "[fast][models][conv]") {
  // fft(∂L/∂w1)_k = 2N conj(γ2_k)[(σ²+s_k)γ_k − s_k], and 1↔2, for any Σ and complex multipliers.
  const ImageShape shape{2, 3};
  const int N = shape.size();
  const Eigen::MatrixXd S = generic_covariance(N, 61);
  const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
  const conv::FilterPair f{generic_filter(N, 0.5), generic_filter(N, -0.2).reverse()};
  const double sigma = 0.9;
  const auto g = conv::filter_pair_gradient(S, shape, sigma, f);
  const Eigen::VectorXcd g1 = models::filter_multipliers(f.w1, shape), g2 = models::filter_multipliers(f.w2, shape);
  const Eigen::VectorXcd G1 = models::filter_multipliers(g.w1, shape), G2 = models::filter_multipliers(g.w2, shape);
  for (int k = 0; k < N; ++k) {
    const std::complex<double> residual = (sigma * sigma + s[k]) * g1[k] * g2[k] - s[k];
    CHECK(std::abs(G1[k] - 2.0 * N * std::conj(g2[k]) * residual) < 1e-12);
    CHECK(std::abs(G2[k] - 2.0 * N * std::conj(g1[k]) * residual) < 1e-12);
  }
}

TEST_CASE("conv full: two-layer generated variance via the Fourier-mode problem equals the PF transport of W2 W1", "[fast][models][conv]") {
  const ImageShape shape{1, 6};
  const int N = shape.size();
  const double eta = 0.02;
  const Eigen::MatrixXd S = generic_covariance(N, 71);
  const Eigen::VectorXd s = models::fourier_mode_variances(S, shape);
  const conv::FilterPair init{even_filter(shape, 0.5, 0.1), even_filter(shape, 0.3, 0.05)};
  const Eigen::VectorXcd a0 = models::filter_multipliers(init.w1, shape), b0 = models::filter_multipliers(init.w2, shape);
  const auto p = conv::fourier_mode_problem(s, shape, eta, kRange, a0, b0);
  const std::vector<double> taus{0.0, 0.2, 3.0};
  const auto quad = models::quadrature_trajectory(p, taus);
  for (std::size_t j = 0; j < taus.size(); ++j) {
    const Eigen::MatrixXd cov = transported_covariance(
        [&](double sigma) {
          const auto [a, b] = conv::two_layer_multipliers(s, shape, sigma, eta, taus[j], a0.real(), b0.real());
          return models::filter_from_multipliers(a.cwiseProduct(b).cast<std::complex<double>>(), shape);
        },
        shape);
    const Eigen::VectorXd from_pf = models::fourier_mode_variances(cov, shape);
    CHECK(max_rel(quad.variance.row(static_cast<Eigen::Index>(j)).transpose(), from_pf) < test::kClosedVsPfTransitionRel);
  }
  // Odd (non-even) filters have complex multipliers, outside the real per-mode law: a clear DataError.
  CHECK_THROWS_WITH(conv::fourier_mode_problem(s, shape, eta, kRange, models::filter_multipliers(generic_filter(N, 0.5), shape),
                                               b0),
                    Catch::Contains("even filters"));
}

TEST_CASE("conv full: the one-layer Fourier-mode problem reproduces 7.7 through the nested engine", "[fast][models][conv]") {
  const ImageShape shape{4, 4};
  const Eigen::VectorXd s = models::fourier_mode_variances(conv::stationary_image_covariance(shape, 0.5), shape);
  const Eigen::VectorXcd gamma0 = models::filter_multipliers(even_filter(shape, 0.2, 0.02), shape);
  const auto p = conv::fourier_mode_problem(s, shape, 0.1, kRange, gamma0);
  const std::vector<double> taus{0.0, 0.01, 0.3, 10.0};
  const auto closed = models::closed_form_trajectory(p, taus);
  const Eigen::MatrixXd grid = conv::generated_variance_grid(s, gamma0.real(), shape, 0.1, taus, kRange);
  // Wiring only (both sides evaluate (4.9)): the problem carries λ = s_k, η = Nη and Q_k = Re γ_k(0).
  CHECK(((closed.variance - grid).array().abs() / grid.array().abs()).maxCoeff() < test::kRoundoff);
  // The independent check: the nested engine integrates the per-mode flow and the PF-ODE numerically.
  models::NestedOptions o;
  o.outer = models::OuterMethod::exponential;
  const auto nested = models::nested_modewise(p, taus, o);
  CHECK(((nested.variance - grid).array().abs() / grid.array().abs()).maxCoeff() < test::kClosedVsNestedRel);
}

TEST_CASE("conv full: stationary-only fast eigenvalues reject a non-stationary covariance with a clear message", "[fast][models][conv]") {
  const ImageShape shape{2, 4};
  const Eigen::MatrixXd St = conv::stationary_image_covariance(shape, 0.4);
  CHECK((conv::circulant_eigenvalues(St, shape) - models::fourier_mode_variances(St, shape)).cwiseAbs().maxCoeff() <
        test::kRoundoff);
  try {
    conv::circulant_eigenvalues(generic_covariance(8, 5), shape);
    FAIL("expected a DataError");
  } catch (const DataError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK_THAT(msg, Catch::Contains("not stationary") && Catch::Contains("2x4") && Catch::Contains("(7.3)"));
  }
}
