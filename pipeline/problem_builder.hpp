// From a resolved Config to the model objects: data moments (explicit spectrum, generators (12.4)/(13.2), or
// a data file's empirical moments), the one-layer problem (Q, W(0), b(0), η, σ range) and the solver options.
#pragma once

#include "config/run_config.hpp"
#include "models/data_moments.hpp"
#include "models/one_layer_nested.hpp"

namespace specbias::pipeline {

models::DataMoments build_data(const config::Config& c);
models::OneLayerProblem build_one_layer(const config::Config& c, models::DataMoments data);
models::NestedOptions build_nested_options(const config::Config& c, bool full_matrix);
// Which numeric path a config asks for, after resolving "auto" (mode-wise when the start is aligned).
bool use_full_matrix(const config::Config& c, const models::OneLayerProblem& p);

}  // namespace specbias::pipeline
