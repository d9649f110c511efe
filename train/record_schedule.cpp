#include "train/record_schedule.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace specbias::train {

std::vector<std::int64_t> record_schedule(std::int64_t total_steps, ScheduleKind kind) {
  if (total_steps < 1) throw std::invalid_argument("record_schedule: total_steps must be >= 1, got " + std::to_string(total_steps));
  struct Segment {
    std::int64_t begin, end, stride;
  };
  const std::int64_t mid_stride = kind == ScheduleKind::gaussian ? 64 : 128;
  const std::array<Segment, 10> segments{{{1, 10, 1},
                                          {10, 50, 2},
                                          {50, 100, 4},
                                          {100, 500, 8},
                                          {500, 2500, 16},
                                          {2500, 5000, 32},
                                          {5000, 10000, mid_stride},
                                          {10000, 50000, 256},
                                          {50000, 100000, 512},
                                          {100000, INT64_MAX, 512}}};
  std::vector<std::int64_t> steps{0};
  for (const auto& seg : segments)
    for (std::int64_t s = seg.begin; s < seg.end && s <= total_steps; s += seg.stride) steps.push_back(s);
  if (steps.back() != total_steps) steps.push_back(total_steps);
  return steps;
}

std::vector<std::int64_t> log_schedule(std::int64_t total_steps, std::int64_t count) {
  if (total_steps < 1 || count < 2) throw std::invalid_argument("log_schedule: total_steps >= 1 and count >= 2 required");
  std::vector<std::int64_t> steps{0};
  const double top = std::log(static_cast<double>(total_steps));
  for (std::int64_t i = 0; i < count; ++i) {
    const auto s = static_cast<std::int64_t>(std::llround(std::exp(top * static_cast<double>(i) / static_cast<double>(count - 1))));
    if (s > steps.back()) steps.push_back(std::min(s, total_steps));
  }
  if (steps.back() != total_steps) steps.push_back(total_steps);
  return steps;
}

std::vector<std::int64_t> uniform_schedule(std::int64_t total_steps, std::int64_t every) {
  if (total_steps < 1 || every < 1)
    throw std::invalid_argument("uniform_schedule: total_steps and every must be >= 1");
  std::vector<std::int64_t> steps;
  for (std::int64_t s = 0; s <= total_steps; s += every) steps.push_back(s);
  if (steps.back() != total_steps) steps.push_back(total_steps);
  return steps;
}

}  // namespace specbias::train
