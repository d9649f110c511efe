#include "models/circulant_convolution.hpp"

#include <cmath>
#include <complex>
#include <sstream>

#include "common/errors.hpp"
#include "models/two_layer.hpp"
#include "solver/dense_integrator.hpp"

namespace specbias::models::conv {

namespace {

// Σ_i M_{i,(i+l)} for every cyclic offset l: the fold of a pixel-space matrix gradient onto the N shared filter
// entries (each entry appears once per row of the circulant).
Eigen::VectorXd fold_onto_filter(const Eigen::MatrixXd& M, const ImageShape& shape) {
  return shape.size() * shift_averaged_autocovariance(M, shape);
}

// G = 2(W(Σ+σ²I) − Σ) = ∂L/∂W of the loss (0.1) with μ = 0, b = 0   (2.3)
Eigen::MatrixXd loss_gradient_matrix(const Eigen::MatrixXd& covariance, double sigma, const Eigen::MatrixXd& W) {
  Eigen::MatrixXd G = W * covariance;
  G += sigma * sigma * W;
  G -= covariance;
  return 2.0 * G;
}

void check_covariance(const Eigen::MatrixXd& covariance, const ImageShape& shape, const char* where) {
  if (covariance.rows() != shape.size() || covariance.cols() != shape.size())
    throw DataError(std::string(where) + ": covariance is " + std::to_string(covariance.rows()) + "x" +
                    std::to_string(covariance.cols()) + " but the image shape " + describe(shape) + " has N = " +
                    std::to_string(shape.size()) + " pixels");
}

void check_taus(std::span<const double> taus, const char* where) {
  double prev = 0.0;
  for (double t : taus) {
    if (!(t >= prev)) throw std::invalid_argument(std::string(where) + ": taus must be ascending from 0");
    prev = t;
  }
}

}  // namespace

double rate_factor(Coordinates coordinates, const ImageShape& shape) {
  return coordinates == Coordinates::filter_entries ? double(shape.size()) : 1.0;
}

double filter_loss(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma, const Eigen::VectorXd& w) {
  check_covariance(covariance, shape, "conv::filter_loss");
  const Eigen::MatrixXd W = circulant_from_first_row(w, shape);
  const Eigen::MatrixXd WS = W * covariance;
  return (WS * W.transpose()).trace() + sigma * sigma * W.squaredNorm() - 2.0 * WS.trace() + covariance.trace();
}

Eigen::VectorXd filter_gradient(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma,
                                const Eigen::VectorXd& w) {
  check_covariance(covariance, shape, "conv::filter_gradient");
  return fold_onto_filter(loss_gradient_matrix(covariance, sigma, circulant_from_first_row(w, shape)), shape);
}

Eigen::MatrixXd filter_flow_numeric(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma, double eta,
                                    const Eigen::VectorXd& w0, std::span<const double> taus, Coordinates coordinates,
                                    const solver::OdeOptions& options) {
  check_covariance(covariance, shape, "conv::filter_flow_numeric");
  check_taus(taus, "conv::filter_flow_numeric");
  // (7.5): spectral coordinates θ = N^{1/2} O^T w (orthogonal O) give dw/dτ = (1/N) O dθ/dτ = −(η/N) ∂L/∂w.
  const double rate = coordinates == Coordinates::filter_entries ? eta : eta / shape.size();
  solver::DenseIntegrator ode(
      [&](const Eigen::VectorXd& w, Eigen::VectorXd& dw, double) {
        dw = -rate * filter_gradient(covariance, shape, sigma, w);
      },
      w0, 0.0, options);
  Eigen::MatrixXd out(shape.size(), static_cast<Eigen::Index>(taus.size()));
  for (std::size_t j = 0; j < taus.size(); ++j) {
    ode.advance_to(taus[j]);
    out.col(static_cast<Eigen::Index>(j)) = ode.state();
  }
  return out;
}

FilterPair filter_pair_gradient(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma,
                                const FilterPair& f) {
  check_covariance(covariance, shape, "conv::filter_pair_gradient");
  const Eigen::MatrixXd W1 = circulant_from_first_row(f.w1, shape), W2 = circulant_from_first_row(f.w2, shape);
  const Eigen::MatrixXd G = loss_gradient_matrix(covariance, sigma, W2 * W1);
  return {fold_onto_filter(W2.transpose() * G, shape), fold_onto_filter(G * W1.transpose(), shape)};
}

std::vector<FilterPair> filter_pair_flow_numeric(const Eigen::MatrixXd& covariance, const ImageShape& shape,
                                                 double sigma, double eta, const FilterPair& initial,
                                                 std::span<const double> taus, const solver::OdeOptions& options) {
  check_covariance(covariance, shape, "conv::filter_pair_flow_numeric");
  check_taus(taus, "conv::filter_pair_flow_numeric");
  const Eigen::Index N = shape.size();
  Eigen::VectorXd x0(2 * N);
  x0 << initial.w1, initial.w2;
  solver::DenseIntegrator ode(
      [&](const Eigen::VectorXd& x, Eigen::VectorXd& dx, double) {
        const FilterPair g = filter_pair_gradient(covariance, shape, sigma, {x.head(N), x.tail(N)});
        dx.head(N) = -eta * g.w1;
        dx.tail(N) = -eta * g.w2;
      },
      x0, 0.0, options);
  std::vector<FilterPair> out;
  for (double t : taus) {
    ode.advance_to(t);
    out.push_back({ode.state().head(N), ode.state().tail(N)});
  }
  return out;
}

Eigen::VectorXcd multipliers_closed_form(const Eigen::VectorXd& s, const ImageShape& shape, double sigma, double eta,
                                         double tau, const Eigen::VectorXcd& gamma0, Coordinates coordinates) {
  if (s.size() != shape.size() || gamma0.size() != shape.size())
    throw std::invalid_argument("conv::multipliers_closed_form: s and gamma0 need N = " + std::to_string(shape.size()) +
                                " entries");
  const double f = rate_factor(coordinates, shape), s2 = sigma * sigma;
  Eigen::VectorXcd gamma(shape.size());
  for (Eigen::Index k = 0; k < s.size(); ++k) {
    const double star = s[k] / (s[k] + s2);
    gamma[k] = star + (gamma0[k] - star) * std::exp(-2.0 * f * eta * (s2 + s[k]) * tau);  // (7.4)
  }
  return gamma;
}

Eigen::VectorXd filter_closed_form(const Eigen::VectorXd& s, const ImageShape& shape, double sigma, double eta,
                                   double tau, const Eigen::VectorXd& w0, Coordinates coordinates) {
  return filter_from_multipliers(
      multipliers_closed_form(s, shape, sigma, eta, tau, filter_multipliers(w0, shape), coordinates), shape);
}

Eigen::MatrixXd generated_variance_grid(const Eigen::VectorXd& s, const Eigen::VectorXd& Q, const ImageShape& shape,
                                        double eta, std::span<const double> taus, const SamplingRange& range,
                                        int threads) {
  if (s.size() != shape.size())
    throw std::invalid_argument("conv::generated_variance_grid: s needs N = " + std::to_string(shape.size()) + " entries");
  // (7.7): η → Nη (filter entries), λ → s_k, Q_k → Re γ_k(0).
  return one_layer_generated_variance_grid(s, Q, shape.size() * eta, taus, range, threads);
}

std::pair<Eigen::VectorXd, Eigen::VectorXd> two_layer_multipliers(const Eigen::VectorXd& s, const ImageShape& shape,
                                                                  double sigma, double eta, double tau,
                                                                  const Eigen::VectorXd& a0, const Eigen::VectorXd& b0) {
  const Eigen::Index N = shape.size();
  if (s.size() != N || a0.size() != N || b0.size() != N)
    throw std::invalid_argument("conv::two_layer_multipliers: s, a0, b0 need N = " + std::to_string(N) + " entries");
  Eigen::VectorXd a(N), b(N);
  for (Eigen::Index k = 0; k < N; ++k) {
    const auto m = two_layer::explicit_solution(s[k], sigma, N * eta, tau, {a0[k], b0[k]});  // (7.9) via (6.4)
    a[k] = m.a;
    b[k] = m.b;
  }
  return {a, b};
}

DenoiserProblem fourier_mode_problem(const Eigen::VectorXd& s, const ImageShape& shape, double eta,
                                     const SamplingRange& range, const Eigen::VectorXcd& gamma0,
                                     const Eigen::VectorXcd& gamma2_0) {
  const Eigen::Index N = shape.size();
  if (s.size() != N || gamma0.size() != N)
    throw std::invalid_argument("conv::fourier_mode_problem: s and gamma0 need N = " + std::to_string(N) + " entries");
  DenoiserProblem p;
  // The Fourier basis diagonalises every circulant weight; in it the shift-averaged data covariance is diag(s)
  // (7.8), so identity eigenvectors with eigenvalues s_k describe the model exactly (mode index = Fourier index).
  p.data.mean = Eigen::VectorXd::Zero(N);
  p.data.eigenvalues = s;
  p.data.eigenvectors = Eigen::MatrixXd::Identity(N, N);
  p.data.covariance = s.asDiagonal();
  p.data.description = "Fourier-mode variances s_k (7.3), " + describe(shape);
  p.eta = N * eta;  // (7.5): filter-entry training multiplies every rate by N
  p.range = range;
  p.W0_offset = Eigen::MatrixXd::Zero(N, N);
  p.b0 = Eigen::VectorXd::Zero(N);
  if (gamma2_0.size() == 0) {
    p.model.kind = ModelKind::one_layer;
    p.model.depth = 1;
    p.Q = gamma0.real();  // (7.7): only Re γ_k(0) enters the generated variance
  } else {
    if (gamma2_0.size() != N) throw std::invalid_argument("conv::fourier_mode_problem: gamma2_0 needs N entries");
    const double imag = std::max(gamma0.imag().cwiseAbs().maxCoeff(), gamma2_0.imag().cwiseAbs().maxCoeff());
    const double scale = std::max({1.0, gamma0.cwiseAbs().maxCoeff(), gamma2_0.cwiseAbs().maxCoeff()});
    if (imag > 1e-12 * scale)
      throw DataError("two-layer full-width convolution: the per-mode law (7.9) needs even filters (real Fourier "
                      "multipliers), but max |Im gamma_k(0)| = " + std::to_string(imag) +
                      "; start from filters with w[l] = w[-l]");
    p.model.kind = ModelKind::two_layer;
    p.model.depth = 2;
    p.a = gamma0.real();
    p.b = gamma2_0.real();
    p.Q = p.a.cwiseProduct(p.b);
  }
  p.validate();
  return p;
}

Eigen::VectorXd circulant_eigenvalues(const Eigen::MatrixXd& covariance, const ImageShape& shape, double rel_tol) {
  check_covariance(covariance, shape, "conv::circulant_eigenvalues");
  const double defect = stationarity_defect(covariance, shape);
  if (defect > rel_tol) {
    std::ostringstream msg;
    msg << "the covariance is not stationary on the " << (shape.dims() == 2 ? "torus " : "ring ") << describe(shape)
        << " (it is not " << (shape.dims() == 2 ? "block-circulant with circulant blocks" : "circulant")
        << ": max |S_ij - S_0,(j-i)| / max |S| = " << defect << " > " << rel_tol
        << "), so the Fourier vectors are not its eigenvectors; use the Fourier-mode variances s_k (7.3) "
           "(fourier_mode_variances), which hold for any covariance, or shift-augment the data (7.8)";
    throw DataError(msg.str());
  }
  // Σ_ij = c_{(j−i)} is the circulant (7.1) of its first row c, so Σ f_k = fft(c)_k f_k (7.2); real since c_l = c_{−l}.
  return filter_multipliers(covariance.row(0).transpose(), shape).real();
}

Eigen::MatrixXd shift_augmented_covariance(const Eigen::MatrixXd& covariance, const ImageShape& shape) {
  check_covariance(covariance, shape, "conv::shift_augmented_covariance");
  const int N = shape.size(), H = shape.height, Wd = shape.width;
  Eigen::MatrixXd avg = Eigen::MatrixXd::Zero(N, N);
  Eigen::VectorXi perm(N);
  for (int jy = 0; jy < H; ++jy)
    for (int jx = 0; jx < Wd; ++jx) {
      // S maps pixel (y, x) to ((y + jy) mod H, (x + jx) mod W); S Σ Sᵀ permutes rows and columns alike.
      for (int i = 0; i < N; ++i) perm[i] = ((i / Wd + jy) % H) * Wd + (i % Wd + jx) % Wd;
      for (int j = 0; j < N; ++j)
        for (int i = 0; i < N; ++i) avg(perm[i], perm[j]) += covariance(i, j);  // (S Σ Sᵀ)_{S(i),S(j)} = Σ_ij
    }
  return avg / N;
}

Eigen::MatrixXd stationary_image_covariance(const ImageShape& shape, double rho) {
  if (shape.height < 1 || shape.width < 1) throw DataError("stationary_image_covariance: empty image shape");
  const int N = shape.size(), H = shape.height, Wd = shape.width;
  auto ring = [](int a, int b, int n) {
    const int g = std::abs(a - b);
    return std::min(g, n - g);
  };
  Eigen::MatrixXd S(N, N);
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < N; ++i)
      S(i, j) = std::pow(rho, double(ring(i / Wd, j / Wd, H) + ring(i % Wd, j % Wd, Wd)));
  return S;
}

}  // namespace specbias::models::conv
