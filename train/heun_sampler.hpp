// Deterministic Heun sampler of the probability-flow ODE (EDM Algorithm 1 without churn), THEORY.md (12.2)–(12.3),
// EMPIRICAL.md §4: σ_i = (σ_max^{1/ρ} + i/(n−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i = 0…n−1, σ_n = 0; x ← σ_max z;
// Heun correction on every step except the last, which is an Euler step to σ = 0 (it returns D(x; σ_{n−1})).
// NFE = 2n − 1. Works on a batch (features × batch, one column per sample) in the scalar type of the denoiser;
// σ values stay in double. Knows nothing about networks: the denoiser is any callable.
#pragma once

#include <Eigen/Dense>
#include <stdexcept>
#include <vector>

namespace specbias::train {

struct HeunSchedule {
  int steps = 20;  // n
  double sigma_min = 0.002;
  double sigma_max = 80.0;
  double rho = 7.0;

  // σ_0 … σ_{n−1} by (12.2), then σ_n = 0 (n + 1 values). Throws std::invalid_argument for steps < 1, or
  // 0 < σ_min < σ_max and ρ > 0 violated.
  [[nodiscard]] std::vector<double> sigmas() const;
  [[nodiscard]] int function_evaluations() const { return 2 * steps - 1; }
};

// x: on entry the standard-normal latents z (d × B), on exit the samples. denoiser(x, sigma, out) writes D(x; σ)
// into out (same shape as x). Two workspaces of the same shape are allocated once per call.
template <typename T, typename Denoiser>
void heun_sample(Denoiser&& denoiser, Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& x, const HeunSchedule& schedule) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  const std::vector<double> sig = schedule.sigmas();
  const int n = schedule.steps;
  Mat denoised(x.rows(), x.cols()), slope(x.rows(), x.cols()), x_next(x.rows(), x.cols());
  x *= static_cast<T>(sig[0]);
  for (int i = 0; i < n; ++i) {
    const double s = sig[static_cast<size_t>(i)], s_next = sig[static_cast<size_t>(i) + 1];
    const T h = static_cast<T>(s_next - s);
    denoiser(x, s, denoised);
    slope = (x - denoised) / static_cast<T>(s);  // d = (x − D(x;σ_i))/σ_i
    x_next = x + h * slope;
    if (i < n - 1) {
      denoiser(x_next, s_next, denoised);
      // x' = x + h (d + d')/2 with d' = (x' − D(x';σ_{i+1}))/σ_{i+1}
      slope += (x_next - denoised) / static_cast<T>(s_next);
      x_next = x + (h / T(2)) * slope;
    }
    x.swap(x_next);
  }
}

}  // namespace specbias::train
