// Trainer benchmark (run_all.sh `train`; peer: benchmarks/peers/train.py, PyTorch eager): one process measures
// one problem in one mode, so that its peak memory (max RSS) belongs to that problem and mode alone.
//   --mode train   training steps: draw σ and ε (Edm::draw_noise), EDM loss forward + backward through the
//                  MLP-UNet (Edm::loss_and_grad over --shards batch shards), Adam update; the batch x is fixed
//                  standard-normal data (the data pipeline is not timed).
//   --mode sample  the deterministic Heun sampler (train/heun_sampler.hpp, EDM Algorithm 1) on --chunk latents
//                  with --sampler-steps steps (NFE = 2·steps − 1 denoiser calls, each one Edm::denoise over the
//                  whole chunk, exactly as the trainer's record pass calls it).
// Problems (--problem): gaussian = d 128, MLP-UNet 5/256/256, batch 1024, sampling chunk 1000 (configs/train/
// gaussian_d128_cpu.toml); mnist = d 784, 8/1024/128, batch 256, chunk 500 (configs/train/mnist_mlp_cpu.toml).
// float32, --threads OpenMP threads (default 2), --shards batch shards (default 2, the trainer's default).
// Prints JSON: wall and process-CPU seconds of every timed repetition, best/median, steps/s, NFE/s, and the
// resident memory before building anything and at the end (peak, getrusage ru_maxrss).
#include <sys/resource.h>

#include <Eigen/Core>
#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>

#include "bench_common.hpp"
#include "train/adam.hpp"
#include "train/edm.hpp"
#include "train/heun_sampler.hpp"
#include "train/mlp_unet.hpp"
#include "train/rng.hpp"

using namespace specbias;

namespace {

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

long rss_kib(const char* field) {  // "VmRSS:" or "VmHWM:" from /proc/self/status, in KiB
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

nlohmann::json stats(const std::vector<double>& wall, const std::vector<double>& cpu) {
  return {{"best_s", bench::best(wall)}, {"median_s", median(wall)}, {"all_s", wall},
          {"cpu_best_s", bench::best(cpu)}, {"cpu_median_s", median(cpu)}};
}

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"problem", "mode", "dim", "nlayers", "hidden", "embedding", "batch", "chunk",
                                      "steps", "warmup", "sampler-steps", "reps", "threads", "shards"});
  const long rss_start = rss_kib("VmRSS:");
  const int threads = args.get_int("threads", 2);
  Eigen::setNbThreads(threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  const std::string problem = args.get("problem", "gaussian"), mode = args.get("mode", "train");
  train::MlpUNetConfig cfg;
  int batch = 1024, chunk = 1000;
  if (problem == "mnist") {
    cfg.dim = 784, cfg.nlayers = 8, cfg.hidden = 1024, cfg.embedding = 128;
    batch = 256, chunk = 500;
  } else if (problem != "gaussian") {
    throw std::invalid_argument("--problem must be gaussian or mnist");
  }
  cfg.dim = args.get_int("dim", static_cast<int>(cfg.dim));
  cfg.nlayers = args.get_int("nlayers", static_cast<int>(cfg.nlayers));
  cfg.hidden = args.get_int("hidden", static_cast<int>(cfg.hidden));
  cfg.embedding = args.get_int("embedding", static_cast<int>(cfg.embedding));
  batch = args.get_int("batch", batch);
  chunk = args.get_int("chunk", chunk);
  const int shards = args.get_int("shards", 2);

  nlohmann::json j = bench::bench_header("train");
  train::MlpUNet<float> net(cfg, 1);
  const train::Edm<float> edm(train::EdmConfig{}, shards);
  j["problem"] = {{"name", problem}, {"dim", cfg.dim}, {"nlayers", cfg.nlayers}, {"hidden", cfg.hidden},
                  {"embedding", cfg.embedding}, {"batch", batch}, {"chunk", chunk},
                  {"parameters", net.parameters().size()}, {"precision", "float32"}, {"shards", shards},
                  {"threads", threads}};
  j["mode"] = mode;
  std::vector<double> wall, cpu;
  const auto sec = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };

  if (mode == "train") {
    const int steps = args.get_int("steps", 10), warmup = args.get_int("warmup", 2);
    train::Adam<float> adam(train::AdamConfig{}, net.parameters().size());
    train::Rng rng(2);
    train::Mat<float> x(cfg.dim, batch);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
    train::Vec<float> sigma;
    train::Mat<float> eps;
    train::EdmContext<float> ctx;
    double loss = 0.0;
    for (int s = 0; s < warmup + steps; ++s) {
      const double c0 = cpu_seconds();
      const auto t0 = bench::Clock::now();
      edm.draw_noise(rng, cfg.dim, batch, sigma, eps);
      loss = edm.loss_and_grad(net, x, sigma, eps, ctx);
      adam.step(net.parameters().values(), net.parameters().grads());
      const auto t1 = bench::Clock::now();
      const double c1 = cpu_seconds();
      if (s < warmup) continue;
      wall.push_back(sec(t0, t1));
      cpu.push_back(c1 - c0);
    }
    j["step"] = stats(wall, cpu);
    j["steps_per_s_best"] = 1.0 / bench::best(wall);
    j["steps_per_s_median"] = 1.0 / median(wall);
    j["last_loss"] = loss;
  } else if (mode == "sample") {
    const int reps = args.get_int("reps", 3), warmup = args.get_int("warmup", 1);
    train::HeunSchedule schedule;
    schedule.steps = args.get_int("sampler-steps", 5);
    const int nfe = schedule.function_evaluations();
    train::EdmContext<float> ctx;
    train::Vec<float> sigma_vec;
    train::Mat<float> z;
    train::Rng rng(3);
    for (int r = 0; r < warmup + reps; ++r) {
      z.resize(cfg.dim, chunk);
      for (Eigen::Index i = 0; i < z.size(); ++i) z.data()[i] = static_cast<float>(rng.normal());
      const double c0 = cpu_seconds();
      const auto t0 = bench::Clock::now();
      train::heun_sample<float>(
          [&](const train::Mat<float>& xx, double s, train::Mat<float>& out) {
            sigma_vec.setConstant(xx.cols(), static_cast<float>(s));
            out.resize(xx.rows(), xx.cols());
            edm.denoise(net, xx, sigma_vec, ctx, out);
          },
          z, schedule);
      const auto t1 = bench::Clock::now();
      const double c1 = cpu_seconds();
      if (!z.allFinite()) throw std::runtime_error("non-finite samples");
      if (r < warmup) continue;
      wall.push_back(sec(t0, t1));
      cpu.push_back(c1 - c0);
    }
    j["sampler"] = stats(wall, cpu);
    j["sampler"]["steps"] = schedule.steps;
    j["sampler"]["nfe"] = nfe;
    j["nfe_per_s_best"] = nfe / bench::best(wall);  // one NFE = one denoiser call on the whole chunk
    j["nfe_per_s_median"] = nfe / median(wall);
    j["sample_nfe_per_s_best"] = static_cast<double>(nfe) * chunk / bench::best(wall);  // per-sample evaluations
  } else {
    throw std::invalid_argument("--mode must be train or sample");
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  j["memory"] = {{"rss_start_kib", rss_start}, {"max_rss_kib", ru.ru_maxrss}, {"vm_hwm_kib", rss_kib("VmHWM:")}};
  std::cout << j.dump(1) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_train: " << e.what() << "\n";
  return 1;
}
