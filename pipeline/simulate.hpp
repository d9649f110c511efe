// `specbias simulate`: config → data → one-layer model → closed form and numeric paths → analysis → run
// directory. The run directory (docs/outputs.md) holds resolved_config.toml, environment.json, run.log,
// variance.csv (+ .npy), weights.csv, kl.csv, summary.json and figures/*.png. Every file is written atomically,
// each as soon as its data exists, so a failure midway keeps everything already computed.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "config/run_config.hpp"
#include "models/nested_paths.hpp"

namespace specbias::pipeline {

struct SimulationResult {
  models::DenoiserProblem problem;
  std::vector<double> tau;
  std::optional<models::GeneratedTrajectory> closed_form, quadrature, numeric;
  std::string numeric_path;  // "modewise" | "full_matrix"
  nlohmann::json summary;
};

// Computes everything (no files). `log` receives progress lines.
SimulationResult simulate(const config::Config& c, const std::function<void(const std::string&)>& log = {});

// simulate() plus every output file in `out_dir` (created if needed).
SimulationResult simulate_to_directory(const config::Config& c, const std::filesystem::path& out_dir, bool quiet);

}  // namespace specbias::pipeline
