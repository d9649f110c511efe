// Adaptive Dormand–Prince 5(4) integration with dense output on Eigen states (Boost.Odeint underneath).
//
// DenseIntegrator owns one trajectory and advances it on demand (`advance_to`), so callers can record the
// state at requested times, resume later (the nested driver advances every sigma node tau by tau) and locate
// the first threshold crossing of any scalar observable by dense output + root finding (odeint's
// examples/find_crossing.cpp pattern). Every accepted step is checked for non-finite values (the error names
// the context and the time) and counted against OdeOptions::max_steps. Integration may run backwards in time.
//
// The include of odeint/external/eigen/eigen.hpp is essential: without it dopri5 on Eigen types compiles and
// silently does nothing (tests/solver/dense_integrator_test.cpp guards this).
#pragma once

#include <Eigen/Core>
#include <boost/math/tools/roots.hpp>
#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <cmath>
#include <functional>
#include <optional>
#include <sstream>
#include <utility>

#include "common/errors.hpp"
#include "solver/ode_options.hpp"

namespace specbias::solver {

// Odeint's copy/resize helpers mis-detect Eigen 3.4 *matrices* (their new STL iterators are vector-only), so
// the integrator state is always a flat Eigen::VectorXd; MatrixDenseIntegrator below maps matrix states onto it.
class DenseIntegrator {
 public:
  using State = Eigen::VectorXd;
  // dx/dt = f(x, t); the callable writes into dxdt (already sized like x).
  using System = std::function<void(const State& x, State& dxdt, double t)>;

  DenseIntegrator(System f, State x0, double t0, OdeOptions options)
      : f_(std::move(f)), options_(std::move(options)), x_(std::move(x0)), t_(t0),
        stepper_(boost::numeric::odeint::make_dense_output(options_.atol, options_.rtol, Stepper())) {
    check_finite(x_, t_);
  }

  [[nodiscard]] double time() const { return t_; }
  [[nodiscard]] const State& state() const { return x_; }
  [[nodiscard]] const OdeStats& stats() const { return stats_; }

  // Integrate to exactly t_target (forwards or backwards); afterwards state() is x(t_target).
  void advance_to(double t_target) {
    if (t_target == t_) return;
    const double dir = t_target > t_ ? 1.0 : -1.0;
    if (!started_ || dir != direction_) restart(dir);
    // Step until the dense-output interval covers t_target, then interpolate inside the last step.
    while (dir * (stepper_.current_time() - t_target) < 0) take_step();
    stepper_.calc_state(t_target, x_);
    t_ = t_target;
  }

  // First time in (time(), t_end] at which g(x(t), t) changes sign from its value at time(); advances the
  // integrator to that time (root found in t to `t_tol` via TOMS 748 on the dense output). If no sign change
  // happens before t_end, advances to t_end and returns nullopt (no crossing is a result, not an error).
  std::optional<double> advance_to_first_crossing(const std::function<double(const State&, double)>& g,
                                                  double t_end, double t_tol = 1e-13) {
    const double dir = t_end > t_ ? 1.0 : -1.0;
    if (!started_ || dir != direction_) restart(dir);
    double g_prev = g(x_, t_);
    double t_prev = t_;
    State tmp = x_;
    while (dir * (stepper_.current_time() - t_end) < 0) {
      take_step();
      const double t_hi = dir * (stepper_.current_time() - t_end) < 0 ? stepper_.current_time() : t_end;
      stepper_.calc_state(t_hi, tmp);
      const double g_hi = g(tmp, t_hi);
      if ((g_prev < 0) != (g_hi < 0)) {
        auto eval = [&](double tt) {
          stepper_.calc_state(tt, tmp);
          return g(tmp, tt);
        };
        boost::uintmax_t iters = 200;
        auto tol = [&](double a, double b) { return std::abs(a - b) <= t_tol * (1.0 + std::abs(a)); };
        const auto [lo, hi] = boost::math::tools::toms748_solve(eval, t_prev, t_hi, g_prev, g_hi, tol, iters);
        const double root = 0.5 * (lo + hi);
        stepper_.calc_state(root, x_);
        t_ = root;
        return root;
      }
      g_prev = g_hi;
      t_prev = t_hi;
    }
    stepper_.calc_state(t_end, x_);
    t_ = t_end;
    return std::nullopt;
  }

 private:
  using Stepper = boost::numeric::odeint::runge_kutta_dopri5<State, double, State, double,
                                                              boost::numeric::odeint::vector_space_algebra>;
  using DenseStepper = typename boost::numeric::odeint::result_of::make_dense_output<Stepper>::type;

  void restart(double dir) {
    direction_ = dir;
    started_ = true;
    stepper_.initialize(x_, t_, dir * std::abs(options_.initial_step));
  }

  void take_step() {
    if (stats_.steps >= options_.max_steps) {
      std::ostringstream msg;
      msg << "step limit of " << options_.max_steps << " steps reached at t = " << stepper_.current_time()
          << " (last step " << stats_.last_step << ")" << where()
          << "; raise `" << options_.max_steps_key << "` or choose a stiff integrator";
      throw NumericalError(msg.str());
    }
    auto counted = [this](const State& x, State& dxdt, double t) {
      ++stats_.rhs_evaluations;
      f_(x, dxdt, t);
    };
    const auto [t_old, t_new] = stepper_.do_step(counted);
    ++stats_.steps;
    stats_.last_step = t_new - t_old;
    check_finite(stepper_.current_state(), t_new);
  }

  void check_finite(const State& x, double t) const {
    if (!x.allFinite()) {
      std::ostringstream msg;
      msg << "non-finite state at t = " << t << where() << " after " << stats_.steps << " steps";
      throw NumericalError(msg.str());
    }
  }

  [[nodiscard]] std::string where() const { return options_.context.empty() ? "" : " (" + options_.context + ")"; }

  System f_;
  OdeOptions options_;
  State x_;
  double t_;
  DenseStepper stepper_;
  OdeStats stats_{};
  bool started_ = false;
  double direction_ = 1.0;
};

// A matrix-valued ODE dX/dt = f(X, t) (e.g. the PF-ODE propagator (4.2)) integrated as its column-major
// flattening; state() views the current value as a rows×cols matrix without copying.
class MatrixDenseIntegrator {
 public:
  using Matrix = Eigen::MatrixXd;
  using System = std::function<void(const Eigen::Map<const Matrix>& x, Eigen::Map<Matrix>& dxdt, double t)>;

  MatrixDenseIntegrator(System f, const Matrix& x0, double t0, OdeOptions options)
      : rows_(x0.rows()), cols_(x0.cols()),
        ode_(
            [f = std::move(f), r = x0.rows(), c = x0.cols()](const Eigen::VectorXd& x, Eigen::VectorXd& dx,
                                                               double t) {
              const Eigen::Map<const Matrix> xm(x.data(), r, c);
              Eigen::Map<Matrix> dxm(dx.data(), r, c);
              f(xm, dxm, t);
            },
            Eigen::Map<const Eigen::VectorXd>(x0.data(), x0.size()), t0, std::move(options)) {}

  void advance_to(double t_target) { ode_.advance_to(t_target); }
  [[nodiscard]] Eigen::Map<const Matrix> state() const { return {ode_.state().data(), rows_, cols_}; }
  [[nodiscard]] double time() const { return ode_.time(); }
  [[nodiscard]] const OdeStats& stats() const { return ode_.stats(); }

 private:
  Eigen::Index rows_, cols_;
  DenseIntegrator ode_;
};

}  // namespace specbias::solver
