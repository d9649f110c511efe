#include "solver/nested.hpp"

#include <algorithm>
#include <atomic>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace specbias::solver {

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& body) {
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  auto run = [&](std::size_t i) {
    if (failed.load(std::memory_order_relaxed)) return;  // an earlier item failed: skip the rest quickly
    try {
      body(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      failed = true;
    }
  };
#ifdef _OPENMP
  const int nthreads = threads > 0 ? threads : omp_get_max_threads();
  if (nthreads > 1 && n > 1) {
    // Static chunks: node flows at one τ cost about the same, and static scheduling keeps thread wake-ups cheap.
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (std::size_t i = 0; i < n; ++i) run(i);
  } else {
    for (std::size_t i = 0; i < n; ++i) run(i);
  }
#else
  (void)threads;
  for (std::size_t i = 0; i < n; ++i) run(i);
#endif
  if (error) std::rethrow_exception(error);
}

void parallel_for_blocks(std::size_t n, int threads, const std::function<void(std::size_t, std::size_t)>& body) {
  if (n == 0) return;
#ifdef _OPENMP
  const std::size_t available = static_cast<std::size_t>(threads > 0 ? threads : omp_get_max_threads());
#else
  const std::size_t available = 1;
#endif
  const std::size_t blocks = std::min(n, std::max<std::size_t>(1, available));
  parallel_for(blocks, static_cast<int>(blocks), [&](std::size_t b) { body(n * b / blocks, n * (b + 1) / blocks); });
}

}  // namespace specbias::solver
