// Exponential integral helpers for the closed forms (4.6), (4.9), (8.9), (9.6) (THEORY.md §15).
// E1(x) = ∫_x^∞ e^{−t}/t dt for x > 0; Ei(−x) = −E1(x). Underflow (x > 700) returns exactly 0.
//
// Boost.Math's rational approximations (≈ 10 ns per call here) replace GSL's Chebyshev series (≈ 50 ns): the
// closed-form grids make two to four E1 calls per (τ, mode) entry, so E1 is their whole cost
// (benchmarks/ (a)). GSL's E1 stays as the independent reference in tests/models/special_functions_test.cpp.
#pragma once

namespace specbias::models {

double expint_e1(double x);

}  // namespace specbias::models
