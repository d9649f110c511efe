// Adaptive 1-D quadrature through GSL (QAG with 61-point Gauss–Kronrod rules, or QAGP when the integrand has
// known features at interior points). Failures to reach the requested accuracy are reported, never hidden.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace specbias::solver {

struct QuadratureOptions {
  double abs_tol = 0.0;         // requested absolute error (0: relative only)
  double rel_tol = 1e-12;       // requested relative error
  std::size_t max_intervals = 2000;
  std::string context;          // named in error messages
};

struct QuadratureResult {
  double value = 0.0;
  double abs_error = 0.0;       // GSL's error estimate
  std::size_t evaluations = 0;
};

// ∫_a^b f(x) dx. `breakpoints` are interior points where f changes character (they are sorted, clipped to
// (a, b) and deduplicated here). a > b gives minus the integral over [b, a].
// Throws NumericalError when GSL cannot reach the tolerance (names the interval, tolerance and estimate).
QuadratureResult integrate(const std::function<double(double)>& f, double a, double b,
                           std::vector<double> breakpoints = {}, const QuadratureOptions& options = {});

}  // namespace specbias::solver
