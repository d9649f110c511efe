// Stiff integration of many decoupled autonomous scalar ODEs at once: dx_i/dt = f_i(x_i), i = 0…n−1.
//
// The 4th-order L-stable Rosenbrock method with embedded 3rd-order error estimate of Boost.Odeint's rosenbrock4
// (Hairer–Wanner coefficients, six right-hand-side evaluations and one Jacobian per step) under odeint's step-size
// controller (rosenbrock4_controller: safety 0.9, step factors in [1/5, 6], Gustafsson's predictive correction
// after accepted steps), specialised to a diagonal Jacobian: the stage systems (I/(γh) − J) g = r become
// element-wise divisions, and the state is one Eigen array, so every right-hand-side call is vectorised over the n
// equations (the per-mode flows of one σ node: vectorised exp/log make each evaluation a few ns per mode). One
// step size is shared by all equations; the error is the max norm of |err_i|/(atol + rtol·max(|x_i|, |x_i,new|)).
// (Separate step sizes per equation were measured slower: scalar code cannot use the vectorised exp/log.)
// Why not odeint's own stepper: it needs uBLAS matrices, which do not compile as C++20 with Boost 1.74, and an
// n×n LU per step; why not GSL bsimp: ~140 right-hand sides per step and per-equation driver overhead
// (benchmarks/ (d)).
// Like the other integrators it advances on demand (exactly to each requested time), counts steps against
// OdeOptions::max_steps and rejects non-finite states. Forward in time only.
#pragma once

#include <Eigen/Core>
#include <functional>
#include <string>

#include "solver/ode_options.hpp"

namespace specbias::solver {

class DecoupledRosenbrock {
 public:
  using Rhs = std::function<void(const Eigen::ArrayXd& x, Eigen::ArrayXd& dxdt)>;
  // Writes f(x) and the diagonal Jacobian ∂f_i/∂x_i at x (the first stage needs both).
  using RhsAndJacobian = std::function<void(const Eigen::ArrayXd& x, Eigen::ArrayXd& dxdt, Eigen::ArrayXd& dfdx)>;

  DecoupledRosenbrock(Rhs f, RhsAndJacobian f_and_jac, Eigen::ArrayXd x0, double t0, OdeOptions options);

  void advance_to(double t_target);  // t_target ≥ time(); afterwards state() is x(t_target)
  [[nodiscard]] double time() const { return t_; }
  [[nodiscard]] const Eigen::ArrayXd& state() const { return x_; }
  [[nodiscard]] const OdeStats& stats() const { return stats_; }

 private:
  // One trial step of size h from x_ into x_new_; returns the error norm (≤ 1: accept).
  double trial_step(double h);
  [[nodiscard]] std::string where() const;

  Rhs f_;
  RhsAndJacobian fj_;
  OdeOptions options_;
  Eigen::ArrayXd x_;
  double t_;
  double h_;  // next trial step proposed by the controller
  double h_old_ = 0.0, err_old_ = 0.0;
  bool first_step_ = true, last_rejected_ = false;
  OdeStats stats_{};
  Eigen::ArrayXd x_new_, err_, m_, g1_, g2_, g3_, g4_, g5_, xt_, ft_;  // workspaces
};

}  // namespace specbias::solver
