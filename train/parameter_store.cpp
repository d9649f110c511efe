// ParameterStore (see parameter_store.hpp).
#include "train/parameter_store.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/errors.hpp"

namespace specbias::train {

template <typename T>
ParameterSlot<T> ParameterStore<T>::add(std::string name, Index rows, Index cols, std::vector<std::size_t> shape) {
  const auto n = static_cast<std::size_t>(rows * cols);
  if (rows <= 0 || cols <= 0 || used_ + n > values_.size())
    throw std::logic_error("ParameterStore::add('" + name + "'): " + std::to_string(rows) + "x" +
                           std::to_string(cols) + " does not fit (used " + std::to_string(used_) + " of " +
                           std::to_string(values_.size()) + "); the parameter count formula and the layers disagree");
  tensors_.push_back({std::move(name), rows, cols, used_, std::move(shape)});
  ParameterSlot<T> s{values_.data() + used_, used_, rows, cols};
  used_ += n;
  return s;
}

template <typename T>
std::size_t ParameterStore<T>::find(const std::string& name) const {
  for (std::size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return i;
  std::string known;
  for (std::size_t i = 0; i < std::min<std::size_t>(tensors_.size(), 4); ++i) known += " '" + tensors_[i].name + "'";
  throw DataError("no parameter tensor named '" + name + "' (known, e.g.:" + known + ")");
}

template <typename T>
ParameterSlot<T> ParameterStore<T>::slot(std::size_t tensor) {
  const ParameterInfo& p = tensors_.at(tensor);
  return {values_.data() + p.offset, p.offset, p.rows, p.cols};
}

template <typename T>
std::vector<ParameterSpan<T>> ParameterStore<T>::spans() {
  std::vector<ParameterSpan<T>> out;
  out.reserve(tensors_.size());
  for (const ParameterInfo& p : tensors_)
    out.push_back({&p, std::span<T>(values_).subspan(p.offset, p.size()), std::span<T>(grads_).subspan(p.offset, p.size())});
  return out;
}

template <typename T>
void ParameterStore<T>::zero_grads() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template class ParameterStore<float>;
template class ParameterStore<double>;

}  // namespace specbias::train
