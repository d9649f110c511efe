#!/usr/bin/python3
"""Peer for benchmark (b): the mode-wise generated variance (4.4) by scipy.integrate.quad, one call per (tau, mode).

lam~_k(tau) = sT2 * exp(2 * I),  I = int_{ln s0}^{ln sT} (w_k(e^s) - 1) ds,
w_k(sigma) = w* + (Q - w*) exp(-c (sigma^2 + lam)),  w* = lam/(lam + sigma^2),  c = 2 eta tau     (3.4)

This is the way the paper's authors computed it: a Python integrand handed to QUADPACK. Same break points as the
C++ path (s = 1/2 ln lam, s = -1/2 ln c: QAGP), epsabs = 0, epsrel = 1e-10 (as the C++ run it is compared with).
The full grid is 25,600 quad calls; by default a random subset (seed 0) is timed and the time extrapolated
linearly to the full grid (--subset 0 runs all of it). Accuracy is checked against the closed form (4.9) evaluated
here with scipy.special.exp1 and, with --compare DIR, against the C++ closed form dumped there. Prints JSON.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import scipy
import scipy.special as sp
from scipy.integrate import quad

SIGMA_MIN, SIGMA_MAX = 0.002, 80.0


def closed_form(lam, tau, Q, eta):
    s02, sT2 = SIGMA_MIN**2, SIGMA_MAX**2
    c = 2.0 * eta * tau
    two_dH = -np.log((lam + sT2) / (lam + s02)) - (sp.exp1(c * (sT2 + lam)) - sp.exp1(c * (s02 + lam)))
    two_dH -= (Q - 1.0) * np.exp(-c * lam) * (sp.exp1(c * sT2) - sp.exp1(c * s02))
    return sT2 * np.exp(two_dH)


def variance_by_quad(lam, tau, Q, eta, epsrel):
    c = 2.0 * eta * tau
    exp = math.exp

    def integrand(s):
        sig2 = exp(2.0 * s)
        wstar = lam / (lam + sig2)
        return wstar + (Q - wstar) * exp(-c * (sig2 + lam)) - 1.0

    a, b = math.log(SIGMA_MIN), math.log(SIGMA_MAX)
    pts = sorted(p for p in (0.5 * math.log(lam), -0.5 * math.log(c)) if a < p < b)
    val, _err, info = quad(integrand, a, b, points=pts or None, epsabs=0.0, epsrel=epsrel, limit=2000,
                           full_output=1)[:3]
    return SIGMA_MAX**2 * math.exp(2.0 * val), info["neval"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--ntau", type=int, default=100)
    ap.add_argument("--subset", type=int, default=2560, help="number of (tau, mode) pairs to time; 0 = all")
    ap.add_argument("--epsrel", type=float, default=1e-10)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--compare", default="", help="directory with the C++ dump (tau.npy, lambda.npy, closed_form.npy)")
    a = ap.parse_args()
    Q, eta = 0.1, 1.0

    if a.compare:
        tau = np.load(os.path.join(a.compare, "tau.npy"))
        lam = np.load(os.path.join(a.compare, "lambda.npy"))
    else:
        tau = 10.0 ** np.linspace(-4, 5, a.ntau)
        lam = 1e2 * (1e-3 / 1e2) ** (np.arange(a.d) / (a.d - 1))
    n_total = tau.size * lam.size
    pairs = [(j, k) for j in range(tau.size) for k in range(lam.size)]
    if a.subset and a.subset < n_total:
        rng = np.random.default_rng(0)
        pairs = [pairs[i] for i in rng.choice(n_total, size=a.subset, replace=False)]
    pairs_tau = [float(tau[j]) for j, _ in pairs]
    pairs_lam = [float(lam[k]) for _, k in pairs]

    times = []
    for _ in range(a.reps):
        values, nevals = [], 0
        t0 = time.perf_counter()
        for t_, l_ in zip(pairs_tau, pairs_lam):
            v, ne = variance_by_quad(l_, t_, Q, eta, a.epsrel)
            values.append(v)
            nevals += ne
        times.append(time.perf_counter() - t0)
    values = np.array(values)
    best = min(times)

    jj = np.array([j for j, _ in pairs])
    kk = np.array([k for _, k in pairs])
    ref_py = closed_form(lam[kk], tau[jj], Q, eta)
    out = {
        "peer": "scipy.integrate.quad (QAGP, Python integrand) per (tau, mode)",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "problem": {"d": int(lam.size), "n_tau": int(tau.size), "epsrel": a.epsrel},
        "calls_timed": len(pairs),
        "calls_full_grid": n_total,
        "time_subset": {"best_s": best, "all_s": times, "reps": a.reps},
        "per_call_us": 1e6 * best / len(pairs),
        "integrand_evaluations": int(nevals),
        "time_full_grid_s": best * n_total / len(pairs),
        "extrapolated": len(pairs) < n_total,
        "max_rel_err_vs_scipy_closed_form": float(np.max(np.abs(values - ref_py) / ref_py)),
    }
    if a.compare:
        ref = np.load(os.path.join(a.compare, "closed_form.npy"))[jj, kk]
        out["max_rel_err_vs_specbias_closed_form"] = float(np.max(np.abs(values - ref) / ref))
        out["closed_forms_max_rel_diff"] = float(np.max(np.abs(ref_py - ref) / ref))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
