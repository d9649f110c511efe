// Power-law fit of emergence times against mode variance — THEORY.md (11.4), gray-zone exclusion (11.3).
// OLS of ln τ* on ln λ (GSL gsl_fit_linear): ln τ* = β0 + β1 ln λ, α = −β1, so τ* ≈ e^{β0} λ^{−α}. The reverse
// regression slope (ln λ on ln τ*) is reported too: the paper's figures fit "variance = a·step^b" that way, and
// the two agree only for an exact power law. Rising and decaying branches are fitted separately (fit_branches).
// Exact-theory exponents depend on Q and the criterion (11.5); nothing here assumes α = 1.
#pragma once

#include <optional>
#include <span>

namespace specbias::analysis {

struct PowerLawFit {
  double alpha;          // −β1 (τ* ∝ λ^{−α})
  double intercept;      // β0 (natural log)
  double prefactor;      // e^{β0}
  double r2;             // coefficient of determination in log space; NaN for n = 2 or constant ln τ*
  double alpha_stderr;   // standard error of α from the residual variance (n − 2 dof); NaN for n = 2
  double reverse_slope;  // OLS slope of ln λ on ln τ* (= −1/α for an exact power law); NaN for constant ln τ*
  int n;                 // number of (λ, τ*) pairs used
};

// Pairs where either value is non-finite or ≤ 0 are skipped (undefined τ* arrives as NaN).
// Returns std::nullopt if fewer than 2 pairs remain or all remaining λ are equal (slope undefined).
// Throws std::invalid_argument if the spans differ in length.
[[nodiscard]] std::optional<PowerLawFit> fit_power_law(std::span<const double> lambda,
                                                       std::span<const double> tau_star);

// Exponential rate of a decaying gap g(τ) ≈ A e^{−rate·τ}: OLS of ln|g| on τ (GSL gsl_fit_linear) over the pairs
// with finite, non-zero g. Used for late-time approach rates (e.g. (6.4)'s 2k'D, Fig. 22). Returns std::nullopt
// for fewer than 3 usable pairs or constant τ. Throws std::invalid_argument if the spans differ in length.
struct ExponentialFit {
  double rate;       // −slope of ln|g| on τ
  double rate_stderr;
  double r2;
  int n;
};
[[nodiscard]] std::optional<ExponentialFit> fit_exponential_rate(std::span<const double> tau, std::span<const double> gap);

// One mode's emergence result, as the analysis pipeline collects it.
struct ModeEmergence {
  int mode;                        // mode index k (descending-variance order in the data eigenbasis)
  double lambda;                   // λ_k, the abscissa of the fit
  double v0;                       // initial/reference value of the trajectory
  double v_target;                 // threshold target (λ_k or λ̃_k(∞))
  std::optional<double> tau_star;  // τ*, nullopt if never crossed
  bool rising;                     // branch
  bool gray;                       // in the gray zone (11.3): excluded from fits
};

struct BranchFits {
  std::optional<PowerLawFit> rising;
  std::optional<PowerLawFit> decaying;
};

// Fits (11.4) separately over the rising and the decaying non-gray modes that have a τ*, using λ = `lambda`.
// A branch with fewer than two usable modes gets std::nullopt.
[[nodiscard]] BranchFits fit_branches(std::span<const ModeEmergence> modes);

}  // namespace specbias::analysis
