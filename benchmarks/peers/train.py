#!/usr/bin/python3
"""PyTorch-eager peer of benchmarks/bench_train (run_all.sh `train`): the same problem, mode and measurements.

    train.py --problem gaussian|mnist --mode train|sample [--threads 2 --steps 10 --warmup 2 --sampler-steps 5 --reps 3]

train: one step = draw sigma (ln sigma ~ N(-1.2, 1.2^2)) and eps, EDM loss (mean reduction) through the MLP-UNet of
mlp_unet_torch.py, backward, torch.optim.Adam(lr=1e-4) step; the batch x is fixed standard-normal data.
sample: deterministic Heun sampler (EDM Algorithm 1, sigma_min 0.002, sigma_max 80, rho 7; last step Euler) under
torch.no_grad() on a chunk of latents; NFE = 2 steps - 1 network calls on the whole chunk.
torch.set_num_threads(threads); OPENBLAS_NUM_THREADS is set to the same count before torch is imported (unless
already set). The JSON records which BLAS the process actually mapped (/proc/self/maps), OpenBLAS's own report of
its core and thread count, torch.__config__.show()'s BLAS line, wall and process-CPU seconds of every repetition,
and the resident memory after `import torch` and at the end (peak, getrusage ru_maxrss).

    train.py --aggregate DIR CPP_OUT PEER_OUT

merges run_all.sh's per-process results DIR/<side>.<problem>.<mode>.<round>.json (side: cpp, torch_default,
torch_passive) into the specbias and peer halves of benchmarks/results/train.json: per (problem, mode) every round,
the best and the median over all timed repetitions of all rounds, steps/s or NFE/s from them, and the largest
max RSS.
"""
import argparse
import ctypes
import glob
import json
import os
import resource
import statistics
import sys
import time

PROBLEMS = {
    "gaussian": dict(dim=128, nlayers=5, hidden=256, embedding=256, batch=1024, chunk=1000),
    "mnist": dict(dim=784, nlayers=8, hidden=1024, embedding=128, batch=256, chunk=500),
}


def rss_kib(field="VmRSS:"):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


def blas_report(torch):
    """Which BLAS this process really uses: mapped libraries plus OpenBLAS's self-description when present."""
    a = torch.randn(64, 64)
    _ = a @ a  # make sure the BLAS is loaded and initialised
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path)
            if any(k in name.lower() for k in ("blas", "mkl", "dnnl", "lapack", "gomp", "omp")):
                libs.add(os.path.realpath(path))
    rep = {"mapped_libraries": sorted(libs)}
    try:
        ob = ctypes.CDLL("libopenblas.so.0")
        ob.openblas_get_config.restype = ctypes.c_char_p
        ob.openblas_get_corename.restype = ctypes.c_char_p
        rep["openblas_config"] = ob.openblas_get_config().decode()
        rep["openblas_core"] = ob.openblas_get_corename().decode()
        rep["openblas_threads"] = ob.openblas_get_num_threads()
    except OSError:
        rep["openblas_config"] = None
    show = torch.__config__.show()
    rep["torch_build_blas"] = next((p.strip() for p in show.replace(",", "\n").splitlines() if "BLAS_INFO" in p), None)
    rep["torch_parallel_backend"] = next((l.split(":", 1)[1].strip() for l in torch.__config__.parallel_info().splitlines()
                                          if l.startswith("ATen parallel backend")), None)
    return rep


def heun_sigmas(steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    if steps == 1:
        s = [sigma_max]
    else:
        a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
        s = [(a + i / (steps - 1) * (b - a)) ** rho for i in range(steps)]
    return s + [0.0]


def heun_sample(net, z, steps, torch):
    sig = heun_sigmas(steps)
    x = z * sig[0]
    n = x.shape[0]
    for i in range(steps):
        s, s_next = sig[i], sig[i + 1]
        h = s_next - s
        d = (x - net(x, torch.full((n,), s))) / s
        x_next = x + h * d
        if i < steps - 1:
            d2 = (x_next - net(x_next, torch.full((n,), s_next))) / s_next
            x_next = x + (h / 2) * (d + d2)
        x = x_next
    return x


def aggregate(src, cpp_out, peer_out):
    def side(name):
        out, meta = {}, None
        for f in sorted(glob.glob(os.path.join(src, name + ".*.json"))):
            problem, mode, rnd = os.path.basename(f)[len(name) + 1:-5].split(".")
            j = json.load(open(f))
            meta = meta or j
            key = "step" if mode == "train" else "sampler"
            e = out.setdefault(problem, {"problem": j["problem"]}).setdefault(mode, {"rounds": []})
            load = open(os.path.join(src, f"load.{problem}.{mode}.{rnd}")).read().strip()
            e["rounds"].append({"round": int(rnd), "load_before": load, **j[key], "memory": j["memory"]})
        for prob in out.values():
            for mode, e in prob.items():
                if mode == "problem":
                    continue
                wall = [t for r in e["rounds"] for t in r["all_s"]]
                e["best_s"], e["median_s"] = min(wall), statistics.median(wall)
                e["cpu_median_s"] = statistics.median(r["cpu_median_s"] for r in e["rounds"])
                e["max_rss_kib"] = max(r["memory"]["max_rss_kib"] for r in e["rounds"])
                e["rss_start_kib"] = max(r["memory"]["rss_start_kib"] for r in e["rounds"])
                if mode == "train":
                    e["steps_per_s_best"], e["steps_per_s_median"] = 1 / e["best_s"], 1 / e["median_s"]
                else:
                    nfe = e["rounds"][0]["nfe"]
                    e["nfe"], e["nfe_per_s_best"], e["nfe_per_s_median"] = nfe, nfe / e["best_s"], nfe / e["median_s"]
                    e["sample_nfe_per_s_best"] = nfe * prob["problem"]["chunk"] / e["best_s"]
        return out, meta

    cpp, cmeta = side("cpp")
    json.dump({"environment": cmeta["environment"], "openmp_threads": cmeta["openmp_threads"], "problems": cpp},
              open(cpp_out, "w"), indent=1)
    peer, meta = {}, None
    for variant in ("torch_default", "torch_passive"):
        res, meta = side(variant)
        peer[variant] = {"env": meta["env"], "problems": res}
    peer.update(torch=meta["torch"], threads=meta["threads"], blas=meta["blas"])
    json.dump(peer, open(peer_out, "w"), indent=1)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--aggregate":
        return aggregate(*sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="gaussian")
    ap.add_argument("--mode", choices=["train", "sample"], default="train")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--sampler-steps", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(a.threads))
    import torch  # after OPENBLAS_NUM_THREADS

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mlp_unet_torch as mt

    rss_start = rss_kib()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    p = PROBLEMS[a.problem]
    model = mt.MlpUNet(p["dim"], p["nlayers"], p["hidden"], p["embedding"])
    net = mt.EdmPrecond(model)
    out = {"benchmark": "train_torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
           "blas": blas_report(torch), "mode": a.mode,
           "problem": {"name": a.problem, **p, "parameters": sum(q.numel() for q in model.parameters()),
                       "precision": "float32", "threads": a.threads}}
    wall, cpu = [], []
    if a.mode == "train":
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x = torch.randn(p["batch"], p["dim"])
        loss = None
        for s in range(a.warmup + a.steps):
            c0, t0 = time.process_time(), time.perf_counter()
            sigma = (torch.randn(p["batch"]) * 1.2 - 1.2).exp()
            eps = torch.randn_like(x)
            loss = mt.edm_loss(net, x, sigma, eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            t1, c1 = time.perf_counter(), time.process_time()
            if s >= a.warmup:
                wall.append(t1 - t0)
                cpu.append(c1 - c0)
        key, out["last_loss"] = "step", float(loss)
    else:
        nfe = 2 * a.sampler_steps - 1
        with torch.no_grad():
            for r in range(1 + a.reps):
                z = torch.randn(p["chunk"], p["dim"])
                c0, t0 = time.process_time(), time.perf_counter()
                xs = heun_sample(net, z, a.sampler_steps, torch)
                t1, c1 = time.perf_counter(), time.process_time()
                if not torch.isfinite(xs).all():
                    raise SystemExit("non-finite samples")
                if r >= 1:
                    wall.append(t1 - t0)
                    cpu.append(c1 - c0)
        key = "sampler"
    srt = sorted(wall)
    med = srt[len(srt) // 2]
    out[key] = {"best_s": srt[0], "median_s": med, "all_s": wall, "cpu_best_s": min(cpu),
                "cpu_median_s": sorted(cpu)[len(cpu) // 2]}
    if a.mode == "train":
        out["steps_per_s_best"], out["steps_per_s_median"] = 1 / srt[0], 1 / med
    else:
        out["sampler"].update(steps=a.sampler_steps, nfe=nfe)
        out["nfe_per_s_best"], out["nfe_per_s_median"] = nfe / srt[0], nfe / med
        out["sample_nfe_per_s_best"] = nfe * p["chunk"] / srt[0]
    out["memory"] = {"rss_start_kib": rss_start, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                     "vm_hwm_kib": rss_kib("VmHWM:")}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
