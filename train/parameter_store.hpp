// Flat storage of all trainable parameters and their gradients. Values and gradients each live in one
// contiguous buffer, so an optimiser (train/adam.hpp) updates everything in a single pass and a checkpoint is
// two arrays; named tensors (e.g. "blocks.0.fc0.weight", PyTorch's state_dict names and shapes) are views
// into those buffers for layers, weight export and gradient checks.
// Capacity is fixed at construction (the architecture's parameter count), so the buffers never reallocate and
// the slots handed to layers stay valid for the store's lifetime, also when the store is moved. The buffers are
// aligned to Eigen's maximum packet alignment: Eigen splits vectorised reductions at aligned boundaries, so a
// malloc-dependent base address would make bias and LayerNorm gradients differ in the last bits run to run.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "train/tensor.hpp"

namespace specbias::train {

// One named tensor inside the store. Matrices are rows × cols column-major in memory; `shape` is the shape
// PyTorch reports, (out, in) for a Linear weight and (n,) for vectors, so element (i, j) of the export is
// value(i, j) here.
struct ParameterInfo {
  std::string name;
  Index rows = 0;
  Index cols = 0;
  std::size_t offset = 0;
  std::vector<std::size_t> shape;

  [[nodiscard]] std::size_t size() const { return static_cast<std::size_t>(rows * cols); }
};

// What a layer keeps of one of its tensors: a pointer into the store's value buffer and the tensor's offset,
// which locates its gradient in any gradient buffer laid out like the store (the store's own, or a batch
// shard's private one that is summed into it later, train/edm.hpp).
template <typename T>
struct ParameterSlot {
  T* value = nullptr;
  std::size_t offset = 0;
  Index rows = 0;
  Index cols = 0;

  [[nodiscard]] MatMap<T> value_matrix() const { return MatMap<T>(value, rows, cols); }
  [[nodiscard]] VecMap<T> value_vector() const { return VecMap<T>(value, rows * cols); }
  // This tensor's gradient inside the gradient buffer starting at `grads`.
  [[nodiscard]] MatMap<T> grad_matrix(T* grads) const { return MatMap<T>(grads + offset, rows, cols); }
  [[nodiscard]] VecMap<T> grad_vector(T* grads) const { return VecMap<T>(grads + offset, rows * cols); }
};

// A buffer of gradients (or of any per-parameter values) with the store's alignment.
template <typename T>
using AlignedBuffer = std::vector<T, Eigen::aligned_allocator<T>>;

// A (parameter, gradient) pair of spans with its name, the optimiser-facing view of one tensor.
template <typename T>
struct ParameterSpan {
  const ParameterInfo* info;
  std::span<T> value;
  std::span<T> grad;
};

template <typename T>
class ParameterStore {
 public:
  // Allocates `capacity` values and gradients, all zero.
  explicit ParameterStore(std::size_t capacity) : values_(capacity, T(0)), grads_(capacity, T(0)) {}

  ParameterStore(const ParameterStore&) = delete;  // slots point into the buffers: a copy would alias them
  ParameterStore& operator=(const ParameterStore&) = delete;
  ParameterStore(ParameterStore&&) noexcept = default;  // vector moves keep the buffers, so slots stay valid
  ParameterStore& operator=(ParameterStore&&) noexcept = default;

  // Claims the next rows·cols entries for tensor `name` with the exported `shape`; throws std::logic_error when
  // the capacity is exceeded (an architecture/parameter-count mismatch, i.e. a bug).
  ParameterSlot<T> add(std::string name, Index rows, Index cols, std::vector<std::size_t> shape);

  [[nodiscard]] std::size_t size() const { return values_.size(); }  // capacity
  [[nodiscard]] std::size_t used() const { return used_; }

  [[nodiscard]] std::span<T> values() { return values_; }
  [[nodiscard]] std::span<const T> values() const { return values_; }
  [[nodiscard]] std::span<T> grads() { return grads_; }
  [[nodiscard]] std::span<const T> grads() const { return grads_; }

  [[nodiscard]] const std::vector<ParameterInfo>& tensors() const { return tensors_; }
  // Index of the tensor called `name`, or throws DataError listing a few known names.
  [[nodiscard]] std::size_t find(const std::string& name) const;
  [[nodiscard]] ParameterSlot<T> slot(std::size_t tensor);
  // The flat list of (parameter, gradient) spans, one per tensor, in registration order.
  [[nodiscard]] std::vector<ParameterSpan<T>> spans();

  void zero_grads();

 private:
  AlignedBuffer<T> values_;
  AlignedBuffer<T> grads_;
  std::vector<ParameterInfo> tensors_;
  std::size_t used_ = 0;
};

extern template class ParameterStore<float>;
extern template class ParameterStore<double>;

}  // namespace specbias::train
