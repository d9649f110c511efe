// Training-step timing of the CPU reference trainer (train/): one step = draw σ and ε, EDM loss forward and
// backward through the MLP-UNet (EMPIRICAL.md §1–§2), Adam update. Default problem: d = 128, L/H/E = 5/256/256,
// batch 1024 (the Gaussian configuration of EMPIRICAL.md §2), float32, 2 threads, one batch shard per thread
// (--shards 1: whole batch, threaded GEMMs). Reports the best and median
// ms/step and the split into noise draw, forward (loss), backward and Adam, as JSON.
// The PyTorch peer is benchmarks/peers/mlp_unet_torch.py --time (same problem, torch.set_num_threads).
#include <Eigen/Core>
#include <algorithm>
#include <iostream>

#include "bench_common.hpp"
#include "train/adam.hpp"
#include "train/edm.hpp"
#include "train/mlp_unet.hpp"
#include "train/rng.hpp"

using namespace specbias;

namespace {

template <typename T>
nlohmann::json run(const bench::Args& args) {
  train::MlpUNetConfig cfg;
  cfg.dim = args.get_int("dim", 128);
  cfg.nlayers = args.get_int("nlayers", 5);
  cfg.hidden = args.get_int("hidden", 256);
  cfg.embedding = args.get_int("embedding", 256);
  const int batch = args.get_int("batch", 1024), steps = args.get_int("steps", 20), warmup = args.get_int("warmup", 3);

  train::MlpUNet<T> net(cfg, 1);
  // Batch shards (train/edm.hpp): default one per thread, so the step has a single join.
  const int shards = args.get_int("shards", args.get_int("threads", 2));
  train::Edm<T> edm(train::EdmConfig{}, shards);
  train::Adam<T> adam(train::AdamConfig{}, net.parameters().size());
  train::Rng rng(2);
  train::Mat<T> x(cfg.dim, batch);
  for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = static_cast<T>(rng.normal());
  train::Vec<T> sigma;
  train::Mat<T> eps;
  train::EdmContext<T> ctx;

  std::vector<double> total, draw, fwd, bwd, opt;
  double loss = 0.0;
  for (int s = 0; s < warmup + steps; ++s) {
    const auto t0 = bench::Clock::now();
    edm.draw_noise(rng, cfg.dim, batch, sigma, eps);
    const auto t1 = bench::Clock::now();
    loss = edm.loss(net, x, sigma, eps, ctx);
    const auto t2 = bench::Clock::now();
    // loss_and_grad repeats the forward; time the backward as its difference from a plain forward.
    edm.loss_and_grad(net, x, sigma, eps, ctx);
    const auto t3 = bench::Clock::now();
    adam.step(net.parameters().values(), net.parameters().grads());
    const auto t4 = bench::Clock::now();
    if (s < warmup) continue;
    const auto sec = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    draw.push_back(sec(t0, t1));
    fwd.push_back(sec(t1, t2));
    bwd.push_back(sec(t2, t3) - sec(t1, t2));
    opt.push_back(sec(t3, t4));
    total.push_back(sec(t0, t1) + sec(t2, t4));  // one step: draw + loss_and_grad + Adam
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  nlohmann::json j;
  j["problem"] = {{"dim", cfg.dim},         {"nlayers", cfg.nlayers}, {"hidden", cfg.hidden},
                  {"embedding", cfg.embedding}, {"batch", batch},    {"parameters", net.parameters().size()},
                  {"precision", sizeof(T) == 4 ? "float32" : "float64"}, {"shards", shards}};
  j["step_ms"] = {{"best", 1e3 * bench::best(total)}, {"median", 1e3 * median(total)}, {"steps", steps}};
  j["steps_per_s_best"] = 1.0 / bench::best(total);
  j["split_ms_median"] = {{"draw_noise", 1e3 * median(draw)},
                          {"forward", 1e3 * median(fwd)},
                          {"backward", 1e3 * median(bwd)},
                          {"adam", 1e3 * median(opt)}};
  j["last_loss"] = loss;
  return j;
}

}  // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv, {"dim", "nlayers", "hidden", "embedding", "batch", "steps", "warmup", "threads",
                                      "precision", "shards"});
  const int threads = args.get_int("threads", 2);
  Eigen::setNbThreads(threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  nlohmann::json j = bench::bench_header("train_step");
  const std::string precision = args.get("precision", "float");
  if (precision == "float")
    j.update(run<float>(args));
  else if (precision == "double")
    j.update(run<double>(args));
  else
    throw std::invalid_argument("--precision must be float or double");
  std::cout << j.dump(2) << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "bench_train_step: " << e.what() << "\n";
  return 1;
}
