// Small fixtures shared by the train/ tests: seeded random matrices and a naive (unfused, loop-and-formula)
// reference of LayerNorm, SiLU and the MLP-UNet block written straight from EMPIRICAL.md §2, so the fused
// library code is compared with an independent transcription of the spec.
#pragma once

#include <cmath>
#include <string>

#include "train/parameter_store.hpp"
#include "train/rng.hpp"
#include "train/tensor.hpp"

namespace specbias::test {

using train::Index;
using train::Mat;
using train::Vec;

inline Mat<double> random_matrix(Index rows, Index cols, std::uint64_t seed, double scale = 1.0) {
  train::Rng rng(seed);
  Mat<double> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = scale * rng.normal();
  return m;
}

inline Vec<double> random_vector(Index n, std::uint64_t seed, double scale = 1.0) {
  return random_matrix(n, 1, seed, scale);
}

// Fills every parameter of `store` with N(0, scale²) values so LayerNorm γ ≠ 1 and β ≠ 0 in gradient checks.
template <typename T>
void randomise(train::ParameterStore<T>& store, std::uint64_t seed, double scale = 0.5) {
  train::Rng rng(seed);
  for (T& v : store.values()) v = static_cast<T>(scale * rng.normal());
}

template <typename T>
Mat<double> tensor(train::ParameterStore<T>& store, const std::string& name) {
  return store.slot(store.find(name)).value_matrix().template cast<double>();
}

inline Mat<double> naive_layer_norm(const Mat<double>& x, const Vec<double>& gamma, const Vec<double>& beta) {
  Mat<double> y(x.rows(), x.cols());
  const double n = static_cast<double>(x.rows());
  for (Index j = 0; j < x.cols(); ++j) {
    double mean = 0, var = 0;
    for (Index i = 0; i < x.rows(); ++i) mean += x(i, j) / n;
    for (Index i = 0; i < x.rows(); ++i) var += (x(i, j) - mean) * (x(i, j) - mean) / n;  // biased, as torch
    for (Index i = 0; i < x.rows(); ++i) y(i, j) = (x(i, j) - mean) / std::sqrt(var + 1e-5) * gamma(i) + beta(i);
  }
  return y;
}

inline Mat<double> naive_silu(const Mat<double>& a) {
  return a.unaryExpr([](double v) { return v / (1.0 + std::exp(-v)); });
}

// Block(in → out) of EMPIRICAL.md §2 from the tensors named "<prefix>.*" in `store`.
template <typename T>
Mat<double> naive_block(train::ParameterStore<T>& store, const std::string& prefix, const Mat<double>& x,
                        const Mat<double>& e) {
  const auto W = [&](const std::string& n) { return tensor(store, prefix + "." + n + ".weight"); };
  const auto b = [&](const std::string& n) -> Vec<double> { return tensor(store, prefix + "." + n + ".bias"); };
  const Mat<double> s0 = naive_silu(naive_layer_norm(x, W("ln_in"), b("ln_in")));
  Mat<double> h = (W("fc0") * s0).colwise() + b("fc0");
  const Mat<double> film = (W("affine") * e).colwise() + b("affine");
  const Index out = h.rows();
  const Mat<double> scale = film.topRows(out), shift = film.bottomRows(out);
  const Mat<double> n = naive_layer_norm(h, W("ln_out"), b("ln_out"));
  h = naive_silu(shift.array() + n.array() * (1.0 + scale.array()));
  Mat<double> y = (W("fc1") * h).colwise() + b("fc1");
  if (x.rows() != out)
    y += (W("skip") * x).colwise() + b("skip");
  else
    y += x;
  return y;
}

}  // namespace specbias::test
