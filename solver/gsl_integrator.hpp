// Stiff-capable integration of dx/dt = f(x, t) on Eigen vectors through GSL odeiv2.
//
// Gradient flows are stiff at large noise levels (rates up to 2η(λ+σ_T²) ≈ 12800η, THEORY.md §15), so explicit
// dopri5 would need ~10^6 steps to reach late training times. GslIntegrator offers GSL's implicit Bader–Deuflhard
// extrapolation (`bsimp`, high order, best at tight tolerances), variable-order BDF (`msbdf`) and, for
// non-stiff reference runs, Prince–Dormand 8(9) (`rk8pd`). Implicit methods use the caller's Jacobian.
// Like DenseIntegrator it advances on demand, counts steps against a limit and rejects non-finite states.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>

#include "solver/ode_options.hpp"

namespace specbias::solver {

enum class GslMethod { bsimp, msbdf, rk8pd };

// Parses "bsimp" | "msbdf" | "rk8pd"; throws std::invalid_argument listing the allowed names.
GslMethod parse_gsl_method(const std::string& name);
std::string to_string(GslMethod m);

class GslIntegrator {
 public:
  using System = std::function<void(const Eigen::VectorXd& x, Eigen::VectorXd& dxdt, double t)>;
  // Writes ∂f/∂x (n×n) and ∂f/∂t (n) at (x, t).
  using Jacobian =
      std::function<void(const Eigen::VectorXd& x, double t, Eigen::MatrixXd& dfdx, Eigen::VectorXd& dfdt)>;

  GslIntegrator(GslMethod method, System f, Jacobian jac, Eigen::VectorXd x0, double t0, OdeOptions options);
  ~GslIntegrator();
  GslIntegrator(GslIntegrator&&) noexcept;
  GslIntegrator& operator=(GslIntegrator&&) noexcept;
  GslIntegrator(const GslIntegrator&) = delete;
  GslIntegrator& operator=(const GslIntegrator&) = delete;

  // Integrate to exactly t_target (t_target ≥ time()); afterwards state() is x(t_target).
  void advance_to(double t_target);

  [[nodiscard]] double time() const;
  [[nodiscard]] const Eigen::VectorXd& state() const;
  [[nodiscard]] const OdeStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace specbias::solver
