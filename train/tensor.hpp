// Eigen aliases shared by train/: activations are column-major matrices of shape features × batch (one column
// per sample), so a Linear layer is one GEMM W·X over the whole batch. T is the scalar type: float for
// training, double for finite-difference gradient checks (STYLE.md §10).
#pragma once

#include <Eigen/Dense>

namespace specbias::train {

using Index = Eigen::Index;

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;  // column-major
template <typename T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// Read-only and writable views that bind to matrices, maps and contiguous-column blocks without copying.
template <typename T>
using MatCRef = Eigen::Ref<const Mat<T>>;
template <typename T>
using MatRef = Eigen::Ref<Mat<T>>;
template <typename T>
using VecCRef = Eigen::Ref<const Vec<T>>;

template <typename T>
using MatMap = Eigen::Map<Mat<T>>;
template <typename T>
using VecMap = Eigen::Map<Vec<T>>;

// Resizes only when the shape changes, so contexts reused with a fixed batch never touch the heap.
template <typename Derived>
void ensure_shape(Eigen::PlainObjectBase<Derived>& m, Index rows, Index cols) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
}

}  // namespace specbias::train
