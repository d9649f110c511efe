#include "analysis/power_law.hpp"

#include <gsl/gsl_fit.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace specbias::analysis {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::optional<PowerLawFit> fit_power_law(std::span<const double> lambda, std::span<const double> tau_star) {
  if (lambda.size() != tau_star.size())
    throw std::invalid_argument("fit_power_law: " + std::to_string(lambda.size()) + " variances but " +
                                std::to_string(tau_star.size()) + " emergence times");
  std::vector<double> x;  // ln λ
  std::vector<double> y;  // ln τ*
  x.reserve(lambda.size());
  y.reserve(lambda.size());
  for (size_t i = 0; i < lambda.size(); ++i) {
    const double l = lambda[i];
    const double t = tau_star[i];
    if (!std::isfinite(l) || !std::isfinite(t) || !(l > 0.0) || !(t > 0.0)) continue;
    x.push_back(std::log(l));
    y.push_back(std::log(t));
  }
  const auto n = x.size();
  if (n < 2) return std::nullopt;

  // Centred sums decide the degenerate cases; GSL would return NaN/inf slopes silently.
  double x_mean = 0.0;
  double y_mean = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x_mean += x[i];
    y_mean += y[i];
  }
  x_mean /= static_cast<double>(n);
  y_mean /= static_cast<double>(n);
  double sxx = 0.0;
  double syy = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - x_mean) * (x[i] - x_mean);
    syy += (y[i] - y_mean) * (y[i] - y_mean);
  }
  if (!(sxx > 0.0)) return std::nullopt;

  double c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0;
  gsl_fit_linear(x.data(), 1, y.data(), 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);

  PowerLawFit fit{};
  fit.n = static_cast<int>(n);
  fit.alpha = -c1;
  fit.intercept = c0;
  fit.prefactor = std::exp(c0);
  // Two points are always fitted exactly: R² carries no information and the residual variance has 0 dof.
  fit.r2 = (n > 2 && syy > 0.0) ? 1.0 - sumsq / syy : kNaN;
  fit.alpha_stderr = n > 2 ? std::sqrt(cov11) : kNaN;
  if (syy > 0.0) {
    double r0 = 0.0, r1 = 0.0, rc00 = 0.0, rc01 = 0.0, rc11 = 0.0, rsumsq = 0.0;
    gsl_fit_linear(y.data(), 1, x.data(), 1, n, &r0, &r1, &rc00, &rc01, &rc11, &rsumsq);
    fit.reverse_slope = r1;
  } else {
    fit.reverse_slope = kNaN;
  }
  return fit;
}

std::optional<ExponentialFit> fit_exponential_rate(std::span<const double> tau, std::span<const double> gap) {
  if (tau.size() != gap.size())
    throw std::invalid_argument("fit_exponential_rate: " + std::to_string(tau.size()) + " times but " +
                                std::to_string(gap.size()) + " values");
  std::vector<double> x, y;
  for (size_t i = 0; i < tau.size(); ++i) {
    if (!std::isfinite(tau[i]) || !std::isfinite(gap[i]) || gap[i] == 0.0) continue;
    x.push_back(tau[i]);
    y.push_back(std::log(std::abs(gap[i])));
  }
  const auto n = x.size();
  if (n < 3) return std::nullopt;
  double xm = 0.0, ym = 0.0;
  for (size_t i = 0; i < n; ++i) {
    xm += x[i];
    ym += y[i];
  }
  xm /= static_cast<double>(n);
  ym /= static_cast<double>(n);
  double sxx = 0.0, syy = 0.0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - xm) * (x[i] - xm);
    syy += (y[i] - ym) * (y[i] - ym);
  }
  if (!(sxx > 0.0)) return std::nullopt;
  double c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0;
  gsl_fit_linear(x.data(), 1, y.data(), 1, n, &c0, &c1, &cov00, &cov01, &cov11, &sumsq);
  return ExponentialFit{-c1, std::sqrt(cov11), syy > 0.0 ? 1.0 - sumsq / syy : kNaN, static_cast<int>(n)};
}

BranchFits fit_branches(std::span<const ModeEmergence> modes) {
  std::vector<double> lambda_rising, tau_rising, lambda_decaying, tau_decaying;
  for (const ModeEmergence& m : modes) {
    if (m.gray || !m.tau_star) continue;
    if (m.rising) {
      lambda_rising.push_back(m.lambda);
      tau_rising.push_back(*m.tau_star);
    } else {
      lambda_decaying.push_back(m.lambda);
      tau_decaying.push_back(*m.tau_star);
    }
  }
  BranchFits fits;
  fits.rising = fit_power_law(lambda_rising, tau_rising);
  fits.decaying = fit_power_law(lambda_decaying, tau_decaying);
  return fits;
}

}  // namespace specbias::analysis
