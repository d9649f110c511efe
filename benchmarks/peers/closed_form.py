#!/usr/bin/python3
"""Peer for benchmark (a): the one-layer closed-form generated variance (4.9), vectorised NumPy/SciPy.

lam~_k(tau) = sT2 * exp( -ln((lam+sT2)/(lam+s02)) - [E1(c(sT2+lam)) - E1(c(s02+lam))]
                         - (Q-1) e^{-c lam} [E1(c sT2) - E1(c s02)] ),   c = 2 eta tau,
on the full n_tau x d grid with scipy.special.exp1 (broadcasting: the tau-only E1 terms are n_tau x 1, as anyone
writing it in NumPy would). tau = 0 is not on the grid. With --compare DIR the inputs are read from the C++
driver's dump (tau.npy, lambda.npy) so both evaluate bit-identical points, and the max relative difference to
its variance.npy is reported. Prints JSON.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy
import scipy.special as sp


def closed_form_grid(lam, tau, Q=0.1, eta=1.0, sigma_min=0.002, sigma_max=80.0):
    s02, sT2 = sigma_min**2, sigma_max**2
    c = (2.0 * eta * tau)[:, None]          # n_tau x 1
    lam = lam[None, :]                      # 1 x d
    two_dH = -np.log((lam + sT2) / (lam + s02)) - (sp.exp1(c * (sT2 + lam)) - sp.exp1(c * (s02 + lam)))
    two_dH -= (Q - 1.0) * np.exp(-c * lam) * (sp.exp1(c * sT2) - sp.exp1(c * s02))
    return sT2 * np.exp(two_dH)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d", type=int, default=3072)
    ap.add_argument("--ntau", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--compare", default="", help="directory with the C++ dump (tau.npy, lambda.npy, variance.npy)")
    a = ap.parse_args()

    if a.compare:
        tau = np.load(os.path.join(a.compare, "tau.npy"))
        lam = np.load(os.path.join(a.compare, "lambda.npy"))
    else:
        tau = 10.0 ** np.linspace(-4, 5, a.ntau)
        k = np.arange(a.d)
        lam = 1e2 * (1e-3 / 1e2) ** (k / (a.d - 1))

    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        v = closed_form_grid(lam, tau)
        times.append(time.perf_counter() - t0)

    out = {
        "peer": "numpy/scipy vectorised (4.9) with scipy.special.exp1",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "problem": {"d": int(lam.size), "n_tau": int(tau.size)},
        "time": {"best_s": min(times), "all_s": times, "reps": a.reps},
    }
    if a.compare:
        ref = np.load(os.path.join(a.compare, "variance.npy"))
        rel = np.abs(v - ref) / np.abs(ref)
        idx = np.unravel_index(np.argmax(rel), rel.shape)
        out["max_rel_diff_vs_specbias"] = float(rel.max())
        out["median_rel_diff_vs_specbias"] = float(np.median(rel))
        out["worst_entry"] = {"tau": float(tau[idx[0]]), "lambda": float(lam[idx[1]]),
                              "specbias": float(ref[idx]), "peer": float(v[idx])}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
