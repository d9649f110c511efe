// One full training step as the trainer will run it (draw σ and ε, EDM loss and gradient, Adam update;
// EMPIRICAL.md §1): the same seeds give bit-identical losses, gradients and weights over several steps, and a
// few steps on a fixed batch lower the loss (a smoke test that the gradient sign and the update agree).
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "train/adam.hpp"
#include "train/edm.hpp"
#include "train/mlp_unet.hpp"
#include "train/rng.hpp"

namespace {

using namespace specbias::train;

struct Run {
  std::vector<double> losses;
  std::vector<float> weights;
  std::vector<float> grads;
};

Run train_steps(int steps, bool fixed_noise) {
  MlpUNetConfig cfg;
  cfg.dim = 8;
  cfg.nlayers = 4;
  cfg.hidden = 32;
  cfg.embedding = 16;
  MlpUNet<float> net(cfg, 123);
  Edm<float> edm;
  AdamConfig acfg;
  acfg.lr = 1e-3;
  Adam<float> adam(acfg, net.parameters().size());
  Rng rng(456);
  const Index batch = 64;
  Mat<float> x(cfg.dim, batch);
  for (Index j = 0; j < x.size(); ++j) x.data()[j] = static_cast<float>(0.5 * rng.normal());
  Vec<float> sigma;
  Mat<float> eps;
  EdmContext<float> ctx;
  edm.draw_noise(rng, cfg.dim, batch, sigma, eps);
  Run r;
  for (int s = 0; s < steps; ++s) {
    if (!fixed_noise) edm.draw_noise(rng, cfg.dim, batch, sigma, eps);
    r.losses.push_back(edm.loss_and_grad(net, x, sigma, eps, ctx));
    adam.step(net.parameters().values(), net.parameters().grads());
  }
  r.weights.assign(net.parameters().values().begin(), net.parameters().values().end());
  r.grads.assign(net.parameters().grads().begin(), net.parameters().grads().end());
  return r;
}

}  // namespace

TEST_CASE("train step: the same seeds give bit-identical losses, gradients and weights", "[fast][train]") {
  const Run a = train_steps(5, false), b = train_steps(5, false);
  REQUIRE(a.losses == b.losses);
  REQUIRE(std::memcmp(a.weights.data(), b.weights.data(), a.weights.size() * sizeof(float)) == 0);
  REQUIRE(std::memcmp(a.grads.data(), b.grads.data(), a.grads.size() * sizeof(float)) == 0);
}

TEST_CASE("train step: Adam steps on a fixed batch and fixed noise lower the EDM loss", "[fast][train]") {
  const Run r = train_steps(30, true);
  CAPTURE(r.losses.front(), r.losses.back());
  REQUIRE(r.losses.back() < 0.9 * r.losses.front());
}
