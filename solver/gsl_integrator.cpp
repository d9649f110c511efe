#include "solver/gsl_integrator.hpp"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_odeiv2.h>

#include <sstream>
#include <stdexcept>

#include "common/errors.hpp"

namespace specbias::solver {

GslMethod parse_gsl_method(const std::string& name) {
  if (name == "bsimp") return GslMethod::bsimp;
  if (name == "msbdf") return GslMethod::msbdf;
  if (name == "rk8pd") return GslMethod::rk8pd;
  throw std::invalid_argument("unknown GSL integrator '" + name + "' (allowed: bsimp, msbdf, rk8pd)");
}

std::string to_string(GslMethod m) {
  switch (m) {
    case GslMethod::bsimp: return "bsimp";
    case GslMethod::msbdf: return "msbdf";
    case GslMethod::rk8pd: return "rk8pd";
  }
  return "?";
}

struct GslIntegrator::Impl {
  System f;
  Jacobian jac;
  OdeOptions options;
  Eigen::VectorXd x;
  double t;
  OdeStats stats;
  gsl_odeiv2_system sys{};
  gsl_odeiv2_driver* driver = nullptr;  // multistep methods (msbdf) need the driver's bookkeeping
  // Scratch views so the C callbacks do not allocate.
  Eigen::VectorXd x_tmp, dx_tmp, dfdt_tmp;
  Eigen::MatrixXd dfdx_tmp;

  static int rhs(double t, const double y[], double dydt[], void* p) {
    auto* self = static_cast<Impl*>(p);
    const auto n = self->x.size();
    ++self->stats.rhs_evaluations;
    self->x_tmp = Eigen::Map<const Eigen::VectorXd>(y, n);
    self->f(self->x_tmp, self->dx_tmp, t);
    Eigen::Map<Eigen::VectorXd>(dydt, n) = self->dx_tmp;
    return GSL_SUCCESS;
  }
  static int jacobian(double t, const double y[], double* dfdy, double dfdt[], void* p) {
    auto* self = static_cast<Impl*>(p);
    const auto n = self->x.size();
    ++self->stats.jacobian_evaluations;
    self->x_tmp = Eigen::Map<const Eigen::VectorXd>(y, n);
    self->jac(self->x_tmp, t, self->dfdx_tmp, self->dfdt_tmp);
    // GSL expects the Jacobian row-major.
    Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(dfdy, n, n) = self->dfdx_tmp;
    Eigen::Map<Eigen::VectorXd>(dfdt, n) = self->dfdt_tmp;
    return GSL_SUCCESS;
  }

  [[nodiscard]] std::string where() const { return options.context.empty() ? "" : " (" + options.context + ")"; }
};

GslIntegrator::GslIntegrator(GslMethod method, System f, Jacobian jac, Eigen::VectorXd x0, double t0,
                             OdeOptions options)
    : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.f = std::move(f);
  s.jac = std::move(jac);
  s.options = std::move(options);
  s.x = std::move(x0);
  s.t = t0;
  const auto n = static_cast<size_t>(s.x.size());
  s.x_tmp.resize(s.x.size());
  s.dx_tmp.resize(s.x.size());
  s.dfdt_tmp.resize(s.x.size());
  s.dfdx_tmp.resize(s.x.size(), s.x.size());
  if (method != GslMethod::rk8pd && !s.jac)
    throw std::invalid_argument("GSL integrator '" + to_string(method) + "' needs a Jacobian");
  s.sys = gsl_odeiv2_system{&Impl::rhs, s.jac ? &Impl::jacobian : nullptr, n, &s};
  const gsl_odeiv2_step_type* type = method == GslMethod::bsimp   ? gsl_odeiv2_step_bsimp
                                     : method == GslMethod::msbdf ? gsl_odeiv2_step_msbdf
                                                                  : gsl_odeiv2_step_rk8pd;
  s.driver = gsl_odeiv2_driver_alloc_standard_new(&s.sys, type, std::abs(s.options.initial_step), s.options.atol,
                                                  s.options.rtol, 1.0, 0.0);
  gsl_set_error_handler_off();  // report failures through status codes, never abort()
  if (!s.x.allFinite()) throw NumericalError("non-finite initial state" + s.where());
}

GslIntegrator::~GslIntegrator() {
  if (!impl_) return;
  gsl_odeiv2_driver_free(impl_->driver);
}
GslIntegrator::GslIntegrator(GslIntegrator&&) noexcept = default;
GslIntegrator& GslIntegrator::operator=(GslIntegrator&&) noexcept = default;

void GslIntegrator::advance_to(double t_target) {
  auto& s = *impl_;
  if (t_target < s.t) throw std::invalid_argument("GslIntegrator integrates forwards only");
  if (t_target == s.t) return;
  const std::size_t left = s.options.max_steps > s.stats.steps ? s.options.max_steps - s.stats.steps : 0;
  gsl_odeiv2_driver_set_nmax(s.driver, left);
  const int status = gsl_odeiv2_driver_apply(s.driver, &s.t, t_target, s.x.data());
  s.stats.steps += s.driver->n;
  s.stats.last_step = s.driver->h;
  if (status == GSL_EMAXITER || left == 0) {
    std::ostringstream msg;
    msg << "step limit of " << s.options.max_steps << " steps reached at t = " << s.t << s.where() << "; raise `"
        << s.options.max_steps_key << "`";
    throw NumericalError(msg.str());
  }
  if (status != GSL_SUCCESS) {
    std::ostringstream msg;
    msg << "GSL " << gsl_odeiv2_step_name(s.driver->s) << " failed at t = " << s.t << " with step " << s.driver->h
        << ": " << gsl_strerror(status) << s.where();
    throw NumericalError(msg.str());
  }
  if (!s.x.allFinite()) {
    std::ostringstream msg;
    msg << "non-finite state at t = " << s.t << s.where() << " after " << s.stats.steps << " steps";
    throw NumericalError(msg.str());
  }
}

double GslIntegrator::time() const { return impl_->t; }
const Eigen::VectorXd& GslIntegrator::state() const { return impl_->x; }
const OdeStats& GslIntegrator::stats() const { return impl_->stats; }

}  // namespace specbias::solver
