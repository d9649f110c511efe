// Special functions for the closed forms (THEORY.md §15).
//
// E1: exponential integral for (4.6), (4.9), (8.9), (9.6). E1(x) = ∫_x^∞ e^{−t}/t dt for x > 0; Ei(−x) = −E1(x).
// Underflow (x > 700) returns exactly 0. Boost.Math's rational approximations (≈ 10 ns per call here) replace
// GSL's Chebyshev series (≈ 50 ns): the closed-form grids make two to four E1 calls per (τ, mode) entry, so E1 is
// their whole cost (benchmarks/ (a)). GSL's E1 stays as the independent reference in the tests.
//
// ₂F₁(1, b; 1 + b; z): the hypergeometric function of the implicit deep-network solution (6.6), which needs
// b = 1 − β < 0 and b = β > 0 with c = a + b (the logarithmic case at z → 1).
#pragma once

namespace specbias::models {

double expint_e1(double x);

// ₂F₁(1, b; 1 + b; z) = b Σ_{n≥0} zⁿ/(n + b) for 0 ≤ z < 1 (z may round to 1 if one_minus_z > 0), b not 0 or a negative integer. `one_minus_z` must be
// 1 − z computed without cancellation by the caller (near z = 1 the function is −b ln(1 − z) + O(1), and the
// implicit solution (6.6) is evaluated there at late training times).
//   z ≤ ½: Boost.Math hypergeometric_pFq (checked series; its error estimate is enforced);
//   z > ½: Abramowitz–Stegun 15.3.10, the c = a + b connection formula, a series in (1 − z) ≤ ½ with digamma
//          values updated by ψ(x + 1) = ψ(x) + 1/x.
// GSL's gsl_sf_hyperg_2F1 is not used: for these parameters it was measured to lose 7 digits at b = −1/3
// (z < ½) and to return the wrong sign for b < 0 at z ≥ ½ (GSL 2.7.1).
// Throws std::domain_error outside the domain or when the series does not converge.
double hyp2f1_1_b_1pb(double b, double z, double one_minus_z);

}  // namespace specbias::models
