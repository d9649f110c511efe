#!/usr/bin/python3
"""Peer for benchmark (f): the non-centred one-layer coupled flow (3.8) with SciPy, on the problem the C++ driver
dumped (bench_noncentred --dump DIR).

Same computation in the data eigenbasis: Omega(tau) = Omega(0) expm(-2 eta tau Mt), Mt = diag(lambda + sigma^2, 0)
+ mt mt^T, mt = (m, 1) (THEORY (3.8)); state = optimum + Omega. Timed: scipy.linalg.expm per tau (the generic
route, Pade + scaling-and-squaring of a dense (d+1)x(d+1) matrix) plus the product, and -- for d <= 256, tau <= 1
as in the C++ driver -- solve_ivp (RK45, the Dormand-Prince pair, rtol 1e-10) on the vectorised flow
dOmega/dtau = -2 eta Omega Mt. Accuracy: max |difference| to the C++ closed-form states at the dumped tau.
Prints JSON."""
import argparse
import json
import os
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.linalg import expm


def best_of(reps, f):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times), times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True, help="C++ dump directory (holding d256/, d1024/ ...)")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--eta", type=float, default=1.0)
    ap.add_argument("--ivp-max-d", type=int, default=256)
    a = ap.parse_args()
    out = {"peer": "scipy", "numpy": np.__version__, "scipy": scipy.__version__, "results": []}
    dirs = sorted((d for d in os.listdir(a.dump) if d.startswith("d")), key=lambda s: int(s[1:]))
    for sub in dirs:
        path = os.path.join(a.dump, sub)
        lam = np.load(os.path.join(path, "lambda.npy"))
        m = np.load(os.path.join(path, "m.npy"))
        state0 = np.load(os.path.join(path, "state0.npy"))
        taus = np.load(os.path.join(path, "tau.npy"))
        d = lam.size
        s2 = a.sigma**2
        mt = np.append(m, 1.0)
        Mt = np.outer(mt, mt)
        Mt[np.arange(d), np.arange(d)] += lam + s2
        opt = np.zeros((d, d + 1))
        opt[np.arange(d), np.arange(d)] = lam / (lam + s2)
        opt[:, d] = s2 / (lam + s2) * m
        omega0 = state0 - opt
        states = {}

        def run_expm():
            for j, tau in enumerate(taus):
                states[j] = opt + omega0 @ expm(-2 * a.eta * tau * Mt)

        reps = a.reps if d <= 256 else 1
        best, times = best_of(reps, run_expm)
        r = {"d": int(d), "expm": {"best_s": best, "all_s": times, "per_tau_s": best / len(taus)}}
        err = 0.0
        for j in range(len(taus)):
            f = os.path.join(path, f"closed_tau{j}.npy")
            if os.path.exists(f):
                err = max(err, float(np.max(np.abs(np.load(f) - states[j]))))
        r["expm"]["max_abs_diff_vs_cpp_closed"] = err
        if d <= a.ivp_max_d:
            short = taus[taus <= 1.0]
            M2 = 2 * a.eta * Mt

            def rhs(_t, y):
                return -(y.reshape(d, d + 1) @ M2).ravel()

            sol_box = {}

            def run_ivp():
                sol_box["sol"] = solve_ivp(rhs, (0.0, short[-1]), omega0.ravel(), method="RK45", t_eval=short,
                                           rtol=1e-10, atol=1e-12)

            best_ivp, times_ivp = best_of(1, run_ivp)
            sol = sol_box["sol"]
            err_ivp = 0.0
            for j in range(len(short)):
                err_ivp = max(err_ivp, float(np.max(np.abs(sol.y[:, j].reshape(d, d + 1) + opt - states[j]))))
            r["solve_ivp_rk45"] = {"best_s": best_ivp, "per_tau_s": best_ivp / len(short), "taus": short.tolist(),
                                   "nfev": int(sol.nfev), "max_abs_diff_vs_expm": err_ivp}
        out["results"].append(r)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
