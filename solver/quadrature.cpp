#include "solver/quadrature.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "common/errors.hpp"

namespace specbias::solver {

QuadratureResult integrate(const std::function<double(double)>& f, double a, double b,
                           std::vector<double> breakpoints, const QuadratureOptions& options) {
  if (a == b) return {};
  if (a > b) {
    QuadratureResult r = integrate(f, b, a, std::move(breakpoints), options);
    r.value = -r.value;
    return r;
  }
  gsl_set_error_handler_off();
  struct Ctx {
    const std::function<double(double)>* f;
    std::size_t evaluations;
  } ctx{&f, 0};
  gsl_function gf{[](double x, void* p) {
                    auto* c = static_cast<Ctx*>(p);
                    ++c->evaluations;
                    return (*c->f)(x);
                  },
                  &ctx};
  std::unique_ptr<gsl_integration_workspace, decltype(&gsl_integration_workspace_free)> ws(
      gsl_integration_workspace_alloc(options.max_intervals), &gsl_integration_workspace_free);

  std::vector<double> pts{a};
  std::sort(breakpoints.begin(), breakpoints.end());
  for (double p : breakpoints)
    if (p > a && p < b && p > pts.back()) pts.push_back(p);
  pts.push_back(b);

  QuadratureResult result;
  int status;
  if (pts.size() > 2) {
    status = gsl_integration_qagp(&gf, pts.data(), pts.size(), options.abs_tol, options.rel_tol,
                                  options.max_intervals, ws.get(), &result.value, &result.abs_error);
  } else {
    status = gsl_integration_qag(&gf, a, b, options.abs_tol, options.rel_tol, options.max_intervals,
                                 GSL_INTEG_GAUSS61, ws.get(), &result.value, &result.abs_error);
  }
  result.evaluations = ctx.evaluations;
  // GSL_EROUND: round-off prevents the last digit; the estimate is still within a few ulps of the tolerance.
  const bool roundoff_only =
      status == GSL_EROUND && result.abs_error <= 100 * std::max(options.abs_tol, options.rel_tol * std::abs(result.value));
  if (status != GSL_SUCCESS && !roundoff_only) {
    std::ostringstream msg;
    msg << "quadrature over [" << a << ", " << b << "] did not reach rel_tol " << options.rel_tol << " (estimate "
        << result.value << " ± " << result.abs_error << "): " << gsl_strerror(status)
        << (options.context.empty() ? "" : " (" + options.context + ")");
    throw NumericalError(msg.str());
  }
  return result;
}

}  // namespace specbias::solver
