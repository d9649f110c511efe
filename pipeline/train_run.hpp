// `specbias train`: builds the training set from the config (Gaussian recipe (12.4) or a data file), runs the
// trainer (train/trainer.hpp) in a run directory, then analyses the records as the authors did (EMPIRICAL.md §5:
// geometric threshold against the first record, Gaussian smoothing of width 1 in checkpoint-index space, first
// crossing, gray zone relative to the mean initial variance, separate rising/decaying fits) and writes
// summary.json, .npy arrays and figures. `--resume DIR` continues a run from its checkpoint with the config
// stored in DIR/resolved_config.toml.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "config/train_config.hpp"
#include "train/trainer.hpp"

namespace specbias::pipeline {

struct TrainRunOptions {
  bool resume = false;
  bool quiet = false;
  std::int64_t crash_after_step = -1;  // test hook, see train::TrainerOptions
  std::string device = "cpu";          // cpu | cuda (train/cuda; DeviceError without a usable GPU)
  std::string gemm_precision = "fp32"; // cuda only: fp32 | tf32
  bool from_previous = false;          // resume from checkpoint.prev (the newest one failed verification)
};

// The training set the config describes (samples d × N as float, empirical moments for the analysis basis).
train::TrainingSet build_training_set(const config::TrainConfig& c);
// The trainer's options for the config (record schedule, sampler, network, EDM, Adam).
train::TrainerOptions build_trainer_options(const config::TrainConfig& c, Eigen::Index dim);

// Runs the whole job into out_dir; returns summary.json's content.
nlohmann::json train_to_directory(const config::TrainConfig& c, const std::filesystem::path& out_dir,
                                  const TrainRunOptions& options);

// Reads out_dir/resolved_config.toml and continues the run from its newest checkpoint (or, with from_previous, the
// one before it) after verifying every checkpoint file's checksum (train/checkpoint_store.hpp).
nlohmann::json resume_training(const std::filesystem::path& run_dir, bool quiet, const std::string& device = "cpu",
                               const std::string& gemm_precision = "fp32", bool from_previous = false);

// What `--dry-run` prints: the resolved config, the network's parameter count and the record schedule size.
std::string describe_training(const config::TrainConfig& c);

}  // namespace specbias::pipeline
