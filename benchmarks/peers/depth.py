#!/usr/bin/python3
"""Peer for benchmark (d1): depth-L per-mode trajectories on the grid of bench_depth --dump DIR.

Every (sigma node i, mode k) pair is one scalar ODE of THEORY (6.5),
    dw/dtau = -2 eta kappa (lam_k + sigma_i^2) |w|^beta (w - w*),   w* = lam_k/(lam_k + sigma_i^2),
    beta = 2 - 2/L, kappa = L (untied), w(0) = Q,
integrated for all 64 x 256 = 16,384 pairs at once with scipy.integrate.solve_ivp, outputs at the same 200 tau.
Methods (--methods, comma separated):
  bdf    solve_ivp(method="BDF") on the stacked vector, analytic Jacobian as a scipy.sparse diagonal (splu per
         Newton matrix): the natural SciPy way to integrate many stiff scalar ODEs;
  lsoda  solve_ivp(method="LSODA") with lband = uband = 0 (diagonal banded Jacobian, ODEPACK's LSODA).
Accuracy: max |w - w_ref| against the C++ implicit-solution weights (6.6) dumped by bench_depth, and max relative
error of the generated variance lam~ = sT^2 exp(2 sum_i g_i (w_i - 1)) (4.4) on the same Gauss-Legendre weights.
Prints JSON.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy
import scipy.sparse as sps
from scipy.integrate import solve_ivp

SIGMA_MAX = 80.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="directory written by bench_depth --dump")
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--q", type=float, default=0.1)
    ap.add_argument("--eta", type=float, default=1.0)
    ap.add_argument("--rtol", type=float, default=1e-10)
    ap.add_argument("--atol", type=float, default=1e-14)
    ap.add_argument("--methods", default="bdf,lsoda")
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()

    tau = np.load(os.path.join(a.dump, "tau.npy"))
    lam = np.load(os.path.join(a.dump, "lambda.npy"))
    s = np.load(os.path.join(a.dump, "s_nodes.npy"))
    g = np.load(os.path.join(a.dump, "gl_weights.npy"))
    w_ref = np.load(os.path.join(a.dump, "weights_solution.npy"))  # (nodes*ntau, d), row = i*ntau + j
    v_ref = np.load(os.path.join(a.dump, "variance_solution.npy"))  # (ntau, d)
    n_nodes, ntau, d = s.size, tau.size, lam.size
    L = a.depth
    beta, kappa = 2.0 - 2.0 / L, float(L)
    sig2 = np.exp(2.0 * s)[:, None]                       # (nodes, 1)
    K = (2.0 * a.eta * kappa * (lam[None, :] + sig2)).ravel()   # (nodes*d,)
    wstar = (lam[None, :] / (lam[None, :] + sig2)).ravel()
    y0 = np.full(n_nodes * d, a.q)

    def f(_t, y):
        return -K * np.abs(y) ** beta * (y - wstar)

    def jac_diag(y):
        ay = np.abs(y)
        return -K * (beta * ay ** (beta - 1.0) * np.sign(y) * (y - wstar) + ay ** beta)

    runs = []
    for method in a.methods.split(","):
        if method == "bdf":
            kwargs = dict(method="BDF", jac=lambda _t, y: sps.diags(jac_diag(y), format="csc"))
        elif method == "lsoda":
            kwargs = dict(method="LSODA", jac=lambda _t, y: jac_diag(y)[None, :], lband=0, uband=0)
        else:
            raise SystemExit(f"unknown method {method}")
        times, sol = [], None
        for _ in range(a.reps):
            t0 = time.perf_counter()
            sol = solve_ivp(f, (0.0, float(tau[-1])), y0, t_eval=tau, rtol=a.rtol, atol=a.atol, **kwargs)
            times.append(time.perf_counter() - t0)
        if not sol.success:
            raise SystemExit(f"{method}: {sol.message}")
        w = sol.y.reshape(n_nodes, d, ntau)                # (node, mode, tau)
        w_cmp = np.transpose(w, (0, 2, 1)).reshape(n_nodes * ntau, d)
        integral = np.einsum("i,ikj->jk", g, w - 1.0)      # (ntau, d)
        var = SIGMA_MAX**2 * np.exp(2.0 * integral)
        runs.append({
            "method": kwargs["method"], "rtol": a.rtol, "atol": a.atol,
            "time": {"best_s": min(times), "all_s": times, "reps": a.reps},
            "nfev": int(sol.nfev), "njev": int(sol.njev), "nlu": int(sol.nlu),
            "max_abs_weight_vs_solution": float(np.max(np.abs(w_cmp - w_ref))),
            "max_rel_variance_vs_solution": float(np.max(np.abs(var - v_ref) / v_ref)),
        })
    out = {"peer": "scipy.integrate.solve_ivp on the stacked 16,384 scalar ODEs (6.5)",
           "numpy": np.__version__, "scipy": scipy.__version__,
           "problem": {"d": int(d), "sigma_nodes": int(n_nodes), "n_tau": int(ntau), "depth": L, "Q": a.q},
           "runs": runs}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
