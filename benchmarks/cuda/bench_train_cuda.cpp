// GPU trainer benchmark (issue 7, item 4): training steps/s and sampler NFE/s of train/cuda's CudaEngine for the
// three MLP-UNet problems, printed as JSON; benchmarks/peers/train_gpu.py measures eager PyTorch and
// torch.compile on the same device in the same session (benchmarks/run_all.sh cuda).
//
//   bench_train_cuda --problem gaussian|mnist|rgb32 [--gemm fp32|tf32] [--steps 200 --warmup 20 --reps 5]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "train/cuda/training.hpp"
#include "train/mlp_unet.hpp"
#include "train/rng.hpp"

using namespace specbias;
using namespace specbias::train;

namespace {

struct Problem {
  Index dim, nlayers, hidden, embedding, batch, chunk;
};

Problem problem(const std::string& name) {
  if (name == "gaussian") return {128, 5, 256, 256, 1024, 10000};
  if (name == "mnist") return {784, 8, 1024, 128, 2048, 10000};
  if (name == "rgb32") return {3072, 8, 3072, 128, 256, 2048};
  throw std::invalid_argument("unknown problem " + name + " (gaussian, mnist, rgb32)");
}

}  // namespace

int main(int argc, char** argv) {
  std::string name = "gaussian", gemm = "fp32";
  int steps = 200, warmup = 20, reps = 5, sampler_steps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--problem") name = v;
    else if (k == "--gemm") gemm = v;
    else if (k == "--steps") steps = std::stoi(v);
    else if (k == "--warmup") warmup = std::stoi(v);
    else if (k == "--reps") reps = std::stoi(v);
    else if (k == "--sampler-steps") sampler_steps = std::stoi(v);
    else throw std::invalid_argument("unknown option " + k);
  }
  const Problem p = problem(name);
  TrainingSet data;
  data.samples = Eigen::MatrixXf::Random(p.dim, 4096);
  TrainerOptions o;
  o.net = {p.dim, p.nlayers, p.hidden, p.embedding};
  o.batch = p.batch;
  o.sampler.steps = sampler_steps;
  MlpUNet<float> net(o.net, 1);
  auto engine = cuda::make_cuda_engine(data, o, gemm);
  engine->load(net, AdamState<float>{0, std::vector<float>(net.parameters().size()), std::vector<float>(net.parameters().size())});

  using Clock = std::chrono::steady_clock;
  std::vector<double> step_s, nfe_s;
  std::int64_t step = 1;
  for (int i = 0; i < warmup; ++i) engine->train_step(step++);
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) engine->train_step(step++);
    step_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / steps);
  }
  Rng rng(3);
  Mat<float> z(p.dim, p.chunk);
  for (Index j = 0; j < z.size(); ++j) z.data()[j] = static_cast<float>(rng.normal());
  const int nfe = 2 * sampler_steps - 1;
  Mat<float> zz = z;
  engine->sample(zz);  // warm-up
  for (int r = 0; r < reps; ++r) {
    zz = z;
    const auto t0 = Clock::now();
    engine->sample(zz);
    nfe_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / nfe);
  }
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  std::printf("{\"problem\": \"%s\", \"device\": \"%s\", \"gemm\": \"%s\", \"batch\": %lld, \"chunk\": %lld,\n",
              name.c_str(), engine->description().c_str(), gemm.c_str(), static_cast<long long>(p.batch),
              static_cast<long long>(p.chunk));
  std::printf(" \"step_s\": [");
  for (std::size_t i = 0; i < step_s.size(); ++i) std::printf("%s%.6e", i ? ", " : "", step_s[i]);
  std::printf("],\n \"nfe_s\": [");
  for (std::size_t i = 0; i < nfe_s.size(); ++i) std::printf("%s%.6e", i ? ", " : "", nfe_s[i]);
  std::printf("],\n \"device_memory_used_bytes\": %zu}\n", total_b - free_b);
  return 0;
}
