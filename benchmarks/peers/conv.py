#!/usr/bin/python3
"""Peer for benchmark (g): full-width circular convolution, generated variances (7.7) on 28x28 images, NumPy/SciPy.

Spectrum (7.3) s_k = f_k^* Sigma f_k with numpy.fft, as one would write it in NumPy: view Sigma (N x N) as a
4-d array (H, W, H, W), forward 2-d FFT over the column-pixel axes, inverse 2-d FFT over the row-pixel axes, and
read the diagonal:  s_k = ifft2_m( fft2_n(Sigma)[m, k] )[k, k].  Then the same closed form as the C++ side,
(4.9) with lambda -> s_k, eta -> N eta, on the n_tau x N grid with scipy.special.exp1. Inputs come from the C++
dump (covariance.npy, tau.npy); the max relative differences to its s.npy and variance.npy are reported.
Prints JSON.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy
import scipy.special as sp


def fourier_mode_variances(S, H, W):
    N = H * W
    A = np.fft.fft2(S.reshape(H, W, H, W), axes=(2, 3))          # over the column pixel n -> k
    B = np.fft.ifft2(A, axes=(0, 1))                             # (1/N) sum_m e^{+2 pi i m.k'/N} A[m, k]
    return np.real(np.einsum("ijij->ij", B)).reshape(N)         # k' = k


def closed_form_grid(lam, Q, eta, tau, sigma_min=0.002, sigma_max=80.0):
    s02, sT2 = sigma_min**2, sigma_max**2
    c = (2.0 * eta * tau)[:, None]
    lam = lam[None, :]
    two_dH = -np.log((lam + sT2) / (lam + s02)) - (sp.exp1(c * (sT2 + lam)) - sp.exp1(c * (s02 + lam)))
    two_dH -= (Q - 1.0) * np.exp(-c * lam) * (sp.exp1(c * sT2) - sp.exp1(c * s02))
    return sT2 * np.exp(two_dH)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--compare", required=True, help="directory with the C++ dump")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--Q", type=float, default=0.1)
    ap.add_argument("--eta", type=float, default=1e-3)
    a = ap.parse_args()
    S = np.load(os.path.join(a.compare, "covariance.npy"))
    tau = np.load(os.path.join(a.compare, "tau.npy"))
    H = W = int(round(np.sqrt(S.shape[0])))
    N = H * W
    t_spec, t_all = [], []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        s = fourier_mode_variances(S, H, W)
        t1 = time.perf_counter()
        v = closed_form_grid(s, a.Q, N * a.eta, tau)
        t2 = time.perf_counter()
        t_spec.append(t1 - t0)
        t_all.append(t2 - t0)
    s_ref = np.load(os.path.join(a.compare, "s.npy"))
    v_ref = np.load(os.path.join(a.compare, "variance.npy"))
    out = {
        "peer": "numpy.fft (4-d view, fft2 + ifft2, diagonal) + scipy.special.exp1 closed form (7.7)",
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "problem": {"shape": [H, W], "N": N, "n_tau": int(tau.size)},
        "time": {"best_s": min(t_all), "all_s": t_all, "reps": a.reps},
        "spectrum_time": {"best_s": min(t_spec), "all_s": t_spec},
        "max_rel_diff_spectrum_vs_specbias": float(np.max(np.abs(s - s_ref) / np.abs(s_ref))),
        "max_rel_diff_trajectories_vs_specbias": float(np.max(np.abs(v - v_ref) / np.abs(v_ref))),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
