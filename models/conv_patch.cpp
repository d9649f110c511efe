#include "models/conv_patch.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <stdexcept>
#include <sstream>
#include <string>

#include "common/errors.hpp"
#include "models/fourier_spectrum.hpp"

#include "models/special_functions.hpp"
#include "solver/dense_integrator.hpp"
#include "solver/nested.hpp"

namespace specbias::models {

namespace {
int wrap(int i, int n) { return ((i % n) + n) % n; }

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("conv_patch: " + what);
}
}  // namespace

std::pair<int, int> PatchGeometry::offset(int p) const {
  const int r = radius();
  if (dims() == 1) return {0, p - r};
  return {p / kernel - r, p % kernel - r};
}

int PatchGeometry::shifted(int i, int p) const {
  const auto [ay, ax] = offset(p);
  const int iy = i / width, ix = i % width;
  return wrap(iy + ay, height) * width + wrap(ix + ax, width);
}

void check_patch_geometry(const PatchGeometry& g) {
  require(g.width >= 1 && g.height >= 1, "image shape must be positive, got " + std::to_string(g.height) + " x " +
                                             std::to_string(g.width));
  require(g.kernel >= 1 && g.kernel % 2 == 1, "kernel K must be odd and >= 1, got " + std::to_string(g.kernel));
  const int side = g.dims() == 2 ? std::min(g.height, g.width) : g.width;
  require(g.kernel <= side, "kernel K = " + std::to_string(g.kernel) + " exceeds the image side " +
                                std::to_string(side) + " (allowed 1 <= K <= side, K odd)");
}

Eigen::MatrixXd extract_patches(const Eigen::VectorXd& x, const PatchGeometry& g) {
  check_patch_geometry(g);
  require(x.size() == g.pixels(), "signal length differs from the image size");
  Eigen::MatrixXd P(g.taps(), g.pixels());
  for (int i = 0; i < g.pixels(); ++i)
    for (int p = 0; p < g.taps(); ++p) P(p, i) = x(g.shifted(i, p));
  return P;
}

Eigen::MatrixXd patch_covariance(const Eigen::MatrixXd& cov, const PatchGeometry& g) {
  check_patch_geometry(g);
  require(cov.rows() == g.pixels() && cov.cols() == g.pixels(), "covariance is not N x N for the image shape");
  const int P = g.taps(), N = g.pixels();
  Eigen::MatrixXd T = Eigen::MatrixXd::Zero(P, P);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < P; ++q) {
      double sum = 0.0;
      for (int i = 0; i < N; ++i) sum += cov(g.shifted(i, p), g.shifted(i, q));
      T(p, q) = sum / N;
    }
  return 0.5 * (T + T.transpose());
}

Eigen::MatrixXd patch_covariance_stationary(const Eigen::MatrixXd& cov, const PatchGeometry& g, double rel_tol) {
  check_patch_geometry(g);
  require(cov.rows() == g.pixels() && cov.cols() == g.pixels(), "covariance is not N x N for the image shape");
  const ImageShape shape{g.height, g.width};
  if (!is_stationary(cov, shape, rel_tol)) {
    std::ostringstream msg;
    msg << "patch_covariance_stationary: the covariance is not stationary on the " << describe(shape)
        << " torus (defect " << stationarity_defect(cov, shape) << " of max|Sigma|, allowed <= " << rel_tol
        << "); one patch's covariance is then not the shift-averaged T of (8.2): use patch_covariance (any Sigma)";
    throw DataError(msg.str());
  }
  const int P = g.taps();
  Eigen::MatrixXd T(P, P);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < P; ++q) T(p, q) = cov(g.shifted(0, p), g.shifted(0, q));
  return 0.5 * (T + T.transpose());
}

Eigen::MatrixXd patch_covariance_from_autocovariance(const Eigen::VectorXd& t, const PatchGeometry& g) {
  check_patch_geometry(g);
  require(t.size() == g.pixels(), "autocovariance length differs from the image size");
  const int P = g.taps();
  Eigen::MatrixXd T(P, P);
  for (int p = 0; p < P; ++p)
    for (int q = 0; q < P; ++q) {
      const auto [py, px] = g.offset(p);
      const auto [qy, qx] = g.offset(q);
      T(p, q) = t(wrap(qy - py, g.height) * g.width + wrap(qx - px, g.width));
    }
  return T;
}

Eigen::MatrixXd circulant_from_taps(const Eigen::VectorXd& w, const PatchGeometry& g) {
  check_patch_geometry(g);
  require(w.size() == g.taps(), "filter length differs from the number of taps");
  Eigen::MatrixXd W = Eigen::MatrixXd::Zero(g.pixels(), g.pixels());
  for (int i = 0; i < g.pixels(); ++i)
    for (int p = 0; p < g.taps(); ++p) W(i, g.shifted(i, p)) += w(p);
  return W;
}

namespace {
// 2π a_p·k for mode k and tap p.
double phase(const PatchGeometry& g, int k, int p) {
  const auto [ay, ax] = g.offset(p);
  const int ky = k / g.width, kx = k % g.width;
  return 2.0 * std::numbers::pi *
         (static_cast<double>(ay) * ky / g.height + static_cast<double>(ax) * kx / g.width);
}
}  // namespace

Eigen::MatrixXd fourier_cosines(const PatchGeometry& g) {
  check_patch_geometry(g);
  Eigen::MatrixXd C(g.pixels(), g.taps());
  for (int k = 0; k < g.pixels(); ++k)
    for (int p = 0; p < g.taps(); ++p) C(k, p) = std::cos(phase(g, k, p));
  return C;
}

Eigen::VectorXcd fourier_multipliers(const Eigen::VectorXd& w, const PatchGeometry& g) {
  check_patch_geometry(g);
  require(w.size() == g.taps(), "filter length differs from the number of taps");
  Eigen::VectorXcd gamma = Eigen::VectorXcd::Zero(g.pixels());
  for (int k = 0; k < g.pixels(); ++k)
    for (int p = 0; p < g.taps(); ++p) gamma(k) += w(p) * std::polar(1.0, -phase(g, k, p));
  return gamma;
}

double patch_loss(const Eigen::VectorXd& w, const Eigen::MatrixXd& T, int pixels, double sigma, double trace_cov) {
  const int c = static_cast<int>(T.rows()) / 2;
  return pixels * (w.dot(T * w) + sigma * sigma * w.squaredNorm() - 2.0 * w.dot(T.col(c))) + trace_cov;
}

Eigen::VectorXd patch_loss_gradient(const Eigen::VectorXd& w, const Eigen::MatrixXd& T, int pixels, double sigma) {
  const int c = static_cast<int>(T.rows()) / 2;
  return 2.0 * pixels * (T * w + sigma * sigma * w - T.col(c));
}

Eigen::VectorXd patch_optimum(const Eigen::MatrixXd& T, double sigma) {
  require(sigma > 0, "sigma must be positive");
  const int c = static_cast<int>(T.rows()) / 2;
  Eigen::MatrixXd A = T;
  A.diagonal().array() += sigma * sigma;
  return A.llt().solve(T.col(c));
}

double patch_min_loss(const Eigen::MatrixXd& T, int pixels, double sigma, double trace_cov) {
  const int c = static_cast<int>(T.rows()) / 2;
  return trace_cov - pixels * T.col(c).dot(patch_optimum(T, sigma));
}

namespace {
Eigen::MatrixXd integrate_filter_path(const solver::DenseIntegrator::System& rhs, const Eigen::VectorXd& w0,
                                      std::span<const double> taus, const solver::OdeOptions& options) {
  solver::DenseIntegrator ode(rhs, w0, 0.0, options);
  Eigen::MatrixXd out(w0.size(), static_cast<Eigen::Index>(taus.size()));
  double last = 0.0;
  for (std::size_t j = 0; j < taus.size(); ++j) {
    require(taus[j] >= last, "tau values must be non-negative and non-decreasing");
    ode.advance_to(taus[j]);
    out.col(static_cast<Eigen::Index>(j)) = ode.state();
    last = taus[j];
  }
  return out;
}

Eigen::VectorXd integrate_filter(const solver::DenseIntegrator::System& rhs, const Eigen::VectorXd& w0, double tau,
                                 const solver::OdeOptions& options) {
  const double one[] = {tau};
  return integrate_filter_path(rhs, w0, one, options).col(0);
}

solver::DenseIntegrator::System patch_rhs(const Eigen::MatrixXd& T, int pixels, double eta, double sigma) {
  return [&T, pixels, eta, sigma](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
    dw = -eta * patch_loss_gradient(w, T, pixels, sigma);
  };
}

// ∂L/∂w_p = Σ_i G_{i, i+a_p} with G = 2(W(Σ + σ²I) − Σ) for the full circulant W of the taps (brute force).
solver::DenseIntegrator::System pixel_rhs(const Eigen::MatrixXd& cov, const PatchGeometry& g, double eta, double sigma) {
  Eigen::MatrixXd noised = cov;
  noised.diagonal().array() += sigma * sigma;
  return [&cov, g, eta, noised](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
    const Eigen::MatrixXd W = circulant_from_taps(w, g);
    const Eigen::MatrixXd G = 2.0 * (W * noised - cov);  // ∂L/∂W of (2.2) with μ = 0, b = 0
    dw.setZero();
    for (int i = 0; i < g.pixels(); ++i)
      for (int p = 0; p < g.taps(); ++p) dw(p) -= eta * G(i, g.shifted(i, p));
  };
}

void check_pixel_inputs(const Eigen::MatrixXd& cov, const PatchGeometry& g, const Eigen::VectorXd& w0) {
  check_patch_geometry(g);
  require(cov.rows() == g.pixels() && cov.cols() == g.pixels(), "covariance is not N x N for the image shape");
  require(w0.size() == g.taps(), "w0 length differs from the number of taps");
}
}  // namespace

Eigen::MatrixXd patch_filter_flow_numeric(const Eigen::MatrixXd& T, int pixels, double eta, double sigma,
                                          const Eigen::VectorXd& w0, std::span<const double> taus,
                                          const solver::OdeOptions& options) {
  require(w0.size() == T.rows(), "w0 length differs from T");
  return integrate_filter_path(patch_rhs(T, pixels, eta, sigma), w0, taus, options);
}

Eigen::MatrixXd pixel_filter_flow_numeric(const Eigen::MatrixXd& cov, const PatchGeometry& g, double eta, double sigma,
                                          const Eigen::VectorXd& w0, std::span<const double> taus,
                                          const solver::OdeOptions& options) {
  check_pixel_inputs(cov, g, w0);
  return integrate_filter_path(pixel_rhs(cov, g, eta, sigma), w0, taus, options);
}

Eigen::VectorXd patch_filter_flow_numeric(const Eigen::MatrixXd& T, int pixels, double eta, double sigma,
                                          const Eigen::VectorXd& w0, double tau, const solver::OdeOptions& options) {
  require(w0.size() == T.rows(), "w0 length differs from T");
  return integrate_filter(patch_rhs(T, pixels, eta, sigma), w0, tau, options);
}

Eigen::VectorXd pixel_filter_flow_numeric(const Eigen::MatrixXd& cov, const PatchGeometry& g, double eta, double sigma,
                                          const Eigen::VectorXd& w0, double tau, const solver::OdeOptions& options) {
  check_pixel_inputs(cov, g, w0);
  return integrate_filter(pixel_rhs(cov, g, eta, sigma), w0, tau, options);
}

PatchConvolution::PatchConvolution(const Eigen::MatrixXd& T, const PatchGeometry& g, Eigen::VectorXd w0, double eta)
    : g_(g), T_(T), w0_(std::move(w0)), eta_(eta) {
  check_patch_geometry(g_);
  require(T_.rows() == g_.taps() && T_.cols() == g_.taps(), "T must be taps x taps");
  require(w0_.size() == g_.taps(), "w0 length differs from the number of taps");
  require(eta_ > 0 && std::isfinite(eta_), "eta must be positive and finite");
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(0.5 * (T_ + T_.transpose()));
  if (eig.info() != Eigen::Success) throw std::runtime_error("conv_patch: eigendecomposition of T failed");
  rho_ = eig.eigenvalues();
  R_ = eig.eigenvectors();
  // A positive semi-definite T may come out with round-off negatives; anything clearly negative is not a covariance.
  const double scale = std::max(1.0, rho_.cwiseAbs().maxCoeff());
  require(rho_.minCoeff() > -1e-10 * scale, "T is not positive semi-definite (min eigenvalue " +
                                                std::to_string(rho_.minCoeff()) + ")");
  rho_ = rho_.cwiseMax(0.0);
  Te0_ = T_.col(g_.centre());
  cosines_ = fourier_cosines(g_);
  // Re α_kj = Re(φ_kᵀ r_j) (r_jᵀ e_0), Re β_kj = Re(φ_kᵀ r_j) (r_jᵀ w(0))   (8.9)
  const Eigen::MatrixXd proj = cosines_ * R_;
  alpha_ = proj * R_.row(g_.centre()).transpose().asDiagonal();
  beta_ = proj * (R_.transpose() * w0_).asDiagonal();
}

Eigen::VectorXd PatchConvolution::optimum(double sigma) const {
  // R diag(ρ/(ρ+σ²)) Rᵀ e_0 is (8.5) in T's eigenbasis; identical to patch_optimum up to round-off.
  const Eigen::VectorXd shrink = rho_.array() / (rho_.array() + sigma * sigma);
  return R_ * (shrink.asDiagonal() * R_.row(g_.centre()).transpose());
}

Eigen::VectorXd PatchConvolution::filter(double sigma, double tau) const {
  const Eigen::VectorXd w_star = optimum(sigma);
  const Eigen::VectorXd decay = (-clock(tau) * (sigma * sigma + rho_.array())).exp();
  return w_star + R_ * (decay.asDiagonal() * (R_.transpose() * (w0_ - w_star)));  // (8.4)
}

Eigen::VectorXd PatchConvolution::multiplier_real(double sigma, double tau) const {
  return cosines_ * filter(sigma, tau);
}

Eigen::VectorXd PatchConvolution::initial_variance(const SamplingRange& r) const {
  const Eigen::ArrayXd q = (cosines_ * w0_).array();  // Re γ_k(0)
  return (2.0 * q * std::log(r.sigma_max) + 2.0 * (1.0 - q) * std::log(r.sigma_min)).exp().matrix();
}

Eigen::VectorXd PatchConvolution::converged_variance(const SamplingRange& r) const {
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  const Eigen::VectorXd log_ratio = ((rho_.array() + s0) / (rho_.array() + sT)).log().matrix();
  return (sT * (alpha_ * log_ratio).array().exp()).matrix();
}

void PatchConvolution::clock_terms(double c, const SamplingRange& r, Eigen::VectorXd& per_alpha,
                                   Eigen::VectorXd& per_gap) const {
  const double s0 = r.sigma_min * r.sigma_min, sT = r.sigma_max * r.sigma_max;
  const Eigen::Index P = rho_.size();
  // Stable E1 form of 2 Re[H_k(σ_T) − H_k(σ_0)] (8.9), cf. (4.9):
  //   Σ_j −α_kj [ln((ρ_j+σ_T²)/(ρ_j+σ_0²)) + E1(c(σ_T²+ρ_j)) − E1(c(σ_0²+ρ_j))]
  //       −(β_kj − α_kj) e^{−cρ_j} [E1(cσ_T²) − E1(cσ_0²)]
  const double e1_noise = expint_e1(c * sT) - expint_e1(c * s0);
  per_alpha.resize(P);
  per_gap.resize(P);
  for (Eigen::Index j = 0; j < P; ++j) {
    per_alpha(j) = std::log((rho_(j) + sT) / (rho_(j) + s0)) + expint_e1(c * (sT + rho_(j))) -
                   expint_e1(c * (s0 + rho_(j)));
    per_gap(j) = std::exp(-c * rho_(j)) * e1_noise;
  }
}

Eigen::VectorXd PatchConvolution::generated_variance(double tau, const SamplingRange& r) const {
  require(tau >= 0 && std::isfinite(tau), "tau must be finite and >= 0");
  const double c = clock(tau);
  if (c == 0.0) return initial_variance(r);
  Eigen::VectorXd per_alpha, per_gap;
  clock_terms(c, r, per_alpha, per_gap);
  const Eigen::VectorXd two_dH = -(alpha_ * per_alpha) - (beta_ - alpha_) * per_gap;
  return (r.sigma_max * r.sigma_max * two_dH.array().exp()).matrix();
}

double PatchConvolution::generated_variance_mode(int k, double tau, const SamplingRange& r) const {
  require(k >= 0 && k < g_.pixels(), "Fourier mode index out of range");
  require(tau >= 0 && std::isfinite(tau), "tau must be finite and >= 0");
  const double c = clock(tau);
  if (c == 0.0) {
    const double q = cosines_.row(k).dot(w0_);
    return std::exp(2.0 * q * std::log(r.sigma_max) + 2.0 * (1.0 - q) * std::log(r.sigma_min));
  }
  Eigen::VectorXd per_alpha, per_gap;
  clock_terms(c, r, per_alpha, per_gap);
  const double two_dH = -alpha_.row(k).dot(per_alpha) - (beta_.row(k) - alpha_.row(k)).dot(per_gap);
  return r.sigma_max * r.sigma_max * std::exp(two_dH);
}

Eigen::MatrixXd PatchConvolution::generated_variance_grid(std::span<const double> taus, const SamplingRange& r,
                                                          int threads) const {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(taus.size()), g_.pixels());
  solver::parallel_for(taus.size(), threads, [&](std::size_t j) {
    out.row(static_cast<Eigen::Index>(j)) = generated_variance(taus[j], r).transpose();
  });
  return out;
}

double PatchConvolution::generated_variance_quadrature(int mode, double tau, const SamplingRange& r,
                                                       const solver::QuadratureOptions& options) const {
  require(mode >= 0 && mode < g_.pixels(), "Fourier mode index out of range");
  const Eigen::RowVectorXd cos_k = cosines_.row(mode);
  std::vector<double> breaks;
  for (Eigen::Index j = 0; j < rho_.size(); ++j)
    if (rho_(j) > 0) breaks.push_back(0.5 * std::log(rho_(j)));
  const double c = clock(tau);
  if (c > 0) breaks.push_back(-0.5 * std::log(c));
  std::sort(breaks.begin(), breaks.end());
  // Near-equal patch variances give break points a hair apart, which only cost GSL extra intervals.
  breaks.erase(std::unique(breaks.begin(), breaks.end(), [](double a, double b) { return std::abs(a - b) < 1e-6; }),
               breaks.end());
  // (8.8): λ̃_k = σ_T² exp(2 ∫ (Re γ_k(e^s, τ) − 1) ds). The integrand is smooth, so each piece between break points
  // gets GSL's plain QAG (61-point Gauss–Kronrod); QAGP's extrapolation over many close break points was seen to stop
  // with a spurious "roundoff error" at rel_tol 1e-12 on 2-D problems.
  const double s0 = std::log(r.sigma_min), sT = std::log(r.sigma_max);
  std::vector<double> edges{s0};
  for (double b : breaks)
    if (b > s0 && b < sT) edges.push_back(b);
  edges.push_back(sT);
  // |Re γ_k − 1| is O(1), so an absolute floor of rel_tol × (piece width) keeps a piece whose integral nearly
  // cancels from demanding an unreachable relative accuracy.
  double integral = 0.0;
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    solver::QuadratureOptions piece = options;
    piece.abs_tol = std::max(options.abs_tol, options.rel_tol * (edges[i + 1] - edges[i]));
    integral += solver::integrate([&](double s) { return cos_k.dot(filter(std::exp(s), tau)) - 1.0; }, edges[i],
                                  edges[i + 1], {}, piece)
                    .value;
  }
  return r.sigma_max * r.sigma_max * std::exp(2.0 * integral);
}

}  // namespace specbias::models
