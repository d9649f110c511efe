// Adam exactly as torch.optim.Adam with its defaults (amsgrad=False, weight_decay=0, maximize=False), as
// EMPIRICAL.md §1 prescribes: β = (0.9, 0.999), ε = 1e-8, constant learning rate. Per step t = 1, 2, …:
//   m ← m + (1 − β1)(g − m)          (torch: exp_avg.lerp_(grad, 1 − β1))
//   v ← β2 v + (1 − β2) g²           (torch: exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2))
//   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + ε)
// The bias-correction scalars are formed in double and rounded to T, as PyTorch does for its Python-float
// scalars. State (t, m, v) is exported and imported for checkpoints; one flat span covers all parameters.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace specbias::train {

struct AdamConfig {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;

  void validate() const;  // ConfigError: lr > 0, 0 ≤ β < 1, ε ≥ 0
};

template <typename T>
struct AdamState {
  std::int64_t step = 0;  // number of updates taken
  std::vector<T> m;       // first moment, one per parameter
  std::vector<T> v;       // second moment
};

template <typename T>
class Adam {
 public:
  // n: number of parameters (the flat span length every step() must pass).
  Adam(const AdamConfig& config, std::size_t n);

  [[nodiscard]] const AdamConfig& config() const { return config_; }
  void set_lr(double lr);

  // One update of `params` from `grads` (both length n).
  void step(std::span<T> params, std::span<const T> grads);

  [[nodiscard]] const AdamState<T>& state() const { return state_; }
  // Throws DataError when m or v has the wrong length or step < 0.
  void set_state(AdamState<T> state);

 private:
  AdamConfig config_;
  AdamState<T> state_;
};

extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace specbias::train
