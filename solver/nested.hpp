// The nested driver: an outer flow over training time τ at every node of a fixed grid (independent, so run in
// parallel), and an inner computation at each requested τ that uses all nodes' current outer states.
//
// Generic: a node flow is any type with `advance_to(double tau)`; the inner step is any callable. The driver
// advances every node flow to τ_j (in increasing order, resuming where τ_{j−1} left off), then calls
// inner(j, τ_j). Memory is one state per node, never one per (node, τ). Exceptions thrown inside the parallel
// region are captured and rethrown on the calling thread (with their message intact).
#pragma once

#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <stdexcept>
#include <vector>

namespace specbias::solver {

// Runs body(i) for i in [0, n) on up to `threads` threads (OpenMP when available), rethrowing the first error.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& body);

template <class NodeFlow>
void run_nested(std::vector<NodeFlow>& node_flows, std::span<const double> taus, int threads,
                const std::function<void(std::size_t tau_index, double tau)>& inner) {
  for (std::size_t j = 0; j < taus.size(); ++j) {
    if (j > 0 && taus[j] < taus[j - 1]) throw std::invalid_argument("run_nested: tau values must be non-decreasing");
    parallel_for(node_flows.size(), threads, [&](std::size_t i) { node_flows[i].advance_to(taus[j]); });
    inner(j, taus[j]);
  }
}

// Splits [0, n) into one contiguous block per thread (at most `threads`; 0 = all) and runs body(begin, end) once
// per block: a single fork-join however large n is.
void parallel_for_blocks(std::size_t n, int threads, const std::function<void(std::size_t begin, std::size_t end)>& body);

// The nested driver for node flows whose advance_to is a direct evaluation (exact propagators: no history, so
// any τ can be evaluated without the earlier ones). The τ values are then independent: they are split into one
// contiguous block per thread, each block builds its own node flows with make_flows() and, for each of its τ_j,
// advances them and calls inner(j, τ_j, flows). One fork-join in all instead of one per τ, which matters on a
// busy machine, where every fork-join can wait a whole time slice for a descheduled thread.
// inner runs concurrently for different j: it must only write to per-j outputs (and thread_local workspaces).
template <class NodeFlow>
void run_nested_direct(const std::function<std::vector<NodeFlow>()>& make_flows, std::span<const double> taus,
                       int threads,
                       const std::function<void(std::size_t tau_index, double tau, const std::vector<NodeFlow>&)>& inner) {
  parallel_for_blocks(taus.size(), threads, [&](std::size_t begin, std::size_t end) {
    std::vector<NodeFlow> flows = make_flows();
    for (std::size_t j = begin; j < end; ++j) {
      for (auto& f : flows) f.advance_to(taus[j]);
      inner(j, taus[j], flows);
    }
  });
}

}  // namespace specbias::solver
