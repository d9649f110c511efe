#!/usr/bin/env python3
"""Fig. 21 plot and checks from a `specbias simulate` run directory of configs/figures/fig21_noncentred.toml.

Reads weight_bias.csv; plots w(τ), b(τ) per σ (closed form (3.8) solid, dopri5 dots) and the phase portraits
w vs b with the fixed point (2.4); asserts closed form = numeric to 1e-9 and the last τ at the fixed point where
the slow rate 2ηκ_− (3.9) has had time to act. Exit status 1 if a check fails."""
import csv
import math
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

run = sys.argv[1]
rows = defaultdict(list)
with open(f"{run}/weight_bias.csv") as f:
    for r in csv.DictReader(f):
        rows[float(r["sigma"])].append({k: float(v) for k, v in r.items()})

eta = 1.0
ok = True
fig, axes = plt.subplots(2, len(rows), figsize=(4.2 * len(rows), 7.5))
for col, (sigma, rs) in enumerate(sorted(rows.items())):
    lam, m = rs[0]["lambda"], rs[0]["data_mean"]
    w_star, b_star = lam / (lam + sigma**2), sigma**2 * m / (lam + sigma**2)
    T = 1 + lam + sigma**2 + m**2
    kp = 0.5 * (T + math.sqrt(T * T - 4 * (lam + sigma**2)))
    km = (lam + sigma**2) / kp
    tau = [r["tau"] for r in rs]
    wc, wn = [r["weight_closed_form"] for r in rs], [r["weight_numeric"] for r in rs]
    bc, bn = [r["bias_closed_form"] for r in rs], [r["bias_numeric"] for r in rs]
    err = max(max(abs(a - b) for a, b in zip(wc, wn)), max(abs(a - b) for a, b in zip(bc, bn)))
    last = rs[-1]
    decay = math.exp(-2 * eta * last["tau"] * km)
    end_err = max(abs(last["weight_closed_form"] - w_star), abs(last["bias_closed_form"] - b_star))
    # Non-monotonic transients: extremum of w before it settles (w starts at Q, ends at w*).
    w_min, w_max = min(wc), max(wc)
    print(f"sigma={sigma:g}: kappa+={kp:.6g} kappa-={km:.6g}  closed vs dopri5 max|diff|={err:.2e}  "
          f"w(end)={last['weight_closed_form']:.12g} (w*={w_star:.12g})  b(end)={last['bias_closed_form']:.12g} "
          f"(b*={b_star:.12g})  |end - fixed point|={end_err:.2e} (bound e^(-2 eta tau kappa-)={decay:.1e})  "
          f"w range [{w_min:.4g}, {w_max:.4g}]")
    ok = ok and err < 1e-9 and end_err <= max(10 * decay, 1e-12)
    pos = [t for t in tau if t > 0]
    ax = axes[0][col]
    ax.semilogx(pos, wc[len(tau) - len(pos):], "C0-", label="w (3.8)")
    ax.semilogx(pos, bc[len(tau) - len(pos):], "C1-", label="b (3.8)")
    ax.semilogx(pos[::6], wn[len(tau) - len(pos):][::6], "C0.", label="w dopri5")
    ax.semilogx(pos[::6], bn[len(tau) - len(pos):][::6], "C1.", label="b dopri5")
    ax.axhline(w_star, color="C0", ls=":", lw=0.8)
    ax.axhline(b_star, color="C1", ls=":", lw=0.8)
    ax.set_title(f"sigma = {sigma:g}  (lambda = {lam:g}, m = {m:g})")
    ax.set_xlabel("training time tau")
    ax.legend(fontsize=7)
    ax = axes[1][col]
    ax.plot(wc, bc, "C2-", label="trajectory (3.8)")
    ax.plot(wc[0], bc[0], "ks", label="start")
    ax.plot(w_star, b_star, "r*", ms=12, label="fixed point (2.4)")
    ax.set_xlabel("w")
    ax.set_ylabel("b")
    ax.set_title(f"phase portrait, sigma = {sigma:g}")
    ax.legend(fontsize=7)
fig.suptitle("Fig. 21: one-layer weight/bias learning on non-centred data (THEORY 3.3)")
fig.tight_layout()
import os

os.makedirs(f"{run}/figures", exist_ok=True)
fig.savefig(f"{run}/figures/fig21_noncentred.png", dpi=110)
print(f"wrote {run}/figures/fig21_noncentred.png; checks {'passed' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
