// The image shape [H, W] a sample file implies, for the convolutional models (THEORY §7–8), which need to know
// which pixels are neighbours: NumPy arrays N×H×W (or N×1×H×W, one channel) and MNIST IDX files (N × rows × cols).
// N×d arrays and multi-channel images carry no (usable) shape: the config's `data.shape` must give it.
#pragma once

#include <filesystem>
#include <optional>

#include "models/fourier_spectrum.hpp"

namespace specbias::models {

// The per-sample image shape, or nullopt when the file does not determine one (N×d, or C > 1 channels). Reads
// only the header (and for .npy the first sample). Throws DataError for unreadable files like load_samples.
std::optional<ImageShape> image_shape_of_file(const std::filesystem::path& path);

}  // namespace specbias::models
