#!/usr/bin/env python3
"""Independent NumPy/SciPy recomputation of `specbias conv-compare` on MNIST (docs/conv_patch.md).

Everything is rebuilt from the IDX file without any specbias code: the covariance and its PCs (dense model, one-layer
closed form (4.9) with scipy.special.exp1), the Fourier variances s_k by numpy.fft.fft2 ((7.3), full-width model (7.7)),
the patch covariance T from the inverse FFT of s (8.2) and the closed form (8.9) for local K×K filters; emergence
(11.1, geometric, target = each model's asymptote) by a log grid plus Brent's method. Prints, per model, the spread
and the rising-branch exponent next to the values in the run's summary.json.

usage: scripts/conv_compare_peer.py MNIST_IDX_GZ RUN_DIR/summary.json [--kernels 3,5,7]
Slow (pure Python loop over modes): about 4 minutes for K = 3, 5, 7.
"""
import argparse, gzip, json
import numpy as np
from scipy.optimize import brentq
from scipy.special import exp1

ap = argparse.ArgumentParser()
ap.add_argument("idx")
ap.add_argument("summary")
ap.add_argument("--kernels", default="3,5,7")
a = ap.parse_args()
summary = json.load(open(a.summary))
Q, eta = summary["Q"], summary["eta"]
s0, sT = 0.002**2, 80.0**2
tau_grid = np.logspace(-7, 7, 14 * 40 + 1)  # the window of configs/mnist_conv_compare.toml, 40 points per decade

with gzip.open(a.idx) as f:
    raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
X = raw.reshape(len(raw), -1) / 127.5 - 1.0
X -= X.mean(0)
n, N, H, W = len(X), 784, 28, 28
S = X.T @ X / (n - 1)
lam = np.clip(np.linalg.eigvalsh(S)[::-1], 0, None)
s = (np.abs(np.fft.fft2(X.reshape(-1, H, W)).reshape(n, -1)) ** 2).mean(0) / N * n / (n - 1)
v0 = sT ** Q * s0 ** (1 - Q)  # (4.7): σ_T^{2Q} σ_0^{2(1−Q)}


def one_layer(l, c):  # (4.9), c > 0
    return sT * np.exp(-np.log((l + sT) / (l + s0)) - (exp1(c * (sT + l)) - exp1(c * (s0 + l)))
                       - (Q - 1) * np.exp(-c * l) * (exp1(c * sT) - exp1(c * s0)))


def emergence(v, target, clocks):
    th = np.sqrt(v0 * target)
    vals = np.array([v(c) for c in clocks])
    hit = np.nonzero(vals >= th if target > v0 else vals <= th)[0]
    if len(hit) == 0:
        return np.nan
    i = hit[0]
    if i == 0:
        return clocks[0]
    return np.exp(brentq(lambda u: v(np.exp(u)) - th, np.log(clocks[i - 1]), np.log(clocks[i]), xtol=1e-12))


def report(name, var, targets, clocks):
    use = np.isfinite(clocks) & (var > 1e-12 * var.max()) & ~((v0 / targets >= 0.5) & (v0 / targets <= 2))
    p10, p90 = np.percentile(clocks[use], [10, 90])
    rising = use & (targets > v0)
    alpha = -np.polyfit(np.log(var[rising]), np.log(clocks[rising]), 1)[0]
    ref = next(m for m in summary["models"] if m["name"] == name)
    print(f"{name:15s} n {use.sum():4d} ({ref['spread']['n']:4d})  p90/p10 {p90 / p10:9.4f} "
          f"({ref['spread']['ratio_p90_p10']:9.4f})  alpha {alpha:.4f} ({ref['fits']['rising']['alpha']:.4f})", flush=True)


print("model            peer (specbias)")
for name, var, fac in (("dense", lam, 2 * eta), ("conv_full", s, 2 * N * eta)):
    targets = sT * (var + s0) / (var + sT)  # (4.8)
    clocks = np.array([emergence(lambda c: one_layer(var[k], c), targets[k], fac * tau_grid)
                       if var[k] > 1e-12 * var.max() else np.nan for k in range(len(var))])
    report(name, var, targets, clocks)

t = np.real(np.fft.ifft2(s.reshape(H, W))).reshape(-1)  # (7.6) applied to s: the shift-averaged t_ℓ (8.2)
ky, kx = np.divmod(np.arange(N), W)
for K in map(int, a.kernels.split(",")):
    r = K // 2
    offs = [(ay, ax) for ay in range(-r, r + 1) for ax in range(-r, r + 1)]
    T = np.array([[t[((q[0] - p[0]) % H) * W + (q[1] - p[1]) % W] for q in offs] for p in offs])
    rho, R = np.linalg.eigh(T)
    rho = np.clip(rho, 0, None)
    C = np.array([np.cos(2 * np.pi * (ay * ky / H + ax * kx / W)) for ay, ax in offs]).T
    centre = len(offs) // 2
    A = (C @ R) * R[centre][None, :]          # Re α_kj
    B = (C @ R) * (Q * R[centre])[None, :]    # Re β_kj for w(0) = Q e_0

    def patch_v(k, c):  # (8.9)
        pa = np.log((rho + sT) / (rho + s0)) + exp1(c * (sT + rho)) - exp1(c * (s0 + rho))
        pg = np.exp(-c * rho) * (exp1(c * sT) - exp1(c * s0))
        return sT * np.exp(-A[k] @ pa - (B[k] - A[k]) @ pg)

    targets = sT * np.exp(A @ np.log((rho + s0) / (rho + sT)))  # §8.3, τ → ∞
    clocks = np.array([emergence(lambda c: patch_v(k, c), targets[k], 2 * N * eta * tau_grid) for k in range(N)])
    report(f"conv_patch_K{K}", s, targets, clocks)
