// JSON pieces every run's summary.json shares: numbers that may be non-finite (written as null), power-law fits
// (analysis/power_law), and the emergence criterion named in a config.
#pragma once

#include <Eigen/Dense>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analysis/emergence.hpp"
#include "analysis/power_law.hpp"

namespace specbias::pipeline {

nlohmann::json finite_or_null(double x);
// {alpha, prefactor, intercept, r2, alpha_stderr, reverse_slope, n}, or null when there is no fit.
nlohmann::json fit_json(const std::optional<analysis::PowerLawFit>& fit);
// One entry per mode: {mode, lambda, v0, v_target, tau_star (null when none), branch, gray_zone}.
nlohmann::json emergence_json(const std::vector<analysis::ModeEmergence>& modes);
// The rising and decaying power-law fits (11.4) of those modes: {"rising": fit_json, "decaying": fit_json}.
nlohmann::json fits_json(const std::vector<analysis::ModeEmergence>& modes);
// Writes summary["emergence"] and ["fits"] (keyed by method: closed_form, quadrature, numeric), ["fit"] (the first
// of those methods present) and ["modes"], the per-mode headline with every method's tau_star_<method>.
void add_emergence_summary(nlohmann::json& summary, const Eigen::VectorXd& lambda, const nlohmann::json& emergence,
                           const nlohmann::json& fits);
// "geometric" | "harmonic" | "arithmetic" (the config loaders have already rejected any other name).
analysis::Criterion parse_criterion(const std::string& name);

}  // namespace specbias::pipeline
