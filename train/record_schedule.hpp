// Training steps at which the trainer draws samples and records statistics (EMPIRICAL.md §4, "pseudo-log"):
// every step for 1–9, every 2 to 50, every 4 to 100, every 8 to 500, every 16 to 2,500, every 32 to 5,000,
// every 64 (Gaussian data) or 128 (images) to 10,000, every 256 to 50,000, every 512 beyond; always step 0
// (the initialisation, which the authors' pipeline lacked) and the last step.
#pragma once

#include <cstdint>
#include <vector>

namespace specbias::train {

enum class ScheduleKind { gaussian, images };  // differ only in the stride between 5,000 and 10,000 steps

// Sorted, unique steps in [0, total_steps]. Each segment [a, b) with stride s contributes a, a+s, … < b, so a
// segment boundary is always recorded. Throws std::invalid_argument for total_steps < 1.
std::vector<std::int64_t> record_schedule(std::int64_t total_steps, ScheduleKind kind);

// A sparser log schedule for CPU-sized runs: 0 and `count` log-spaced steps from 1 to total_steps (rounded,
// duplicates removed, so small totals give fewer), always including 1 and the last step. count ≥ 2.
std::vector<std::int64_t> log_schedule(std::int64_t total_steps, std::int64_t count);

// A uniform alternative: 0, every, 2·every, …, and the last step.
std::vector<std::int64_t> uniform_schedule(std::int64_t total_steps, std::int64_t every);

}  // namespace specbias::train
