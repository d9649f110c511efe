// NPY exchange of MLP-UNet weights with PyTorch (benchmarks/peers/mlp_unet_torch.py): one `<name>.npy` per
// tensor in a directory, named as in the PyTorch state_dict ("blocks.0.fc0.weight", …, "out.bias") with
// PyTorch's shapes (Linear weight (out, in), vectors (n,)), plus the frozen Fourier vector "embedding.freqs"
// (E/2,). Files are float64 (common/npy.hpp writes <f8 only); float32 values convert exactly both ways.
// Gradients can be exported the same way (tests and the parity driver compare them tensor by tensor).
#pragma once

#include <filesystem>

#include "train/mlp_unet.hpp"

namespace specbias::train {

// Writes every parameter tensor and embedding.freqs into `dir` (created if missing).
template <typename T>
void save_weights_npy(const MlpUNet<T>& net, const std::filesystem::path& dir);
// Writes every parameter gradient as `<name>.npy` into `dir` (no embedding: it is not trained).
template <typename T>
void save_grads_npy(const MlpUNet<T>& net, const std::filesystem::path& dir);
// Reads every parameter tensor and embedding.freqs from `dir`. Throws DataError naming the file for a missing
// file or a shape that differs from the network's; nothing is modified unless every file reads cleanly.
template <typename T>
void load_weights_npy(MlpUNet<T>& net, const std::filesystem::path& dir);

}  // namespace specbias::train
