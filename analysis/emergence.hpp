// Emergence (first-passage) times of a mode trajectory v(τ) — THEORY.md (11.1), gray zone (11.3).
//   * continuous version: v given as a function (closed forms); the first crossing is bracketed on a log-spaced
//     τ grid and then refined by a TOMS 748 root-finder in u = ln τ;
//   * sampled version: v given at recorded training times, reproducing the authors' estimator (EMPIRICAL.md §5):
//     optional Gaussian smoothing in checkpoint-index space, threshold from the raw first record, τ* = the
//     recorded time of the first sample strictly past the threshold, no interpolation.
// Trajectories need not be monotone (THEORY §4.3 undershoot): both versions return the *first* crossing.
// "Never crossed" is a result (std::nullopt), not an error.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace specbias::analysis {

// Threshold between the initial value v0 and the target v_target (11.1).
enum class Criterion { geometric, harmonic, arithmetic };

// geometric sqrt(v0·vT), harmonic 2/(1/v0 + 1/vT), arithmetic (v0 + vT)/2.
// Throws std::invalid_argument for non-finite inputs, and for v0 ≤ 0 or vT ≤ 0 with geometric/harmonic.
[[nodiscard]] double emergence_threshold(double v0, double v_target, Criterion criterion);

struct Emergence {
  double tau;        // τ*, first time at (continuous) or past (sampled) the threshold
  double threshold;  // θ from emergence_threshold(v0, v_target, criterion)
  double v0;         // the initial/reference value the threshold was built from
  double v_target;   // the target value (λ_k by default, or λ̃_k(∞) (4.8); the caller decides)
  bool rising;       // search direction: true = looked for v ≥ θ (continuous) / v > θ (sampled)
};

// Continuous first passage (11.1) of v(τ) for τ in [tau_min, tau_max] (0 < tau_min < tau_max).
// v0 is v(0) (passed explicitly because the closed forms have τ = 0 as a limit, (4.7)); rising iff v_target > v0.
// The log-spaced grid has ceil(points_per_decade·log10(tau_max/tau_min)) intervals, ending exactly at tau_max;
// the first grid point with v ≥ θ (rising) / v ≤ θ (decaying) brackets the crossing, which is then refined in
// u = ln τ until the bracket is narrower than rel_tol_log_tau (an absolute width in ln τ, i.e. a relative
// tolerance on τ). If v(tau_min) is already at or past θ, tau_min itself is returned (the crossing happened
// before the window; callers that care should lower tau_min). A crossing and re-crossing that both fall between
// two grid points is not seen: the grid density sets the resolution of "first".
// Returns std::nullopt when no grid point in [tau_min, tau_max] reaches θ.
// Throws std::invalid_argument for a bad window/grid/tolerance, specbias::NumericalError if v returns a
// non-finite value (the message names τ) or the root-finder does not converge.
[[nodiscard]] std::optional<Emergence> first_crossing_continuous(const std::function<double(double)>& v, double v0,
                                                                 double v_target, Criterion criterion, double tau_min,
                                                                 double tau_max, int points_per_decade = 40,
                                                                 double rel_tol_log_tau = 1e-12);

// Gaussian smoothing in index space with the semantics of
// scipy.ndimage.gaussian_filter1d(x, sigma, mode='reflect', truncate=4.0): kernel radius int(4σ + 0.5),
// weights exp(−j²/(2σ²)) normalised to sum 1, half-sample symmetric reflection (d c b a | a b c d | d c b a),
// repeated for series shorter than the radius. sigma = 0 returns a copy. Throws std::invalid_argument for
// sigma < 0 or non-finite sigma.
[[nodiscard]] std::vector<double> gaussian_smooth_index(std::span<const double> x, double sigma);

// Sampled first passage (11.1), EMPIRICAL.md §5 (the authors' compute_crossing_points):
//   v0 = values[0] (raw first record; tau[0] may be 0), θ = emergence_threshold(v0, v_target, criterion);
//   s = gaussian_smooth_index(values, smoothing_sigma) (no smoothing for sigma = 0);
//   decaying iff s[0] > θ, otherwise rising (so s[0] == θ counts as rising, as in the authors' code);
//   τ* = tau[i] for the first i ≥ 1 with s[i] > θ (rising) / s[i] < θ (decaying) — strictly "on the far side".
// With smoothing, the direction can differ from sign(v_target − v0); the returned `rising` is the one used.
// Returns std::nullopt if no sample is past θ. Throws std::invalid_argument for empty or mismatched spans,
// non-finite entries, τ not strictly increasing, or the threshold's own domain errors.
[[nodiscard]] std::optional<Emergence> first_crossing_sampled(std::span<const double> tau,
                                                              std::span<const double> values, double v_target,
                                                              Criterion criterion, double smoothing_sigma = 0.0);

// Gray zone (11.3): lo ≤ v0/v_target ≤ hi, inclusive as in THEORY.md. (The authors test the open interval on
// λ_k / mean_j v_j(first); for the symmetric default [0.5, 2] the two ratios are equivalent, and only exact
// boundary values differ.) Throws std::invalid_argument unless v0 ≥ 0, v_target > 0 (all finite) and 0 < lo ≤ hi.
[[nodiscard]] bool in_gray_zone(double v0, double v_target, double lo = 0.5, double hi = 2.0);

}  // namespace specbias::analysis
