// From a resolved Config to the model objects: data moments (explicit spectrum, generators (12.4)/(13.2), or
// a data file's empirical moments), the denoiser problem of any kind (family, depth, initial values, η, σ range)
// and the solver options.
#pragma once

#include "config/run_config.hpp"
#include "models/data_moments.hpp"
#include "models/nested_paths.hpp"

namespace specbias::pipeline {

models::DataMoments build_data(const config::Config& c);
// Throws ConfigError (file, key, fix) for constraints that need the data dimension (per-mode list lengths,
// hidden >= d) when the config alone could not check them (data files).
models::DenoiserProblem build_problem(const config::Config& c, models::DataMoments data);
models::NestedOptions build_nested_options(const config::Config& c, const models::DenoiserProblem& p, bool full_matrix);
// Which numeric path a config asks for, after resolving "auto" (mode-wise when the start is aligned).
bool use_full_matrix(const config::Config& c, const models::DenoiserProblem& p);
// The outer integrator `solver.outer = "auto"` resolves to: bsimp (one layer) or rosenbrock (factorised kinds) on
// the mode-wise path, exponential on the one-layer full-matrix path, dopri5 on the full-matrix path of the
// factorised kinds.
std::string resolved_outer(const config::Config& c, const models::DenoiserProblem& p, bool full_matrix);

}  // namespace specbias::pipeline
