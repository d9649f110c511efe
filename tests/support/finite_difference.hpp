// Central finite-difference gradient check (STYLE.md §9; ggml's MODE_GRAD): perturbs each entry of a
// parameter or input buffer by ±h in place, evaluates a scalar loss, and compares (L(+h) − L(−h))/2h with an
// analytic gradient. The error is normalised by the largest analytic entry, so tiny entries neither dominate
// nor escape the check.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace specbias::test {

struct GradCheck {
  double max_abs_error = 0.0;  // max_i |fd_i − analytic_i|
  double max_abs_grad = 0.0;   // max_i |analytic_i|
  std::size_t entries = 0;
  [[nodiscard]] double rel_error() const { return max_abs_error / std::max(max_abs_grad, 1e-300); }
};

// `values` are perturbed one at a time (and restored); `analytic` must already hold the gradient (it is
// copied first, so `loss` may overwrite the buffer it came from). `loss()` recomputes the scalar loss.
template <class Loss>
GradCheck check_gradient(std::span<double> values, std::span<const double> analytic_in, Loss&& loss, double h) {
  const std::vector<double> analytic(analytic_in.begin(), analytic_in.end());
  GradCheck r;
  r.entries = values.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double saved = values[i];
    values[i] = saved + h;
    const double plus = loss();
    values[i] = saved - h;
    const double minus = loss();
    values[i] = saved;
    const double fd = (plus - minus) / (2.0 * h);
    r.max_abs_error = std::max(r.max_abs_error, std::abs(fd - analytic[i]));
    r.max_abs_grad = std::max(r.max_abs_grad, std::abs(analytic[i]));
  }
  return r;
}

}  // namespace specbias::test
