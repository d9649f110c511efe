// Parity driver for the MLP-UNet trainer against its Python peers (benchmarks/peers/parity_mlp_unet.py, which
// uses PyTorch autograd when available and a NumPy transcription otherwise). Builds a seeded network, draws a
// batch x, σ and ε, and writes to --out DIR as .npy (samples along axis 0, PyTorch's batch-major layout):
//   config.json, weights/<name>.npy (initial weights + embedding.freqs), x, sigma, eps, F (network output on
//   c_in·(x + σε)), denoised (D), loss (0-d), grads/<name>.npy, grad_x (∂loss/∂x), and after --adam-steps Adam
//   updates on that same batch: adam/losses.npy (loss before each update) and adam/weights/<name>.npy.
// Usage: train_parity --out DIR [--precision float|double] [--dim 128 --nlayers 5 --hidden 256 --embedding 256]
//        [--batch 64] [--seed 1] [--lr 1e-3] [--adam-steps 3] [--reduction mean|sum]
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/npy.hpp"
#include "train/adam.hpp"
#include "train/edm.hpp"
#include "train/mlp_unet.hpp"
#include "train/rng.hpp"
#include "train/weights_io.hpp"

using namespace specbias;
namespace fs = std::filesystem;

namespace {

// A d×B column-major matrix has the memory layout of a (B, d) C-order array: write it as such.
template <typename M>
void write_batch(const fs::path& path, const M& m) {
  std::vector<double> data(static_cast<std::size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i) data[static_cast<std::size_t>(i)] = static_cast<double>(m.data()[i]);
  write_npy(path, data.data(), {static_cast<std::size_t>(m.cols()), static_cast<std::size_t>(m.rows())});
}

template <typename T>
void run(const std::map<std::string, std::string>& opt, const fs::path& out) {
  auto get = [&](const std::string& k) { return opt.at(k); };
  train::MlpUNetConfig cfg;
  cfg.dim = std::stol(get("dim"));
  cfg.nlayers = std::stol(get("nlayers"));
  cfg.hidden = std::stol(get("hidden"));
  cfg.embedding = std::stol(get("embedding"));
  const Eigen::Index batch = std::stol(get("batch"));
  const auto seed = std::stoull(get("seed"));
  train::EdmConfig ecfg;
  if (get("reduction") == "sum") ecfg.reduction = train::LossReduction::sum;
  else if (get("reduction") != "mean") throw std::invalid_argument("--reduction must be mean or sum");
  train::AdamConfig acfg;
  acfg.lr = std::stod(get("lr"));
  const int adam_steps = std::stoi(get("adam-steps"));

  train::MlpUNet<T> net(cfg, seed);
  train::Edm<T> edm(ecfg);
  train::Rng rng(seed + 1);
  train::Mat<T> x(cfg.dim, batch);
  for (Eigen::Index j = 0; j < batch; ++j)
    for (Eigen::Index i = 0; i < cfg.dim; ++i) x(i, j) = static_cast<T>(rng.normal());
  train::Vec<T> sigma;
  train::Mat<T> eps;
  edm.draw_noise(rng, cfg.dim, batch, sigma, eps);

  fs::create_directories(out);
  train::save_weights_npy(net, out / "weights");
  write_batch(out / "x.npy", x);
  write_batch(out / "eps.npy", eps);
  write_npy(out / "sigma.npy", Eigen::VectorXd(sigma.template cast<double>()));

  train::EdmContext<T> ctx;
  train::Mat<T> grad_x;
  const double loss = edm.loss_and_grad(net, x, sigma, eps, ctx, &grad_x);
  // D(x + σε; σ) and, by hand from the preconditioning, the network output F(c_in y, c_noise).
  const train::Mat<T> noisy = x + eps * sigma.asDiagonal();
  train::Mat<T> D(cfg.dim, batch);
  edm.denoise(net, noisy, sigma, ctx, D);
  write_batch(out / "denoised.npy", D);
  train::Vec<T> c_in(batch), c_noise(batch);
  for (Eigen::Index j = 0; j < batch; ++j) {
    const auto c = train::edm_coefficients(static_cast<double>(sigma(j)), ecfg);
    c_in(j) = static_cast<T>(c.c_in);
    c_noise(j) = static_cast<T>(c.c_noise);
  }
  auto fctx = net.make_context(batch);
  write_batch(out / "F.npy", net.forward(noisy * c_in.asDiagonal(), c_noise, fctx));
  write_npy(out / "loss.npy", &loss, {});
  train::save_grads_npy(net, out / "grads");
  write_batch(out / "grad_x.npy", grad_x);

  train::Adam<T> adam(acfg, net.parameters().size());
  std::vector<double> losses;
  for (int s = 0; s < adam_steps; ++s) {
    losses.push_back(edm.loss_and_grad(net, x, sigma, eps, ctx));
    adam.step(net.parameters().values(), net.parameters().grads());
  }
  fs::create_directories(out / "adam");
  write_npy(out / "adam" / "losses.npy", losses.data(), {losses.size()});
  train::save_weights_npy(net, out / "adam" / "weights");

  nlohmann::json j = {{"dim", cfg.dim},       {"nlayers", cfg.nlayers},
                      {"hidden", cfg.hidden}, {"embedding", cfg.embedding},
                      {"batch", batch},       {"seed", seed},
                      {"precision", sizeof(T) == 4 ? "float32" : "float64"},
                      {"sigma_data", ecfg.sigma_data}, {"sigma_min", ecfg.sigma_min},
                      {"reduction", get("reduction")}, {"lr", acfg.lr}, {"adam_steps", adam_steps},
                      {"loss", loss}};
  std::ofstream(out / "config.json") << j.dump(2) << "\n";
  std::cout << j.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) try {
  std::map<std::string, std::string> opt{{"out", ""},        {"precision", "float"}, {"dim", "128"},
                                         {"nlayers", "5"},   {"hidden", "256"},      {"embedding", "256"},
                                         {"batch", "64"},    {"seed", "1"},          {"lr", "1e-3"},
                                         {"adam-steps", "3"}, {"reduction", "mean"}};
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0 || i + 1 >= argc || !opt.count(k.substr(2)))
      throw std::invalid_argument("bad argument '" + k + "' (options: --out --precision --dim --nlayers --hidden "
                                  "--embedding --batch --seed --lr --adam-steps --reduction)");
    opt[k.substr(2)] = argv[i + 1];
  }
  if (opt["out"].empty()) throw std::invalid_argument("--out DIR is required");
  if (opt["precision"] == "float")
    run<float>(opt, opt["out"]);
  else if (opt["precision"] == "double")
    run<double>(opt, opt["out"]);
  else
    throw std::invalid_argument("--precision must be float or double");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "train_parity: " << e.what() << "\n";
  return 1;
}
