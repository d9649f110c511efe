// The `specbias` command line: parse arguments, run, report. Library code throws; this is the one place that
// maps exceptions to exit codes (1: simulation/numerical failure or validation outside tolerance,
// 2: bad configuration or data, 3: feature not compiled in).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "common/errors.hpp"
#include "common/version.hpp"
#include "config/run_config.hpp"
#include "pipeline/conv_compare.hpp"
#include "pipeline/phase.hpp"
#include "pipeline/simulate.hpp"
#include "pipeline/sweep.hpp"
#include "pipeline/train_run.hpp"
#include "validation/validate.hpp"

namespace {

std::string default_out_dir(const std::string& config_path) {
  return "runs/" + std::filesystem::path(config_path).stem().string();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace specbias;
  CLI::App app{"specbias: the linear theory of spectral bias in diffusion-model learning, computed two ways "
               "(closed form and numeric nested ODEs)."};
  app.set_version_flag("--version", fmt::format("specbias {} (git {}, {}{})", build_info::version, build_info::git_sha,
                                                build_info::compiler, build_info::with_cuda ? ", CUDA" : ""));
  app.require_subcommand(1);

  auto* sim = app.add_subcommand("simulate", "Run a config: closed form and numeric paths, analysis, figures");
  std::string sim_config, out_dir;
  std::vector<std::string> overrides;
  bool dry_run = false, quiet = false;
  sim->add_option("CONFIG", sim_config, "TOML config file (see docs/config.md)")->required();
  sim->add_option("--out,-o", out_dir, "run directory (default: runs/<config name>)");
  sim->add_option("--set", overrides, "override a config key, e.g. --set training.eta=0.5 (repeatable)");
  sim->add_flag("--dry-run", dry_run, "print the resolved config and exit");
  sim->add_flag("--quiet,-q", quiet, "log to run.log only");

  auto* val = app.add_subcommand("validate", "Hold every numeric path against the closed forms; non-zero exit when "
                                             "any error is outside its tolerance");
  std::string val_config;
  std::vector<std::string> val_overrides;
  val->add_option("CONFIG", val_config, "TOML config file")->required();
  val->add_option("--set", val_overrides, "override a config key (repeatable)");

  auto* sweep = app.add_subcommand("sweep", "Run a config over a grid of parameter values and tabulate the fitted "
                                            "exponents (e.g. Fig. 6: --param model.Q=0,0.1,0.5,0.6,1.0)");
  std::string sweep_config, sweep_out;
  std::vector<std::string> sweep_params, sweep_overrides;
  sweep->add_option("CONFIG", sweep_config, "TOML config file")->required();
  sweep->add_option("--param,-p", sweep_params, "key=v1,v2,... (repeatable; the product of all lists is run)")
      ->required();
  sweep->add_option("--set", sweep_overrides, "override a config key for every run (repeatable)");
  sweep->add_option("--out,-o", sweep_out, "sweep directory (default: runs/<config name>_sweep)");

  std::string train_config, train_out, train_resume, train_device = "cpu", train_gemm = "fp32";
  std::vector<std::string> train_overrides;
  bool train_dry = false, train_quiet = false, train_from_previous = false;
  auto* train = app.add_subcommand("train", "Train an MLP-UNet with the EDM loss, sample during training and measure "
                                            "the spectral law (EMPIRICAL.md)");
  train->add_option("CONFIG", train_config, "TOML training config (docs/config.md, \"Training runs\")");
  train->add_option("--out,-o", train_out, "run directory (default: runs/<config name>)");
  train->add_option("--resume", train_resume, "continue the run in DIR from its last checkpoint (checksums verified)");
  train->add_flag("--from-previous", train_from_previous,
                  "with --resume: continue from the checkpoint before the last (when the last one is damaged)");
  train->add_option("--set", train_overrides, "override a config key, e.g. --set training.steps=200 (repeatable)");
  train->add_option("--device", train_device, "cpu (the reference implementation) or cuda (an NVIDIA GPU; builds with CUDA)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  train->add_option("--gemm", train_gemm, "GEMM precision on the GPU: fp32 (default) or tf32 (opt-in, ~1e-3 relative)")
      ->check(CLI::IsMember({"fp32", "tf32"}));
  train->add_flag("--dry-run", train_dry, "print the resolved config, parameter count and record schedule, and exit");
  train->add_flag("--quiet,-q", train_quiet, "log to run.log only");

  auto* phase = app.add_subcommand("phase", "Phase diagram of the two-layer per-mode dynamics (6.2)-(6.4) (Fig. 22): "
                                            "one start (a_k, b_k) per mode, fitted late-time rates");
  std::string phase_config, phase_out;
  std::vector<std::string> phase_overrides;
  phase->add_option("CONFIG", phase_config, "TOML config file with kind = \"two_layer\"")->required();
  phase->add_option("--set", phase_overrides, "override a config key (repeatable)");
  phase->add_option("--out,-o", phase_out, "output directory (default: runs/<config name>)");

  auto* compare = app.add_subcommand("conv-compare", "Emergence times per mode of one data set under the dense "
                                                   "one-layer model, the full-width and local patch convolutions "
                                                   "(THEORY 7-8, 11): spread and power-law exponents side by side");
  std::string compare_config, compare_out;
  std::vector<std::string> compare_overrides;
  std::vector<int> compare_kernels{3, 5, 7};
  bool compare_quiet = false;
  compare->add_option("CONFIG", compare_config, "TOML config (data, Q, eta, tau window, analysis), e.g. "
                                                "configs/mnist_conv_compare.toml")->required();
  compare->add_option("--kernels,-k", compare_kernels, "local kernel sizes K (odd), comma separated")
      ->delimiter(',')->capture_default_str();
  compare->add_option("--set", compare_overrides, "override a config key (repeatable)");
  compare->add_option("--out,-o", compare_out, "run directory (default: runs/<config name>)");
  compare->add_flag("--quiet,-q", compare_quiet, "log to run.log only");

  CLI11_PARSE(app, argc, argv);
  try {
    if (sim->parsed()) {
      const config::Config c = config::load_config(sim_config, overrides);
      if (dry_run) {
        std::cout << "# resolved configuration (source: " << c.source << ")\n" << c.to_toml() << "\n";
        return 0;
      }
      const std::string dir = out_dir.empty() ? default_out_dir(sim_config) : out_dir;
      const auto r = pipeline::simulate_to_directory(c, dir, quiet);
      if (!r.summary.value("validation_pass", true)) {
        std::cerr << "specbias: numeric and closed-form results disagree beyond tolerance (see " << dir
                  << "/summary.json, \"validation\")\n";
        return 1;
      }
      return 0;
    }
    if (train->parsed()) {
      if (!train_resume.empty()) {
        if (!train_config.empty() || !train_overrides.empty())
          throw ConfigError("--resume DIR takes the config stored in DIR/resolved_config.toml; do not pass CONFIG or --set");
        pipeline::resume_training(train_resume, train_quiet, train_device, train_gemm, train_from_previous);
        return 0;
      }
      if (train_config.empty()) throw ConfigError("specbias train: give a CONFIG file or --resume DIR");
      if (train_from_previous) throw ConfigError("--from-previous needs --resume DIR");
      const config::TrainConfig c = config::load_train_config(train_config, train_overrides);
      if (train_dry) {
        std::cout << pipeline::describe_training(c);
        return 0;
      }
      const std::string dir = train_out.empty() ? default_out_dir(train_config) : train_out;
      pipeline::train_to_directory(c, dir, {false, train_quiet, -1, train_device, train_gemm});
      return 0;
    }
    if (sweep->parsed()) {
      std::vector<pipeline::SweepAxis> axes;
      for (const auto& p : sweep_params) axes.push_back(pipeline::parse_sweep_axis(p));
      const std::string dir = sweep_out.empty() ? default_out_dir(sweep_config) + "_sweep" : sweep_out;
      std::cout << pipeline::run_sweep(sweep_config, sweep_overrides, axes, dir);
      std::cout << "runs and sweep.csv in " << dir << "\n";
      return 0;
    }
    if (phase->parsed()) {
      const config::Config c = config::load_config(phase_config, phase_overrides);
      const std::string dir = phase_out.empty() ? default_out_dir(phase_config) : phase_out;
      std::cout << pipeline::run_phase_diagram(c, dir) << "files in " << dir << "\n";
      return 0;
    }
    if (compare->parsed()) {
      const config::Config c = config::load_config(compare_config, compare_overrides);
      const std::string dir = compare_out.empty() ? default_out_dir(compare_config) : compare_out;
      pipeline::conv_compare_to_directory(c, compare_kernels, dir, compare_quiet);
      return 0;
    }
    if (val->parsed()) {
      const config::Config c = config::load_config(val_config, val_overrides);
      const validation::Report report = validation::run_validation(c);
      std::cout << validation::format_table(report);
      return report.all_pass ? 0 : 1;
    }
  } catch (const ConfigError& e) {
    std::cerr << "specbias: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const DataError& e) {
    std::cerr << "specbias: data error: " << e.what() << "\n";
    return 2;
  } catch (const NotCompiledError& e) {
    std::cerr << "specbias: " << e.what() << "\n";
    return 3;
  } catch (const DeviceError& e) {
    std::cerr << "specbias: device error: " << e.what() << "\n";
    return 3;
  } catch (const NumericalError& e) {
    std::cerr << "specbias: numerical error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "specbias: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
