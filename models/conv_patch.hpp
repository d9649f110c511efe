// Local (patch) circular convolution, THEORY.md §8: a K-tap filter (K = 2r+1, odd) in 1-D, or a K×K filter in
// 2-D, applied with periodic boundaries to an N-pixel signal/image (orientation (7.1)/(8.1): D(x)_i = Σ_a w_a x_{i+a}).
//
//   • patch extractor P_r (8.1) and patch covariance T (8.2), Toeplitz (1-D) / block-Toeplitz (2-D), built either
//     straight from Σ or from the shift-averaged autocovariance t_ℓ;
//   • loss (8.3), its gradient, optimum (8.5) and minimum (8.6);
//   • the filter flow in closed form (8.4) through T = R diag(ρ) Rᵀ, and two reference twins integrated with
//     dopri5: the patch-space gradient (8.3), and the brute-force pixel-space gradient of the full circulant W;
//   • the generated per-Fourier-mode variance λ̃_k(τ): closed form (8.9) (stable E1 differences, limits of §8.3),
//     and the quadrature (8.8) of the Fourier multiplier (8.7).
// Only the real part of φ_k (cosines) enters (8.9), because R and w are real. Zero-mean data, σ-independent w(0)
// and η (convention C4); otherwise use the quadrature (8.8) with the caller's own filters.
#pragma once

#include <Eigen/Dense>
#include <span>
#include <vector>

#include "models/pf_ode.hpp"
#include "solver/ode_options.hpp"
#include "solver/quadrature.hpp"

namespace specbias::models {

// Image and kernel sizes. 1-D signals have height = 1 and a K-tap filter; 2-D images a K×K filter.
// Pixel index i = iy·width + ix; Fourier mode index k = ky·width + kx; tap (patch) index
// p = (ay + r)·K + (ax + r) in 2-D, p = a + r in 1-D (centre tap p = taps()/2).
struct PatchGeometry {
  int height = 1;
  int width = 0;
  int kernel = 1;  // K = 2r + 1

  [[nodiscard]] int dims() const { return height > 1 ? 2 : 1; }
  [[nodiscard]] int pixels() const { return height * width; }          // N
  [[nodiscard]] int radius() const { return (kernel - 1) / 2; }        // r
  [[nodiscard]] int taps() const { return dims() == 2 ? kernel * kernel : kernel; }
  [[nodiscard]] int centre() const { return taps() / 2; }              // position of e_0
  // Offset (ay, ax) of tap p; ay = 0 in 1-D.
  [[nodiscard]] std::pair<int, int> offset(int p) const;
  // Pixel index of (i shifted by the offset of tap p), periodic in both axes.
  [[nodiscard]] int shifted(int i, int p) const;
};

// Throws std::invalid_argument unless width ≥ 1, height ≥ 1, K odd ≥ 1 and K ≤ each image side (K ≤ N in 1-D):
// wider kernels would alias taps onto the same pixel. (Config-level checks with file/key/line live in config/.)
void check_patch_geometry(const PatchGeometry& g);

// (8.1): P_r(x), taps × N, column i = the patch around pixel i (periodic).
Eigen::MatrixXd extract_patches(const Eigen::VectorXd& x, const PatchGeometry& g);

// (8.2) directly from Σ (N×N, any symmetric covariance, stationary or not): T_pq = (1/N) Σ_i Σ_{i+a_p, i+a_q}.
Eigen::MatrixXd patch_covariance(const Eigen::MatrixXd& covariance, const PatchGeometry& g);
// (8.2) for stationary data only: T_pq = Σ_{a_p, a_q}, the covariance of the one patch around pixel 0 (O(K²) instead
// of O(K²N)). Equals the shift average only when Σ is circulant (1-D) / block-circulant with circulant blocks (2-D):
// throws DataError naming the stationarity defect and the fix (patch_covariance) otherwise (relative tolerance
// rel_tol on max|Σ|, as models::is_stationary).
Eigen::MatrixXd patch_covariance_stationary(const Eigen::MatrixXd& covariance, const PatchGeometry& g,
                                            double rel_tol = 1e-10);
// (8.2) from the shift-averaged autocovariance t (length N, index ly·width + lx, cyclic lags):
// T_pq = t_{a_q − a_p}. Toeplitz in 1-D, block-Toeplitz with Toeplitz blocks in 2-D.
Eigen::MatrixXd patch_covariance_from_autocovariance(const Eigen::VectorXd& autocovariance, const PatchGeometry& g);

// The N×N circulant (1-D) / block-circulant (2-D) matrix of the filter: W_{i, i+a_p} = w_p ((7.1), (8.1)).
Eigen::MatrixXd circulant_from_taps(const Eigen::VectorXd& taps, const PatchGeometry& g);
// cos(2π a_p·k) for every Fourier mode k (rows) and tap p (columns): Re φ_k of (8.7), N × taps.
Eigen::MatrixXd fourier_cosines(const PatchGeometry& g);
// (8.7): γ_k = Σ_p w_p e^{−2πi a_p·k}, all N modes (a_p·k = ay·ky/H + ax·kx/W).
Eigen::VectorXcd fourier_multipliers(const Eigen::VectorXd& taps, const PatchGeometry& g);

// (8.3) with tr Σ supplied by the caller: L_σ(w) = N [wᵀ(T + σ²I)w − 2 wᵀ T e_0] + tr Σ, and ∂L/∂w.
double patch_loss(const Eigen::VectorXd& w, const Eigen::MatrixXd& T, int pixels, double sigma, double trace_covariance);
Eigen::VectorXd patch_loss_gradient(const Eigen::VectorXd& w, const Eigen::MatrixXd& T, int pixels, double sigma);
// (8.5): w*_σ = (T + σ²I)^{-1} T e_0 (Cholesky; T + σ²I ≻ 0 for σ > 0).
Eigen::VectorXd patch_optimum(const Eigen::MatrixXd& T, double sigma);
// (8.6): tr Σ − N e_0ᵀ T (T + σ²I)^{-1} T e_0.
double patch_min_loss(const Eigen::MatrixXd& T, int pixels, double sigma, double trace_covariance);

// Reference twins of (8.4), each integrated with dopri5 from τ = 0 to `tau` (options: tolerances, step limit):
//   patch space: dw/dτ = −η ∂L/∂w with the gradient of (8.3);
//   pixel space (brute force, never touches T): G = 2(W(Σ + σ²I) − Σ) for the full circulant W built from the taps,
//   ∂L/∂w_p = Σ_i G_{i, i+a_p} (each tap appears N times in W), (7.2)'s rule applied to a local filter.
Eigen::VectorXd patch_filter_flow_numeric(const Eigen::MatrixXd& T, int pixels, double eta, double sigma,
                                          const Eigen::VectorXd& w0, double tau, const solver::OdeOptions& options);
Eigen::VectorXd pixel_filter_flow_numeric(const Eigen::MatrixXd& covariance, const PatchGeometry& g, double eta,
                                          double sigma, const Eigen::VectorXd& w0, double tau,
                                          const solver::OdeOptions& options);

// The same along a whole list of non-decreasing τ ≥ 0 in one integration (column j = w(τ_j)).
Eigen::MatrixXd patch_filter_flow_numeric(const Eigen::MatrixXd& T, int pixels, double eta, double sigma,
                                          const Eigen::VectorXd& w0, std::span<const double> taus,
                                          const solver::OdeOptions& options);
Eigen::MatrixXd pixel_filter_flow_numeric(const Eigen::MatrixXd& covariance, const PatchGeometry& g, double eta,
                                          double sigma, const Eigen::VectorXd& w0, std::span<const double> taus,
                                          const solver::OdeOptions& options);

// The trained patch convolution: T's eigendecomposition once, then (8.4), (8.7), (8.8), (8.9) per (σ, τ).
class PatchConvolution {
 public:
  // T: taps × taps patch covariance; w0: σ-independent initial filter (length taps); η > 0.
  PatchConvolution(const Eigen::MatrixXd& T, const PatchGeometry& g, Eigen::VectorXd w0, double eta);

  [[nodiscard]] const PatchGeometry& geometry() const { return g_; }
  [[nodiscard]] const Eigen::VectorXd& patch_variances() const { return rho_; }   // ρ_j ascending
  [[nodiscard]] const Eigen::MatrixXd& patch_modes() const { return R_; }         // r_j (columns)
  [[nodiscard]] const Eigen::MatrixXd& alpha() const { return alpha_; }           // Re α_kj, N × taps
  [[nodiscard]] const Eigen::MatrixXd& beta() const { return beta_; }             // Re β_kj, N × taps
  // c = 2Nητ, the convolution training clock.
  [[nodiscard]] double clock(double tau) const { return 2.0 * g_.pixels() * eta_ * tau; }

  // (8.5) and (8.4): w_σ(τ) = w*_σ + R e^{−c(σ² + ρ)} Rᵀ (w(0) − w*_σ).
  [[nodiscard]] Eigen::VectorXd optimum(double sigma) const;
  [[nodiscard]] Eigen::VectorXd filter(double sigma, double tau) const;
  // Re γ_k(σ, τ) of (8.7) for all N modes.
  [[nodiscard]] Eigen::VectorXd multiplier_real(double sigma, double tau) const;

  // (8.9), all N Fourier modes at one τ ≥ 0 (τ = 0: the §8.3 limit σ_T^{2Re γ_k(0)} σ_0^{2(1 − Re γ_k(0))}).
  [[nodiscard]] Eigen::VectorXd generated_variance(double tau, const SamplingRange& range) const;
  // (8.9) for one mode k (2·taps + 2 E1 calls): what first-passage root finding evaluates many times.
  [[nodiscard]] double generated_variance_mode(int mode, double tau, const SamplingRange& range) const;
  // (8.9) on a τ grid: row j = generated_variance(taus[j]); rows in parallel on `threads` (0: all).
  [[nodiscard]] Eigen::MatrixXd generated_variance_grid(std::span<const double> taus, const SamplingRange& range,
                                                        int threads = 0) const;
  // §8.3 limits: τ = 0 and τ → ∞ (σ_T² Π_j ((ρ_j + σ_0²)/(ρ_j + σ_T²))^{Re α_kj}).
  [[nodiscard]] Eigen::VectorXd initial_variance(const SamplingRange& range) const;
  [[nodiscard]] Eigen::VectorXd converged_variance(const SamplingRange& range) const;
  // (8.8) for Fourier mode k by adaptive quadrature in s = ln σ of Re γ_k(e^s, τ) − 1, break points at ½ ln ρ_j
  // and −½ ln c (THEORY §15).
  [[nodiscard]] double generated_variance_quadrature(int mode, double tau, const SamplingRange& range,
                                                     const solver::QuadratureOptions& options = {}) const;

 private:
  PatchGeometry g_;
  Eigen::MatrixXd T_;
  Eigen::VectorXd w0_;
  double eta_;
  Eigen::VectorXd rho_;
  Eigen::MatrixXd R_;
  Eigen::VectorXd Te0_;         // T e_0
  Eigen::MatrixXd cosines_;     // Re φ_k, N × taps
  Eigen::MatrixXd alpha_, beta_;

  // The τ-dependent parts of (8.9) at clock c > 0: per_alpha_j multiplies −α_kj, per_gap_j multiplies −(β_kj − α_kj).
  void clock_terms(double c, const SamplingRange& range, Eigen::VectorXd& per_alpha, Eigen::VectorXd& per_gap) const;
};

}  // namespace specbias::models
