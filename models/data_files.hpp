// Loading sample data sets from disk as an N × d matrix (one flattened sample per row), the input to
// moments_from_samples (data_sources.hpp) and to the empirical trainer. Pixel scaling follows the paper's image
// experiments (THEORY.md §13.1: pixels mapped [0,1] → [−1,1]).
// Formats: NumPy .npy (via common/npy.hpp) and MNIST IDX image files, gzip-compressed (.gz) or plain (.idx,
// *-ubyte). Not handled: label files, .npz archives, image folders (PNG/JPEG) — these are DataErrors.
#pragma once

#include <Eigen/Dense>
#include <filesystem>
#include <optional>

namespace specbias::models {

// How uint8 pixel values x ∈ {0…255} become doubles. Applies ONLY to uint8 data (IDX files, .npy with dtype u1);
// float and wider integer .npy arrays are returned exactly as stored whatever the scaling, because their range
// is unknown and they are usually already preprocessed.
enum class PixelScaling {
  minus_one_one,  // x / 127.5 − 1 ∈ [−1, 1] (the paper's image convention)
  unit,           // x / 255 ∈ [0, 1]
  raw,            // x unchanged
};

// Reads a data set and returns N × d, row i = sample i flattened in C order.
//   .npy: shape N×d, N×H×W or N×C×H×W (d = product of the trailing axes).
//   .gz / .idx / *-ubyte: IDX with magic 0x00000803 (uint8, 3-d: N × rows × cols), big-endian header.
// max_samples (≥ 1) keeps only the first rows and reads no more of the file than needed (for IDX files the
// remainder is not checked for truncation). Throws DataError naming the file on a missing file, unknown
// extension, wrong IDX magic, unsupported .npy dtype/layout, a 1-d or 5+-d array, zero samples, or truncated data.
Eigen::MatrixXd load_samples(const std::filesystem::path& path, PixelScaling scaling,
                             std::optional<Eigen::Index> max_samples = {});

}  // namespace specbias::models
