// Named test tolerances, each with its reason (STYLE.md §9). THEORY.md §15 lists what the reference
// implementation achieves; tests use these values, never ad-hoc literals for closed-form comparisons.
#pragma once

namespace specbias::test {

// Closed form (4.6)/(4.9) vs adaptive quadrature of (4.4): both are accurate to ~1e-13; THEORY §15 asks ≤ 1e-9.
inline constexpr double kClosedVsQuadratureRel = 1e-9;
// Closed-form weights (3.2) vs full-matrix numerical gradient flow at rtol 1e-12: THEORY §15 asks ≤ 1e-10.
inline constexpr double kClosedVsGradientFlowAbs = 1e-10;
// Closed-form generated variance vs the full-matrix PF transition (4.1)-(4.2): limited by dynamic range, ≤ 1e-7.
inline constexpr double kClosedVsPfTransitionRel = 1e-7;
// Closed form vs the nested numeric path (numeric outer flow + quadrature over the sigma-node grid): ≈ 1e-9.
inline constexpr double kClosedVsNestedRel = 1e-9;
// Exact algebraic identities evaluated in double precision (e.g. gradient at the optimum).
inline constexpr double kRoundoff = 1e-12;

// ---- train/ (empirical trainer) ----
// Central-difference gradient checks in double with step kFiniteDifferenceStep: truncation O(h²) ≈ 1e-12 and
// round-off O(ε/h) ≈ 1e-10 relative to the largest gradient entry, so 1e-6 leaves room yet catches any
// wrong term (a missing factor or transposed index gives O(1) errors). Error = max|fd − analytic| / max|analytic|.
inline constexpr double kGradCheckRel = 1e-6;
inline constexpr double kFiniteDifferenceStep = 1e-6;
// float32 vs float64 forward of the same weights through a few LayerNorm/GEMM layers: float round-off
// (6e-8 per operation) amplified by LayerNorm's 1/std and sums over ≤ 256 terms stays below 1e-5 of the
// output scale.
inline constexpr double kFloatVsDoubleRel = 1e-5;

}  // namespace specbias::test
