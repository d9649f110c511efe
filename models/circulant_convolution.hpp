// Full-width circular convolution denoisers (THEORY.md §7, K = N), 1-D signals and 2-D images with periodic
// boundaries (conventions of fourier_spectrum.hpp). Zero-mean data, no bias, σ-independent initial filters.
//
//   pixel space (reference, dense O(N³)): the loss (0.1) of the circulant W = circ(w) (7.1), the filter-entry
//       gradient ∂L/∂w_l = Σ_i G_{i,(i+l)} (§7.2), and its gradient flow integrated with dopri5, for one filter
//       and for a filter pair D = w₂ ⋆ w₁ ⋆ x (7.9);
//   Fourier space (fast): the closed form (7.4) of the multipliers γ_k with the N-fold factor of filter-entry
//       training or without it for spectral coordinates (7.5); the generated variances (7.7) (= the one-layer
//       closed form (4.9) with λ → s_k, η → Nη, Q_k → Re γ_k(0)); the two-layer per-mode law (7.9) (= §6.1 with
//       λ → s_k, η → Nη, even filters); and the per-mode problem in the Fourier basis that the nested engine
//       (nested_paths.hpp) runs for either.
// The data enter only through s_k (7.3), so Σ need not be stationary for anything here except
// circulant_eigenvalues (which says so when it is not).
#pragma once

#include <Eigen/Dense>
#include <span>
#include <vector>

#include "models/denoiser_problem.hpp"
#include "models/fourier_spectrum.hpp"
#include "models/pf_ode.hpp"
#include "solver/ode_options.hpp"

namespace specbias::models::conv {

// (7.5) Which coordinates gradient flow runs on. filter_entries: dw/dτ = −η ∂L/∂w (rates 2Nη(σ²+s_k));
// spectral: real coordinates θ with ||θ|| = ||γ||, equivalent to dw/dτ = −(η/N) ∂L/∂w (rates 2η(σ²+s_k), those of a
// dense one-layer model on stationary data).
enum class Coordinates { filter_entries, spectral };
// The factor multiplying η in every Fourier-mode rate: N for filter entries, 1 for spectral coordinates.
double rate_factor(Coordinates coordinates, const ImageShape& shape);

// ---- pixel space (dense reference) -------------------------------------------------------------------------
// L_σ(w) = tr(W(Σ+σ²I)Wᵀ − 2WΣ + Σ), W = circ(w)   ((0.1) with μ = 0, b = 0)
double filter_loss(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma, const Eigen::VectorXd& w);
// ∂L/∂w_l = Σ_i G_{i,(i+l) mod N}, G = 2(W(Σ+σ²I) − Σ)   (§7.2; 2-D: l and i+l cyclic per axis)
Eigen::VectorXd filter_gradient(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma,
                                const Eigen::VectorXd& w);
// Filter w(τ) at each requested τ (columns, τ ascending from 0), by dopri5 on dw/dτ = −η·(1 or 1/N)·∂L/∂w.
Eigen::MatrixXd filter_flow_numeric(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma, double eta,
                                    const Eigen::VectorXd& w0, std::span<const double> taus, Coordinates coordinates,
                                    const solver::OdeOptions& options);

struct FilterPair {
  Eigen::VectorXd w1;  // first layer (applied first)
  Eigen::VectorXd w2;  // second layer: D(x) = circ(w2) circ(w1) x
};
// (∂L/∂w1, ∂L/∂w2): ∂L/∂W1 = W2ᵀ G, ∂L/∂W2 = G W1ᵀ, each folded onto filter entries like filter_gradient.
FilterPair filter_pair_gradient(const Eigen::MatrixXd& covariance, const ImageShape& shape, double sigma,
                                const FilterPair& filters);
// Filter pairs at each requested τ (ascending from 0), dopri5 on both filters' entries (rate η).
std::vector<FilterPair> filter_pair_flow_numeric(const Eigen::MatrixXd& covariance, const ImageShape& shape,
                                                 double sigma, double eta, const FilterPair& initial,
                                                 std::span<const double> taus, const solver::OdeOptions& options);

// ---- Fourier space (fast) ----------------------------------------------------------------------------------
// (7.4) γ_k(σ,τ) = γ*_k + (γ_k(0) − γ*_k) e^{−2·f·η(σ²+s_k)τ}, γ*_k = s_k/(s_k+σ²), f = rate_factor.
Eigen::VectorXcd multipliers_closed_form(const Eigen::VectorXd& s, const ImageShape& shape, double sigma, double eta,
                                         double tau, const Eigen::VectorXcd& gamma0, Coordinates coordinates);
// The filter w(σ,τ) = ifft(γ(σ,τ)) of (7.4), from the initial filter w0.
Eigen::VectorXd filter_closed_form(const Eigen::VectorXd& s, const ImageShape& shape, double sigma, double eta,
                                   double tau, const Eigen::VectorXd& w0, Coordinates coordinates);

// (7.7) λ̃_k(τ) on a τ × N grid: the one-layer closed form (4.9) with λ → s_k, η → Nη, Q_k → Re γ_k(0).
Eigen::MatrixXd generated_variance_grid(const Eigen::VectorXd& s, const Eigen::VectorXd& Q, const ImageShape& shape,
                                        double eta, std::span<const double> taus, const SamplingRange& range,
                                        int threads = 0);

// (7.9) per-mode two-layer multiplier γ_k = γ1_k γ2_k for even filters (real multipliers a_k = γ1_k(0),
// b_k = γ2_k(0)): §6.1's explicit solution (6.4) with λ → s_k, η → Nη. Returns (γ1_k(τ), γ2_k(τ)).
std::pair<Eigen::VectorXd, Eigen::VectorXd> two_layer_multipliers(const Eigen::VectorXd& s, const ImageShape& shape,
                                                                  double sigma, double eta, double tau,
                                                                  const Eigen::VectorXd& a0, const Eigen::VectorXd& b0);

// The per-mode problem in the Fourier basis equivalent to the full-width model ((7.7) layers = 1, (7.9)
// layers = 2): modes k with λ_k = s_k, identity basis, η → Nη, Q = Re γ(0) (one layer) or a = γ1(0), b = γ2(0)
// (two layers, even filters: the multipliers must be real). The nested engine then gives the closed form,
// quadrature and numeric paths of any family unchanged. Throws DataError on complex two-layer multipliers.
DenoiserProblem fourier_mode_problem(const Eigen::VectorXd& s, const ImageShape& shape, double eta,
                                     const SamplingRange& range, const Eigen::VectorXcd& gamma0,
                                     const Eigen::VectorXcd& gamma2_0 = {});

// Eigenvalues of a stationary (circulant / block-circulant) covariance in Fourier order by one FFT of its first
// row, O(N log N). Needs stationarity: throws DataError naming the defect and the fix (fourier_mode_variances (7.3)
// for any Σ) when is_stationary fails.
Eigen::VectorXd circulant_eigenvalues(const Eigen::MatrixXd& covariance, const ImageShape& shape, double rel_tol = 1e-10);

// (7.8) Σ_avg = (1/N) Σ_j S^j Σ S^{−j} over all N cyclic shifts S^j (2-D: all (jy, jx)), literally (O(N³)): the
// covariance of the shift-augmented data. Dense reference for the shift-augmentation equivalence.
Eigen::MatrixXd shift_augmented_covariance(const Eigen::MatrixXd& covariance, const ImageShape& shape);

// Separable stationary covariance on the torus, Σ_ij = ρ^{dist_y(i,j) + dist_x(i,j)} with ring distances per axis
// (1-D: ρ^{dist}, §13.2's `stationary` generator): block-circulant with circulant blocks, s_k = s^y_{ky} s^x_{kx}.
Eigen::MatrixXd stationary_image_covariance(const ImageShape& shape, double rho);

}  // namespace specbias::models::conv
