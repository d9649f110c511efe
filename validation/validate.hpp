// `specbias validate`: every numeric path of the one-layer engine held against its closed form, on the config's
// own data and τ grid, with max abs/rel errors and a pass/fail per row against THEORY.md §15's tolerances
// (overridable in [validation]). Rows:
//   weights (3.2)/(3.4) vs full-matrix dopri5 flow on the raw gradient (2.3) and vs per-mode bsimp flow;
//   invariants: ∇L = 0 at the optimum (2.4); loss non-increasing along the flow; excess loss (3.5);
//   generated variance (4.9) vs adaptive quadrature (4.4), vs the nested mode-wise path for each outer
//   integrator, and vs the full-matrix PF transport (4.1)–(4.2).
#pragma once

#include <string>
#include <vector>

#include "config/run_config.hpp"

namespace specbias::validation {

struct Row {
  std::string check;      // what is compared
  std::string reference;  // against what
  double max_abs = 0.0;
  double max_rel = 0.0;
  double tolerance = 0.0;
  bool relative = true;   // tolerance applies to max_rel (else max_abs)
  double seconds = 0.0;
  bool pass = false;
};

struct Report {
  std::vector<Row> rows;
  bool all_pass = true;
};

Report run_validation(const config::Config& c);
std::string format_table(const Report& r);

}  // namespace specbias::validation
