// Exponential integral helpers for the closed forms (4.6), (4.9), (8.9), (9.6) (THEORY.md §15).
// E1(x) = ∫_x^∞ e^{−t}/t dt for x > 0 through GSL; Ei(−x) = −E1(x). Underflow (x ≳ 700) returns exactly 0.
#pragma once

namespace specbias::models {

double expint_e1(double x);

}  // namespace specbias::models
