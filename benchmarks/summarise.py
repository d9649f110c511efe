#!/usr/bin/python3
"""Prints Markdown summary tables from benchmarks/results/<name>.json (written by run_all.sh).

    summarise.py benchmarks/results/closed_form.json benchmarks/results/modewise.json ...
(a path without .json is accepted). Ratios are peer time / specbias time, both best of their repetitions
(train: also the ratio of the medians).
"""
import json
import os
import sys


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int,)) and not isinstance(x, bool):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.2e}"
    return f"{x:.{digits}g}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows]
    return "\n".join(out)


def closed_form(r):
    s, p = r["specbias"], r["peer"]
    peer_t = p["time"]["best_s"]
    rows = []
    for v in s["runs"]:
        ratio = peer_t / v["best_s"]
        rows.append([f"`{v['path']}`", v["threads"], v["best_s"], v["ns_per_entry"], peer_t, ratio,
                     v["max_abs_diff_vs_closed_form_trajectory"], ratio >= 10])
    txt = table(["specbias", "threads", "specbias s", "ns per entry", "peer s", "ratio",
                 "max abs diff vs closed_form_trajectory", "≥ 10×"], rows)
    txt += (f"\n\nGrid {s['problem']['d']} × {s['problem']['n_tau']}; peer vs specbias library max rel diff "
            f"{fmt(p.get('max_rel_diff_vs_specbias'))}; library vs adaptive quadrature "
            f"({s['check_vs_adaptive_quadrature']['samples']} samples) {fmt(s['check_vs_adaptive_quadrature']['max_rel_diff'])}.")
    return txt


def modewise(r):
    s, p = r["specbias"], r["peer"]
    peer_t = p["time_full_grid_s"]
    rows = []
    for v in s["runs"]:
        label = v["path"] + (f" (rel_tol {v['rel_tol']:g})" if "rel_tol" in v else "")
        if v.get("sigma_nodes"):
            label += (f" ({v['panels']}×{v['points_per_panel']} = {v['sigma_nodes']} σ nodes"
                      f"{', library default' if v.get('default_grid') else ''})")
        ratio = peer_t / v["best_s"]
        err = v["max_rel_err_vs_closed_form"]
        rows.append([label, v["threads"], v["best_s"], peer_t, ratio, err, err <= 1e-8, ratio >= 50])
    txt = table(["specbias path", "threads", "specbias s", "peer s", "ratio", "max rel err vs (4.9)", "≤ 1e-8",
                 "≥ 50×"], rows)
    txt += (f"\n\nPeer: {p['calls_timed']} of {p['calls_full_grid']} quad calls timed"
            f"{' (extrapolated)' if p['extrapolated'] else ''}, {fmt(p['per_call_us'])} µs per call, "
            f"{p['integrand_evaluations']} integrand evaluations, max rel err vs (4.9) "
            f"{fmt(p['max_rel_err_vs_scipy_closed_form'])}.")
    b = s.get("quadrature_breakdown_rtol1e-10")
    if b:
        txt += (f" specbias quadrature breakdown (1 thread): integrand alone {fmt(b['integrand_only_s'])} s "
                f"({fmt(b['ns_per_integrand_evaluation'])} ns per evaluation), GSL workspace alloc/free "
                f"{fmt(b['workspace_alloc_free_s'])} s.")
    return txt


def full_matrix(r):
    s, p = r["specbias"], r["peer"]
    rows = []
    best_peak = {}
    for v in s["runs"]:
        best_peak[v["d"]] = max(best_peak.get(v["d"], 0), v["eigen_gemm_peak_gflops"])
    for v in s["runs"]:
        ins = v["instrumented"]
        rows.append([v["d"], v["threads"], v["outer"]["total_best_s"], v["inner"]["best_s"],
                     v["inner"]["rhs_evaluations"], v["inner"]["gflops_whole_integration"],
                     ins["gflops_hot_loop_rhs"], ins["gflops_gemm_only"], v["eigen_gemm_peak_gflops"],
                     v["hot_loop_fraction_of_peak"], ins["gflops_hot_loop_rhs"] / best_peak[v["d"]],
                     v["hot_loop_fraction_of_peak"] >= 0.5, v["nested_full_matrix"]["best_s"]])
    txt = table(["d", "threads", "outer s", "inner s", "RHS evals", "inner GF/s", "hot loop GF/s",
                 "GEMM-in-RHS GF/s", "GEMM peak GF/s", "hot/peak", "hot/best peak", "≥ 50%",
                 "nested_full_matrix s"], rows)
    rows = []
    for v in s["runs"]:
        ins, ie = v["instrumented"], v["interpolation_experiment"]
        tot = ins["total_s"]
        rows.append([v["d"], v["threads"], ins["denoiser_interpolation_s"] / tot, ins["gemm_and_bias_s"] / tot,
                     ins["integrator_overhead_s"] / tot, v["outer"]["construct_best_s"], v["outer"]["advance_best_s"],
                     ie["library_loop_us_per_call"], ie["panel_gemv_us_per_call"], ie["speedup"]])
    txt += "\n\n" + table(["d", "threads", "interp share", "GEMM share", "integrator share", "outer construct s",
                           "outer advance s", "interp µs (library)", "interp µs (panel GEMV)", "speed-up"], rows)
    if p:
        d64 = [v for v in s["runs"] if v["d"] == p["d"]]
        best_inner = min(v["inner"]["best_s"] for v in d64) if d64 else None
        txt += (f"\n\nSciPy peer (d = {p['d']}): solve_ivp RK45 inner {fmt(p['inner_best_s'])} s, "
                f"{p['rhs_evaluations']} RHS evaluations, {p['steps']} steps; specbias inner (best over threads) "
                f"{fmt(best_inner)} s → ratio {fmt(p['inner_best_s'] / best_inner if best_inner else None)}; "
                f"eigenbasis variance max rel diff {fmt(p['max_rel_diff_eigenbasis_variance_vs_specbias'])}, "
                f"A max abs diff / max|A| {fmt(p['max_abs_diff_A_vs_specbias_over_max_A'])}.")
    return txt


def train(r):
    s, p = r["specbias"], r["peer"]
    sides = [("specbias", s["problems"]), ("PyTorch, OMP_WAIT_POLICY=passive", p["torch_passive"]["problems"]),
             ("PyTorch as installed", p["torch_default"]["problems"])]
    mib = lambda kib: kib / 1024
    rows = []
    for problem in ("gaussian", "mnist"):
        for label, d in sides:
            if problem not in d:
                continue
            t, sm, pr = d[problem]["train"], d[problem]["sample"], d[problem]["problem"]
            name = (f"{problem}: d {pr['dim']}, {pr['nlayers']}/{pr['hidden']}/{pr['embedding']}, batch {pr['batch']}, "
                    f"chunk {pr['chunk']}")
            rows.append([name, label, t["steps_per_s_best"], t["steps_per_s_median"], t["cpu_median_s"] * 1e3,
                         mib(t["max_rss_kib"]), sm["nfe_per_s_best"], sm["nfe_per_s_median"], sm["sample_nfe_per_s_best"],
                         mib(sm["max_rss_kib"])])
    txt = table(["problem", "implementation", "steps/s best", "steps/s median", "CPU ms/step (median)",
                 "max RSS train MiB", "NFE/s best", "NFE/s median", "sample-NFE/s best", "max RSS sample MiB"], rows)
    rows = []
    for problem in ("gaussian", "mnist"):
        c = s["problems"][problem]
        for variant, label in (("torch_passive", "passive"), ("torch_default", "as installed")):
            q = p[variant]["problems"][problem]
            for mode, key in (("train", "steps_per_s"), ("sample", "nfe_per_s")):
                best = c[mode][key + "_best"] / q[mode][key + "_best"]
                med = c[mode][key + "_median"] / q[mode][key + "_median"]
                cpu = q[mode]["cpu_median_s"] / c[mode]["cpu_median_s"]
                rows.append([problem, mode, label, best, med, cpu, min(best, med) >= 1.5])
    txt += "\n\n" + table(["problem", "measure", "vs PyTorch", "ratio (best)", "ratio (median)", "CPU-time ratio",
                            "≥ 1.5× (best and median)"], rows)
    b = p["blas"]
    loads = [float(rd["load_before"].split()[0]) for pr in s["problems"].values() for m in ("train", "sample")
             for rd in pr[m]["rounds"]]
    txt += (f"\n\nPyTorch {p['torch']} ({p['threads']} threads, {b.get('torch_parallel_backend')}); BLAS: "
            f"{b.get('openblas_config')} (core {b.get('openblas_core')}, {b.get('openblas_threads')} threads), "
            f"build {b.get('torch_build_blas')}; mapped: {', '.join(os.path.basename(x) for x in b['mapped_libraries'])}. "
            f"specbias: {s['openmp_threads']} OpenMP threads, {s['problems']['gaussian']['problem']['shards']} batch shards. "
            f"Sampler NFE = {s['problems']['gaussian']['sample']['nfe']} denoiser calls on the whole chunk. "
            f"1-minute load average before the runs: {fmt(min(loads))}–{fmt(max(loads))}.")
    return txt


def depth(r):
    s, peers = r["specbias"], r["peer"]
    if "runs" in peers:  # a single peer file
        peers = {"peer": peers}
    txt = ""
    m = s.get("modewise")
    if m:
        pr = m["problem"]
        peer_runs = [run for p in peers.values() for run in p["runs"]]
        lsoda = [run for run in peer_runs if run["method"] == "LSODA" and run["rtol"] == 1e-10]
        ref_t = lsoda[0]["time"]["best_s"] if lsoda else None
        rows = []
        for v in m["runs"]:
            ratio = ref_t / v["best_s"] if ref_t else None
            rows.append([f"`{v['path']}`", f"{v['outer_rtol']:g}", v["threads"], v["best_s"], v["outer_steps"],
                         v["outer_rhs_evaluations"], v["max_abs_weight_vs_solution_spot_nodes"],
                         v["max_rel_variance_vs_solution"], ratio])
        for v in peer_runs:
            rows.append([f"SciPy `solve_ivp` {v['method']}", f"{v['rtol']:g}", 1, v["time"]["best_s"], "-",
                         f"{v['nfev']} (×{pr['d'] * pr['sigma_nodes']})", v["max_abs_weight_vs_solution"],
                         v["max_rel_variance_vs_solution"], ref_t / v["time"]["best_s"] if ref_t else None])
        txt += (f"(d1) depth-{pr['depth']} per-mode trajectories, {pr['d']} modes × {pr['sigma_nodes']} σ nodes × "
                f"{pr['n_tau']} τ; reference: implicit solution (6.6) at every node "
                f"({fmt(m['solution_path']['best_s'])} s, {m['solution_path']['threads']} threads)\n\n")
        txt += table(["path", "rtol", "threads", "s", "steps", "RHS evaluations", "max abs weight err",
                      "max rel λ̃ err", "LSODA(1e-10) s / s"], rows)
    f = s.get("full_matrix")
    if f:
        pr = f["problem"]
        rows = [[v["threads"], v["best_s"], v["seconds_per_unit_tau"], v["steps"], v["rhs_evaluations"], v["gflops"],
                 v["eigen_gemm_peak_gflops_hxd_dxd"], v["gflops"] / v["eigen_gemm_peak_gflops_hxd_dxd"],
                 v["max_abs_diag_vs_solution_6_4"], v["conserved_drift_6_1"]] for v in f["runs"]]
        txt += (f"\n\n(d2) full-matrix two-layer flow, d = {pr['d']}, h = {pr['h']} ({pr['parameters']} parameters), "
                f"σ = {pr['sigma']:g}, τ ∈ [0, {pr['tau_end']:g}], dopri5 rtol {pr['rtol']:g}; "
                f"{fmt(pr['flops_per_rhs'])} flop per RHS\n\n")
        txt += table(["threads", "s", "s per unit τ", "steps", "RHS evals", "GFLOP/s", "GEMM peak GFLOP/s",
                      "fraction of peak", "max abs err vs (6.4)", "drift of (6.1)"], rows)
    return txt


def conv(r):
    s, p = r["specbias"], r["peer"]
    fft28 = next(v for v in s["runs"] if v["path"] == "fft" and v["N"] == 784)
    rows = []
    for v in s["runs"]:
        shape = "x".join(str(n) for n in v["shape"])
        vs_fft = fft28["best_s"] if v["N"] == 784 else None
        rows.append([f"`{v['path']}`", shape, v["N"], v["best_s"],
                     (v["best_s"] / vs_fft) if vs_fft else None,
                     v.get("max_rel_diff_spectrum_vs_fft"), v.get("max_rel_diff_trajectories_vs_fft")])
    rows.append(["NumPy peer (numpy.fft + exp1)", "x".join(str(n) for n in p["problem"]["shape"]), p["problem"]["N"],
                 p["time"]["best_s"], p["time"]["best_s"] / fft28["best_s"], p["max_rel_diff_spectrum_vs_specbias"],
                 p["max_rel_diff_trajectories_vs_specbias"]])
    txt = table(["path", "shape", "N", "best s", "time / fft (28x28)", "max rel diff s_k vs fft",
                 "max rel diff trajectories vs fft"], rows)
    big = [v for v in s["runs"] if v["N"] != 784]
    txt += (f"\n\n{s['problem']['n_tau']} tau values; specbias spectrum alone (28x28) {fmt(fft28['spectrum_only']['best_s'])} s, "
            f"peer spectrum alone {fmt(p['spectrum_time']['best_s'])} s.")
    for v in big:
        txt += (f" {v['shape'][0]}x{v['shape'][1]}: spectrum {fmt(v['phases_last_rep_s']['spectrum'])} s, closed-form grid "
                f"{fmt(v['phases_last_rep_s']['closed_form_grid'])} s, Parseval rel error {fmt(v['parseval_rel_error'])}.")
    return txt


def noncentred(r):
    s, peer = r["specbias"], r["peer"]
    peer_by_d = {p["d"]: p for p in peer["results"]}
    rows = []
    for v in s["results"]:
        d = v["d"]
        p = peer_by_d.get(d, {})
        expm_tau = p.get("expm", {}).get("per_tau_s")
        ivp = p.get("solve_ivp_rk45")
        dop = v.get("dopri5")
        rows.append([d, v["closed"]["construct"]["best_s"], v["closed"]["per_tau_s"],
                     v["exact_dense"]["construct"]["best_s"], v["exact_dense"]["per_tau_s"],
                     dop["per_tau_s"] if dop else None, expm_tau, ivp["per_tau_s"] if ivp else None,
                     expm_tau / v["closed"]["per_tau_s"] if expm_tau else None,
                     v["exact_dense"]["max_abs_diff_vs_closed"], dop["max_abs_diff_vs_closed"] if dop else None,
                     p.get("expm", {}).get("max_abs_diff_vs_cpp_closed")])
    eig_rows = [[v["d"], v["eigendecomposition"]["secular"]["best_s"], v["eigendecomposition"]["dense_selfadjoint"]["best_s"],
                 v["eigendecomposition"]["speedup"], v["eigendecomposition"]["secular_iterations"],
                 v["eigendecomposition"]["max_rel_eigenvalue_diff"], v["eigendecomposition"]["max_residual"]]
                for v in s["results"] if "eigendecomposition" in v]
    eig = table(["d", "secular eig s", "dense eig s", "speed-up", "secular iterations", "max rel eigenvalue diff",
                 "max residual"], eig_rows) + "\n\n" if eig_rows else ""
    return eig + table(["d", "closed construct s", "closed s/τ", "dense-eig construct s", "dense-eig s/τ", "dopri5 s/τ (τ≤1)",
                  "SciPy expm s/τ", "SciPy RK45 s/τ (τ≤1)", "expm / closed (per τ)", "max |closed − dense|",
                  "max |closed − dopri5|", "max |closed − SciPy expm|"], rows)


def main():
    for path in sys.argv[1:]:
        if not path.endswith(".json"):
            path += ".json"
        r = json.load(open(path))
        name = r["benchmark"]
        m = r["machine"]
        print(f"\n### {name}\n")
        print(f"Machine: {m['cpu_model']}, {m['cpus']} CPUs ({m['hypervisor'] or 'bare metal'}), "
              f"{'/'.join(m['simd'])}; {m['cxx']}; source {m.get('source')}; Python {m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}; "
              f"load average before: {r['load_average_before']}\n")
        print({"closed_form": closed_form, "modewise": modewise, "full_matrix": full_matrix, "depth": depth,
               "train": train, "conv": conv, "noncentred": noncentred}[name](r))


if __name__ == "__main__":
    main()
