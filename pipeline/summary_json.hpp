// JSON pieces every run's summary.json shares: numbers that may be non-finite (written as null), power-law fits
// (analysis/power_law), and the emergence criterion named in a config.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/emergence.hpp"
#include "analysis/power_law.hpp"

namespace specbias::pipeline {

nlohmann::json finite_or_null(double x);
// {alpha, prefactor, intercept, r2, alpha_stderr, reverse_slope, n}, or null when there is no fit.
nlohmann::json fit_json(const std::optional<analysis::PowerLawFit>& fit);
// "geometric" | "harmonic" | "arithmetic" (the config loaders have already rejected any other name).
analysis::Criterion parse_criterion(const std::string& name);

}  // namespace specbias::pipeline
