#include "solver/decoupled_rosenbrock.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "common/errors.hpp"

namespace specbias::solver {

namespace {
// boost/numeric/odeint/stepper/rosenbrock4.hpp, default_rosenbrock_coefficients (the d_i and c_i time offsets
// are not needed: the systems here are autonomous, ∂f/∂t = 0).
constexpr double kGamma = 0.25;
constexpr double a21 = 0.1544000000000000e+01;
constexpr double a31 = 0.9466785280815826e+00, a32 = 0.2557011698983284e+00;
constexpr double a41 = 0.3314825187068521e+01, a42 = 0.2896124015972201e+01, a43 = 0.9986419139977817e+00;
constexpr double a51 = 0.1221224509226641e+01, a52 = 0.6019134481288629e+01, a53 = 0.1253708332932087e+02,
                 a54 = -0.6878860361058950e+00;
constexpr double c21 = -0.5668800000000000e+01;
constexpr double c31 = -0.2430093356833875e+01, c32 = -0.2063599157091915e+00;
constexpr double c41 = -0.1073529058151375e+00, c42 = -0.9594562251023355e+01, c43 = -0.2047028614809616e+02;
constexpr double c51 = 0.7496443313967647e+01, c52 = -0.1024680431464352e+02, c53 = -0.3399990352819905e+02,
                 c54 = 0.1170890893206160e+02;
constexpr double c61 = 0.8083246795921522e+01, c62 = -0.7981132988064893e+01, c63 = -0.3152159432874371e+02,
                 c64 = 0.1631930543123136e+02, c65 = -0.6058818238834054e+01;
// rosenbrock4_controller
constexpr double kSafe = 0.9, kFac1 = 5.0, kFac2 = 1.0 / 6.0;
}  // namespace

DecoupledRosenbrock::DecoupledRosenbrock(Rhs f, RhsAndJacobian f_and_jac, Eigen::ArrayXd x0, double t0,
                                         OdeOptions options)
    : f_(std::move(f)), fj_(std::move(f_and_jac)), options_(std::move(options)), x_(std::move(x0)), t_(t0),
      h_(std::abs(options_.initial_step)) {
  if (!f_ || !fj_) throw std::invalid_argument("DecoupledRosenbrock needs a right-hand side and its diagonal Jacobian");
  if (!x_.allFinite()) throw NumericalError("non-finite initial state" + where());
  for (Eigen::ArrayXd* a : {&x_new_, &err_, &m_, &g1_, &g2_, &g3_, &g4_, &g5_, &xt_, &ft_}) a->resize(x_.size());
}

std::string DecoupledRosenbrock::where() const { return options_.context.empty() ? "" : " (" + options_.context + ")"; }

double DecoupledRosenbrock::trial_step(double h) {
  // rosenbrock4::do_step with the LU of (I/(γh) − J) replaced by element-wise division by m = 1/(γh) − J.
  fj_(x_, ft_, m_);
  ++stats_.jacobian_evaluations;
  m_ = 1.0 / (kGamma * h) - m_;
  g1_ = ft_ / m_;
  xt_ = x_ + a21 * g1_;
  f_(xt_, ft_);
  g2_ = (ft_ + (c21 / h) * g1_) / m_;
  xt_ = x_ + a31 * g1_ + a32 * g2_;
  f_(xt_, ft_);
  g3_ = (ft_ + (c31 * g1_ + c32 * g2_) / h) / m_;
  xt_ = x_ + a41 * g1_ + a42 * g2_ + a43 * g3_;
  f_(xt_, ft_);
  g4_ = (ft_ + (c41 * g1_ + c42 * g2_ + c43 * g3_) / h) / m_;
  xt_ = x_ + a51 * g1_ + a52 * g2_ + a53 * g3_ + a54 * g4_;
  f_(xt_, ft_);
  g5_ = (ft_ + (c51 * g1_ + c52 * g2_ + c53 * g3_ + c54 * g4_) / h) / m_;
  xt_ += g5_;
  f_(xt_, ft_);
  err_ = (ft_ + (c61 * g1_ + c62 * g2_ + c63 * g3_ + c64 * g4_ + c65 * g5_) / h) / m_;
  x_new_ = xt_ + err_;
  stats_.rhs_evaluations += 6;
  // rosenbrock4_controller::error, in the max norm (an RMS norm would let one of many equations miss its tolerance).
  const double e = (err_.abs() / (options_.atol + options_.rtol * x_.abs().max(x_new_.abs()))).maxCoeff();
  return std::isfinite(e) ? e : std::numeric_limits<double>::infinity();
}

void DecoupledRosenbrock::advance_to(double t_target) {
  if (t_target < t_) throw std::invalid_argument("DecoupledRosenbrock integrates forwards only");
  while (t_ < t_target) {
    if (stats_.steps >= options_.max_steps) {
      std::ostringstream msg;
      msg << "step limit of " << options_.max_steps << " steps reached at t = " << t_ << " (last step "
          << stats_.last_step << ")" << where() << "; raise `" << options_.max_steps_key << "`";
      throw NumericalError(msg.str());
    }
    // Land exactly on the target; the controller's proposal h_ is kept for the steps after it.
    const bool last = t_ + h_ >= t_target;
    const double h = last ? t_target - t_ : h_;
    const double err = trial_step(h);
    // rosenbrock4_controller::try_step (err^{1/4} as two square roots).
    double fac = std::max(kFac2, std::min(kFac1, std::sqrt(std::sqrt(err)) / kSafe));
    double h_new = h / fac;
    if (err <= 1.0) {
      if (!first_step_) {
        double fac_pred = (h_old_ / h) * std::sqrt(std::sqrt(err * err / err_old_)) / kSafe;
        fac_pred = std::max(kFac2, std::min(kFac1, fac_pred));
        fac = std::max(fac, fac_pred);
        h_new = h / fac;
      }
      first_step_ = false;
      h_old_ = h;
      err_old_ = std::max(0.01, err);
      if (last_rejected_) h_new = std::min(h_new, h);
      last_rejected_ = false;
      x_.swap(x_new_);
      t_ = last ? t_target : t_ + h;
      ++stats_.steps;
      stats_.last_step = h;
      if (!x_.allFinite()) {
        std::ostringstream msg;
        msg << "non-finite state at t = " << t_ << where() << " after " << stats_.steps << " steps";
        throw NumericalError(msg.str());
      }
      // A step truncated to land on the target must not shrink the proposal for the next interval.
      h_ = last ? std::max(h_new, h_) : h_new;
    } else {
      last_rejected_ = true;
      h_ = h_new;
      if (!(h_ > 0) || t_ + h_ == t_) {
        std::ostringstream msg;
        msg << "step size underflow at t = " << t_ << " (error norm " << err << ")" << where();
        throw NumericalError(msg.str());
      }
    }
  }
}

}  // namespace specbias::solver
