// Shared helpers for the benchmark drivers (benchmarks/bench_*.cpp): wall-clock timing with best-of-N
// repetitions (the reference machine is shared, so the minimum is the least disturbed run), the log-spaced
// τ grid the benchmarks and their Python peers both use, tiny argument parsing, and the JSON header every
// driver prints (environment, threads). Benchmarks only measure; all mathematics is library code.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "common/environment.hpp"

namespace specbias::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs f() `reps` times; returns every wall time (seconds). The caller reports the minimum and the list.
template <class F>
std::vector<double> time_reps(int reps, F&& f) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    f();
    times.push_back(seconds_since(t0));
  }
  return times;
}

inline double best(const std::vector<double>& times) { return *std::min_element(times.begin(), times.end()); }

inline nlohmann::json timing_json(const std::vector<double>& times) {
  return {{"best_s", best(times)}, {"all_s", times}, {"reps", times.size()}};
}

// τ_j = 10^(lo + (hi − lo) j/(n − 1)), j = 0…n−1 — the grid the peers read back from the dumped τ file.
inline std::vector<double> log_spaced(double lo_exp10, double hi_exp10, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j)
    v[static_cast<size_t>(j)] = std::pow(10.0, lo_exp10 + (hi_exp10 - lo_exp10) * j / std::max(1, n - 1));
  return v;
}

// --key value arguments with defaults; unknown keys are errors (a typo must not silently run the default).
class Args {
 public:
  Args(int argc, char** argv, std::vector<std::string> allowed) : allowed_(std::move(allowed)) {
    for (int i = 1; i < argc; ++i) {
      std::string k = argv[i];
      if (k == "--help" || k == "-h") throw std::invalid_argument(usage());
      if (k.rfind("--", 0) != 0 || i + 1 >= argc) throw std::invalid_argument("bad argument '" + k + "'\n" + usage());
      k = k.substr(2);
      if (std::find(allowed_.begin(), allowed_.end(), k) == allowed_.end())
        throw std::invalid_argument("unknown option --" + k + "\n" + usage());
      values_.emplace_back(k, argv[++i]);
    }
  }
  [[nodiscard]] std::string get(const std::string& k, const std::string& def) const {
    for (auto it = values_.rbegin(); it != values_.rend(); ++it)
      if (it->first == k) return it->second;
    return def;
  }
  [[nodiscard]] int get_int(const std::string& k, int def) const { return std::stoi(get(k, std::to_string(def))); }
  [[nodiscard]] double get_double(const std::string& k, double def) const {
    const std::string v = get(k, "");
    return v.empty() ? def : std::stod(v);
  }

 private:
  [[nodiscard]] std::string usage() const {
    std::string u = "options:";
    for (const auto& a : allowed_) u += " --" + a + " <value>";
    return u;
  }
  std::vector<std::string> allowed_;
  std::vector<std::pair<std::string, std::string>> values_;
};

inline int omp_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Environment block shared by every driver: library versions, threads (OpenMP and Eigen's GEMM threads).
inline nlohmann::json bench_header(const std::string& name) {
  nlohmann::json j;
  j["benchmark"] = name;
  j["environment"] = environment_info();
  j["openmp_threads"] = omp_threads();
  j["eigen_threads"] = Eigen::nbThreads();
  return j;
}

// max_i |a_i − b_i| / |b_i| over finite entries (b is the reference).
template <class A, class B>
double max_rel_diff(const A& a, const B& b) {
  double m = 0.0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    const double r = std::abs(a.data()[i] - b.data()[i]) / std::abs(b.data()[i]);
    if (std::isfinite(r)) m = std::max(m, r);
    else if (a.data()[i] != b.data()[i]) m = std::numeric_limits<double>::infinity();
  }
  return m;
}

}  // namespace specbias::bench
