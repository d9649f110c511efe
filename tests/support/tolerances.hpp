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
// Per-mode closed/implicit weights ((5.3), (6.4), (6.6), (6.7)) vs a scalar ODE integration at rtol 1e-13:
// the per-mode analogue of THEORY §15's 1e-10 for closed forms vs numerical gradient flow.
inline constexpr double kClosedVsModeFlowAbs = 1e-10;
// Full-matrix factorised flows (dopri5 on the layer parameters at rtol 1e-12, many coupled entries) vs per-mode
// solutions: rounding accumulates over the d·h parameters and thousands of steps, so one decade above 1e-10.
inline constexpr double kChainVsModeAbs = 1e-9;
// Conserved quantities (6.1)/(6.2) along a dopri5 flow at rtol 1e-12 (drift relative to max(1, |value|)).
inline constexpr double kConservedDrift = 1e-9;
// ₂F₁ and the antiderivatives of (6.6)/(6.7) vs independent series/quadrature in double precision.
inline constexpr double kSpecialFunctionRel = 1e-12;
// Implicit time (6.6)/(6.7) at numerically integrated w vs the integration time: τ(w) amplifies the ~1e-13 error
// in w by 1/|dw/dτ|, so the check keeps to w at least 1e-3·w* away from w* and allows 1e-8 relative.
inline constexpr double kImplicitTimeRel = 1e-8;
// Central finite differences (step 1e-6) of the loss vs an analytic gradient: truncation + cancellation ≈ 1e-8.
inline constexpr double kFiniteDifferenceAbs = 1e-7;

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
