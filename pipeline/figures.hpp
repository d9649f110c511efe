// Fig.-2-style PNG figures through gnuplot: (A) weights per mode vs τ at σ = 1, (B) generated variance per mode
// vs τ with the targets λ_k, (C) emergence time vs λ with the power-law fits, plus KL vs τ. Each figure's data
// (.dat) and gnuplot script (.gp) stay next to the PNG in figures/, so a figure can be restyled and redrawn
// without recomputing. Without gnuplot the scripts are still written and the report says so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/simulate.hpp"

namespace specbias::pipeline {

struct FigureReport {
  std::vector<std::string> messages;
  std::vector<std::filesystem::path> images;
};

// The preamble every figure script starts with: pngcairo terminal, output file, key, grid, viridis palette.
std::string gnuplot_header(const std::string& png, int width = 900, int height = 620);
// Runs `gnuplot NAME.gp` in dir. True when NAME.png was written (the log is then removed); otherwise the
// message names the script and its log. Always false, with a hint, in a build without gnuplot.
bool run_gnuplot_script(const std::filesystem::path& dir, const std::string& name, std::string& message);

FigureReport write_figures(const std::filesystem::path& run_dir, const SimulationResult& r,
                           const std::vector<Eigen::MatrixXd>& weights_closed,
                           const std::vector<Eigen::MatrixXd>& weights_numeric, const std::vector<double>& weight_sigma,
                           const std::vector<double>& kl_closed, const std::vector<double>& kl_numeric);

}  // namespace specbias::pipeline
