// `specbias sweep`: run one config over the Cartesian product of parameter lists (e.g. the one-layer row of the
// paper's Fig. 6: model.Q × analysis.criterion), each combination in its own run directory, and tabulate the
// fitted power-law exponents (11.4) of every combination in sweep.csv and on stdout.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace specbias::pipeline {

struct SweepAxis {
  std::string key;                  // config key, e.g. "model.Q"
  std::vector<std::string> values;  // TOML values as text, e.g. {"0.0", "0.1"}
};

// Parses "model.Q=0,0.1,0.5" (values split on commas outside brackets/quotes).
SweepAxis parse_sweep_axis(const std::string& spec);

// Runs every combination; returns the table printed to stdout (also written to out_dir/sweep.csv).
std::string run_sweep(const std::string& config_path, const std::vector<std::string>& overrides,
                      const std::vector<SweepAxis>& axes, const std::filesystem::path& out_dir);

}  // namespace specbias::pipeline
