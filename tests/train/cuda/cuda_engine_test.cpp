// `specbias train --device cuda` end to end (train/cuda CudaEngine through pipeline::train_to_directory): the
// step-0 record (same initial weights, same fixed latents) matches the CPU run's; a GPU run resumed after a
// simulated crash reproduces the uninterrupted GPU run's losses exactly; the GPU's training loss follows the
// CPU's (different noise streams, same distribution). Skipped, with a warning, without a usable device.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/train_config.hpp"
#include "pipeline/train_run.hpp"
#include "support/temp_dir.hpp"
#include "train/cuda/device.hpp"

namespace fs = std::filesystem;
using namespace specbias;

namespace {

bool device_or_warn() {
  const train::cuda::DeviceProbe p = train::cuda::probe_device();
  if (!p.available) WARN("skipped: " << p.description);
  return p.available;
}

config::TrainConfig tiny(const std::vector<std::string>& overrides = {}) {
  return config::load_train_config(std::string(SPECBIAS_SOURCE_DIR) + "/configs/train/tiny.toml", overrides);
}

// Column `col` of a CSV (header skipped) for the rows whose first field equals `step` (all rows when step < 0).
std::vector<double> csv_column(const fs::path& p, int col, long step = -1) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  std::vector<double> v;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string field;
    std::vector<std::string> f;
    while (std::getline(ss, field, ',')) f.push_back(field);
    if (step < 0 || std::stol(f[0]) == step) v.push_back(std::stod(f[static_cast<std::size_t>(col)]));
  }
  return v;
}

}  // namespace

TEST_CASE("cuda engine: step-0 record equals the CPU run and training loss follows it", "[slow][gpu][train]") {
  if (!device_or_warn()) return;
  specbias::test::TempDir tmp;
  const config::TrainConfig c = tiny({"training.steps=200", "sampling.every=50"});
  pipeline::train_to_directory(c, tmp.path() / "cpu", {false, true, -1, "cpu", "fp32"});
  pipeline::train_to_directory(c, tmp.path() / "gpu", {false, true, -1, "cuda", "fp32"});
  // variance.csv: step,mode,lambda,variance,mean_error_mode. Same weights, same latents: float round-off apart.
  const auto v_cpu = csv_column(tmp.path() / "cpu" / "variance.csv", 3, 0);
  const auto v_gpu = csv_column(tmp.path() / "gpu" / "variance.csv", 3, 0);
  REQUIRE(v_cpu.size() == v_gpu.size());
  for (std::size_t k = 0; k < v_cpu.size(); ++k) CHECK(std::abs(v_gpu[k] - v_cpu[k]) < 1e-4 * std::abs(v_cpu[k]));
  // Training noise differs (Philox on the device, mt19937_64 on the CPU): compare the mean loss of the last 100
  // steps, whose standard error on this problem is a few per cent.
  const auto l_cpu = csv_column(tmp.path() / "cpu" / "loss.csv", 1), l_gpu = csv_column(tmp.path() / "gpu" / "loss.csv", 1);
  REQUIRE(l_cpu.size() == 200);
  REQUIRE(l_gpu.size() == 200);
  double m_cpu = 0, m_gpu = 0;
  for (std::size_t i = 100; i < 200; ++i) {
    m_cpu += l_cpu[i] / 100;
    m_gpu += l_gpu[i] / 100;
  }
  CHECK(std::abs(m_gpu - m_cpu) < 0.15 * m_cpu);
}

TEST_CASE("cuda engine: resume after a crash reproduces the uninterrupted GPU run", "[slow][gpu][train]") {
  if (!device_or_warn()) return;
  specbias::test::TempDir tmp;
  const config::TrainConfig c = tiny();
  pipeline::train_to_directory(c, tmp.path() / "whole", {false, true, -1, "cuda", "fp32"});
  CHECK_THROWS(pipeline::train_to_directory(c, tmp.path() / "split", {false, true, 25, "cuda", "fp32"}));
  pipeline::resume_training(tmp.path() / "split", true, "cuda", "fp32");
  CHECK(csv_column(tmp.path() / "whole" / "loss.csv", 1) == csv_column(tmp.path() / "split" / "loss.csv", 1));
  CHECK(csv_column(tmp.path() / "whole" / "variance.csv", 3) == csv_column(tmp.path() / "split" / "variance.csv", 3));
}
