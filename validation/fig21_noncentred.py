#!/usr/bin/env python3
"""Fig. 21 plot and checks from a `specbias simulate` run directory of configs/figures/fig21_noncentred.toml.

Reads weight_bias.csv; plots (gnuplot, as the other figures) w(τ), b(τ) per σ (closed form (3.8) lines, dopri5
points) and the phase portraits w vs b with the fixed point (2.4); asserts closed form = numeric to 1e-9 and the
last τ at the fixed point within 10·e^{−2ητκ_−} (3.9). Standard library only. Exit status 1 if a check fails."""
import csv
import math
import sys
from collections import defaultdict

import os
import subprocess

run = sys.argv[1]
rows = defaultdict(list)
with open(f"{run}/weight_bias.csv") as f:
    for r in csv.DictReader(f):
        rows[float(r["sigma"])].append({k: float(v) for k, v in r.items()})

eta = 1.0
ok = True
os.makedirs(f"{run}/figures", exist_ok=True)
panels_top, panels_bottom = [], []
for col, (sigma, rs) in enumerate(sorted(rows.items())):
    lam, m = rs[0]["lambda"], rs[0]["data_mean"]
    w_star, b_star = lam / (lam + sigma**2), sigma**2 * m / (lam + sigma**2)
    T = 1 + lam + sigma**2 + m**2
    kp = 0.5 * (T + math.sqrt(T * T - 4 * (lam + sigma**2)))
    km = (lam + sigma**2) / kp
    wc, wn = [r["weight_closed_form"] for r in rs], [r["weight_numeric"] for r in rs]
    bc, bn = [r["bias_closed_form"] for r in rs], [r["bias_numeric"] for r in rs]
    err = max(max(abs(a - b) for a, b in zip(wc, wn)), max(abs(a - b) for a, b in zip(bc, bn)))
    last = rs[-1]
    decay = math.exp(-2 * eta * last["tau"] * km)
    end_err = max(abs(last["weight_closed_form"] - w_star), abs(last["bias_closed_form"] - b_star))
    print(f"sigma={sigma:g}: kappa+={kp:.6g} kappa-={km:.6g}  closed vs dopri5 max|diff|={err:.2e}  "
          f"w(end)={last['weight_closed_form']:.12g} (w*={w_star:.12g})  b(end)={last['bias_closed_form']:.12g} "
          f"(b*={b_star:.12g})  |end - fixed point|={end_err:.2e} (bound e^(-2 eta tau kappa-)={decay:.1e})  "
          f"w range [{min(wc):.4g}, {max(wc):.4g}], b range [{min(bc):.4g}, {max(bc):.4g}]")
    ok = ok and err < 1e-9 and end_err <= max(10 * decay, 1e-12)
    dat = f"{run}/figures/fig21_sigma{sigma:g}.dat"
    with open(dat, "w") as f:
        f.write("# tau w_closed w_numeric b_closed b_numeric\n")
        for r in rs:
            f.write(f"{r['tau']:.17g} {r['weight_closed_form']:.17g} {r['weight_numeric']:.17g} "
                    f"{r['bias_closed_form']:.17g} {r['bias_numeric']:.17g}\n")
    title = f"sigma = {sigma:g} (lambda = {lam:g}, m = {m:g})"
    panels_top.append(f"""set title "{title}"; set logscale x; set xlabel "training time tau"; set ylabel ""
set arrow 1 from graph 0, first {w_star} to graph 1, first {w_star} nohead dt 2 lc rgb "#1f77b4"
set arrow 2 from graph 0, first {b_star} to graph 1, first {b_star} nohead dt 2 lc rgb "#ff7f0e"
plot "{dat}" u 1:2 w l lw 2 lc rgb "#1f77b4" t "w (3.8)", "" u 1:4 w l lw 2 lc rgb "#ff7f0e" t "b (3.8)", \\
     "" every 7 u 1:3 w p pt 7 ps 0.5 lc rgb "#1f77b4" t "w dopri5", "" every 7 u 1:5 w p pt 7 ps 0.5 lc rgb "#ff7f0e" t "b dopri5"
unset arrow 1; unset arrow 2""")
    panels_bottom.append(f"""set title "phase portrait, sigma = {sigma:g}"; unset logscale x; set xlabel "w"; set ylabel "b"
plot "{dat}" u 2:4 w l lw 2 lc rgb "#2ca02c" t "trajectory (3.8)", "{dat}" every ::0::0 u 2:4 w p pt 5 ps 1.2 lc rgb "black" t "start", \\
     "-" u 1:2 w p pt 3 ps 2.5 lc rgb "red" t "fixed point (2.4)"
{w_star} {b_star}
e""")
png = f"{run}/figures/fig21_noncentred.png"
script = f"""set terminal pngcairo size 1500,900 font ",10"
set output "{png}"
set multiplot layout 2,{len(rows)} title "Fig. 21: one-layer weight/bias learning on non-centred data (THEORY 3.3)"
set key top left font ",8"
""" + "\n".join(panels_top + panels_bottom) + "\nunset multiplot\n"
subprocess.run(["gnuplot"], input=script, text=True, check=True)
print(f"wrote {png}; checks {'passed' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
