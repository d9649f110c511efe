// Options and statistics shared by every integrator in solver/ (STYLE.md §6: every integration has a step
// limit, and its error names the config key that raises it).
#pragma once

#include <cstddef>
#include <string>

namespace specbias::solver {

struct OdeOptions {
  double rtol = 1e-10;                     // relative tolerance, per component
  double atol = 1e-13;                     // absolute tolerance, per component
  double initial_step = 1e-4;              // first trial step (sign is taken from the direction of integration)
  std::size_t max_steps = 2'000'000;       // per integration; exceeding it is a NumericalError
  std::string max_steps_key = "solver.max_steps";  // config key named in the step-limit error
  std::string context;                     // where this integration sits, e.g. "gradient flow, sigma = 0.5"
};

struct OdeStats {
  std::size_t steps = 0;           // accepted steps
  std::size_t rhs_evaluations = 0; // right-hand-side calls (including rejected trial steps)
  std::size_t jacobian_evaluations = 0;
  double last_step = 0.0;          // size of the last accepted step

  OdeStats& operator+=(const OdeStats& o) {
    steps += o.steps;
    rhs_evaluations += o.rhs_evaluations;
    jacobian_evaluations += o.jacobian_evaluations;
    last_step = o.last_step;
    return *this;
  }
};

}  // namespace specbias::solver
