// The GPU twins (train/cuda) against their CPU references (train/), STYLE.md §9: "CPU vs CUDA per kernel with its
// own tolerance". Tests tagged [gpu] return early, with a warning naming the reason, on a machine without a
// usable device; the device-free checks (probe, the CLI's message) run everywhere the CUDA build exists.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "train/adam.hpp"
#include "train/cuda/device.hpp"
#include "train/cuda/kernels.hpp"
#include "train/cuda/network.hpp"
#include "train/cuda/training.hpp"
#include "train/edm.hpp"
#include "train/heun_sampler.hpp"
#include "train/mlp_unet.hpp"
#include "train/sample_statistics.hpp"
#include "train/train_test_helpers.hpp"

namespace {

using namespace specbias;
using namespace specbias::train;
namespace gpu = specbias::train::cuda;

// Tolerances (relative, max-norm over the compared array). float32 on both sides; the orders of summation differ
// (cuBLAS vs train/gemm blocking, tree vs sequential reductions), so results agree to float round-off amplified
// by the depth of the computation.
constexpr double kForwardRel = 2e-5;   // a 3-block network's output
constexpr double kGradRel = 2e-4;      // parameter gradients (sums over the batch of products of activations)
constexpr double kAdamRel = 1e-6;      // elementwise update, identical formulas
constexpr double kSamplerRel = 2e-4;   // 5 Heun steps = 9 network evaluations
constexpr double kStatsRel = 1e-10;    // double-precision statistics of identical samples

bool device_or_warn() {
  const gpu::DeviceProbe p = gpu::probe_device();
  if (!p.available) WARN("skipped: " << p.description);
  return p.available;
}

template <typename T>
double rel_max(const std::vector<T>& a, const std::vector<T>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    den = std::max(den, std::abs(static_cast<double>(b[i])));
  }
  return den > 0 ? num / den : num;
}

std::vector<float> to_vector(const Mat<float>& m) { return {m.data(), m.data() + m.size()}; }

template <typename T>
std::vector<T> download(const gpu::DeviceBuffer<T>& b, const gpu::Stream& s) {
  std::vector<T> h(b.size());
  b.download(h, s.get());
  s.synchronize();
  return h;
}

gpu::DeviceBuffer<float> upload(const Mat<float>& m, const gpu::Stream& s) {
  gpu::DeviceBuffer<float> b(static_cast<std::size_t>(m.size()));
  b.upload(std::span<const float>(m.data(), b.size()), s.get());
  s.synchronize();
  return b;
}

MlpUNetConfig small_net() {
  MlpUNetConfig c;
  c.dim = 12;
  c.nlayers = 4;  // blocks: 12 → 24 (skip), 24 → 24, 24 → 24 (identity skips), then out
  c.hidden = 24;
  c.embedding = 8;
  return c;
}

}  // namespace

TEST_CASE("cuda probe: describes the device or why there is none", "[fast][gpu][train]") {
  const gpu::DeviceProbe p = gpu::probe_device();
  CHECK_FALSE(p.description.empty());
  if (!p.available) CHECK(p.description.find("CUDA") != std::string::npos);
}

TEST_CASE("cuda cli: train --device cuda without a usable GPU exits 3 and says why", "[fast][gpu][train]") {
  if (gpu::probe_device().available) {
    WARN("skipped: a device is present, so the run would train");
    return;
  }
  const std::string cmd = std::string(SPECBIAS_CLI) + " train " + SPECBIAS_SOURCE_DIR +
                          "/configs/train/tiny.toml --device cuda --quiet --out /tmp/specbias_cuda_cli_test 2>&1";
  std::FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) out += buf;
  const int status = pclose(pipe);
  CHECK(WEXITSTATUS(status) == 3);
  CHECK(out.find("--device cuda") != std::string::npos);
  CHECK(out.find("--device cpu") != std::string::npos);
  std::filesystem::remove_all("/tmp/specbias_cuda_cli_test");
}

TEST_CASE("cuda twin: MLP-UNet forward and backward match MlpUNet float", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  MlpUNet<float> cpu(small_net(), 7);
  test::randomise(cpu.parameters(), 8);
  const Index B = 37;  // not a multiple of any block size
  const Mat<float> x = test::random_matrix(12, B, 9).cast<float>();
  const Vec<float> c_noise = test::random_vector(B, 10, 0.5).cast<float>();
  const Mat<float> g_out = test::random_matrix(12, B, 11).cast<float>();

  auto ctx = cpu.make_context(B);
  const Mat<float> y = cpu.forward(x, c_noise, ctx);
  Mat<float> g_in;
  cpu.backward(ctx, g_out, &g_in);
  const std::vector<float> cpu_grads(cpu.parameters().grads().begin(), cpu.parameters().grads().end());

  gpu::Stream stream;
  gpu::Blas blas(stream, gpu::GemmPrecision::fp32);
  gpu::GpuMlpUNet net(cpu, stream, blas);
  gpu::GpuMlpUNet::Context gctx;
  auto dx = upload(x, stream);
  auto dc = upload(Mat<float>(c_noise), stream);
  auto dg = upload(g_out, stream);
  gpu::DeviceBuffer<float> dgin(dx.size());
  net.forward(dx.data(), dc.data(), static_cast<int>(B), gctx);
  net.backward(gctx, dg.data(), dgin.data());
  CHECK(rel_max(download(gctx.output, stream), to_vector(y)) < kForwardRel);
  CHECK(rel_max(download(net.grads(), stream), cpu_grads) < kGradRel);
  CHECK(rel_max(download(dgin, stream), to_vector(g_in)) < kGradRel);
}

TEST_CASE("cuda twin: EDM loss and gradients match Edm float with one shard", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  MlpUNet<float> cpu(small_net(), 3);
  const Index B = 64;
  const Mat<float> x = test::random_matrix(12, B, 4, 0.5).cast<float>();
  Vec<float> sigma;
  Mat<float> eps;
  const Edm<float> edm({}, 1);
  Rng rng(5);
  edm.draw_noise(rng, 12, B, sigma, eps);
  EdmContext<float> ectx;
  const double loss = edm.loss_and_grad(cpu, x, sigma, eps, ectx);
  const std::vector<float> cpu_grads(cpu.parameters().grads().begin(), cpu.parameters().grads().end());

  gpu::Stream stream;
  gpu::Blas blas(stream, gpu::GemmPrecision::fp32);
  gpu::GpuMlpUNet net(cpu, stream, blas);
  gpu::GpuEdm gedm({}, stream);
  gpu::GpuEdm::Context gctx;
  auto dx = upload(x, stream);
  auto ds = upload(Mat<float>(sigma), stream);
  auto de = upload(eps, stream);
  gedm.loss_and_grad(net, dx.data(), ds.data(), de.data(), static_cast<int>(B), gctx);
  const double gpu_loss = download(gctx.loss, stream)[0];
  CHECK(std::abs(gpu_loss - loss) < kForwardRel * std::abs(loss));
  CHECK(rel_max(download(net.grads(), stream), cpu_grads) < kGradRel);
}

TEST_CASE("cuda twin: Adam steps match Adam float", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  const std::size_t n = 5000;
  std::vector<float> p(n), g(n);
  Rng rng(12);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = static_cast<float>(rng.normal());
    g[i] = static_cast<float>(rng.normal() * 1e-3);
  }
  AdamConfig cfg;
  cfg.lr = 1e-2;
  Adam<float> cpu(cfg, n);
  std::vector<float> pc = p;
  gpu::Stream stream;
  gpu::GpuAdam adam(cfg, n, stream);
  gpu::DeviceBuffer<float> dp(n), dg(n);
  dp.upload(p, stream.get());
  dg.upload(g, stream.get());
  for (int t = 0; t < 3; ++t) {
    cpu.step(pc, g);
    adam.step(dp.data(), dg.data());
  }
  CHECK(rel_max(download(dp, stream), pc) < kAdamRel);
  const AdamState<float> st = adam.state();
  CHECK(st.step == 3);
  CHECK(rel_max(st.v, cpu.state().v) < kAdamRel);
}

TEST_CASE("cuda twin: Heun sampler through the EDM denoiser matches heun_sample", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  MlpUNet<float> cpu(small_net(), 21);
  const Index B = 50;
  Mat<float> z = test::random_matrix(12, B, 22).cast<float>();
  HeunSchedule sched;
  sched.steps = 5;
  const Edm<float> edm({}, 1);
  EdmContext<float> ectx;
  Vec<float> sv;
  Mat<float> zc = z;
  heun_sample<float>(
      [&](const Mat<float>& x, double s, Mat<float>& out) {
        sv.setConstant(x.cols(), static_cast<float>(s));
        out.resize(x.rows(), x.cols());
        edm.denoise(cpu, x, sv, ectx, out);
      },
      zc, sched);

  gpu::Stream stream;
  gpu::Blas blas(stream, gpu::GemmPrecision::fp32);
  gpu::GpuMlpUNet net(cpu, stream, blas);
  gpu::GpuEdm gedm({}, stream);
  gpu::GpuEdm::Context gctx;
  gpu::GpuHeunSampler sampler(sched, stream);
  auto dz = upload(z, stream);
  sampler.sample(gedm, net, dz.data(), 12, static_cast<int>(B), gctx);
  CHECK(rel_max(download(dz, stream), to_vector(zc)) < kSamplerRel);
}

TEST_CASE("cuda twin: streamed statistics match SampleStatistics on the same chunks", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  const Index d = 10;
  const Eigen::MatrixXd U = Eigen::HouseholderQR<Eigen::MatrixXd>(test::random_matrix(d, d, 31)).householderQ();
  const Eigen::VectorXd m = test::random_vector(d, 32);
  SampleStatistics cpu(U, m);
  gpu::Stream stream;
  gpu::Blas blas(stream, gpu::GemmPrecision::fp32);
  gpu::GpuSampleStatistics dev(U, m, stream, blas);
  for (int c = 0; c < 3; ++c) {
    const Mat<float> chunk = (test::random_matrix(d, 40 + 7 * c, 33 + c, 2.0).colwise() + Eigen::VectorXd::Constant(d, 3.0))
                                 .cast<float>();
    cpu.add(chunk);
    auto dchunk = upload(chunk, stream);
    dev.add(dchunk.data(), static_cast<int>(chunk.cols()));
  }
  const SampleSummary a = cpu.summary(), b = dev.summary();
  CHECK(a.samples == b.samples);
  CHECK((a.mode_variance - b.mode_variance).cwiseAbs().maxCoeff() < kStatsRel * a.mode_variance.cwiseAbs().maxCoeff());
  CHECK((a.mean - b.mean).cwiseAbs().maxCoeff() < kStatsRel * a.mean.cwiseAbs().maxCoeff());
  CHECK(std::abs(a.alignment - b.alignment) < kStatsRel);
}

TEST_CASE("cuda noise: Philox draws are standard normal and keyed by the step counter", "[fast][gpu][train]") {
  if (!device_or_warn()) return;
  gpu::Stream stream;
  const int d = 256, B = 1024;
  gpu::DeviceBuffer<float> sigma(B), eps(static_cast<std::size_t>(d) * B), eps2(eps.size());
  gpu::DeviceBuffer<std::uint64_t> step(1);
  const std::uint64_t s0 = 17;
  step.upload(std::span<const std::uint64_t>(&s0, 1), stream.get());
  gpu::kernels::draw_training_noise(99, step.data(), d, B, -1.2, 1.2, 0.0, sigma.data(), eps.data(), stream.get());
  gpu::kernels::draw_training_noise(99, step.data(), d, B, -1.2, 1.2, 0.0, sigma.data(), eps2.data(), stream.get());
  const std::vector<float> e = download(eps, stream), e2 = download(eps2, stream), s = download(sigma, stream);
  CHECK(e == e2);  // same (seed, step): same numbers
  double mean = 0, var = 0;
  for (float v : e) mean += v / static_cast<double>(e.size());
  for (float v : e) var += (v - mean) * (v - mean) / static_cast<double>(e.size());
  CHECK(std::abs(mean) < 5.0 / std::sqrt(static_cast<double>(e.size())));  // 5 standard errors
  CHECK(std::abs(var - 1.0) < 5.0 * std::sqrt(2.0 / static_cast<double>(e.size())));
  double lmean = 0;
  for (float v : s) lmean += std::log(v) / B;
  CHECK(std::abs(lmean + 1.2) < 5.0 * 1.2 / std::sqrt(static_cast<double>(B)));
  gpu::kernels::increment(step.data(), stream.get());
  gpu::kernels::draw_training_noise(99, step.data(), d, B, -1.2, 1.2, 0.0, sigma.data(), eps2.data(), stream.get());
  CHECK(download(eps2, stream) != e);  // the next step draws new numbers
}
