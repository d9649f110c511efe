// NumPy .npy reading and writing, so large arrays (trajectories, data sets) move between specbias and NumPy
// in one line on either side (STYLE.md §7). Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// Reads format versions 1.0, 2.0 and 3.0 with little-endian dtypes <f8, <f4, <i4, <i8 and u1 (any byte-order
// mark); everything is converted to double. Writes <f8, C order, version 1.0 only.
// Not handled: Fortran-ordered arrays, big-endian dtypes, structured/object dtypes, .npz archives — all are
// reported as DataError naming the file, never read wrongly.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace specbias {

struct NpyArray {
  std::vector<std::size_t> shape;  // as stored in the header; empty for a 0-d array
  std::vector<double> data;        // prod(shape) values (or fewer, see read_npy's max_rows), C order
  std::string dtype;               // the header's descr, e.g. "<f4" or "|u1"

  [[nodiscard]] std::size_t size() const { return data.size(); }
};

// Reads a whole .npy file. With max_rows, only the first max_rows entries of axis 0 are converted (shape[0] is
// reduced accordingly), so a large data set can be sampled without holding all of it as doubles; the file
// size is still checked against the full header. Throws DataError (naming the file, what is wrong, expected vs
// found) on a missing file, bad magic, unsupported version or dtype, fortran_order: True, or truncated data.
NpyArray read_npy(const std::filesystem::path& path, std::optional<std::size_t> max_rows = {});

// Writes prod(shape) doubles from `data` (C order) as a version-1.0 <f8 file, atomically (common/atomic_file.hpp).
// An empty shape writes a 0-d array holding data[0].
void write_npy(const std::filesystem::path& path, const double* data, const std::vector<std::size_t>& shape);
// rows × cols array; element (i, j) of the file is M(i, j) (Eigen's column-major storage is transposed here).
void write_npy(const std::filesystem::path& path, const Eigen::MatrixXd& matrix);
// 1-d array of length v.size().
void write_npy(const std::filesystem::path& path, const Eigen::VectorXd& vector);

}  // namespace specbias
