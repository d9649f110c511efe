#!/usr/bin/python3
"""Parity of the C++ MLP-UNet trainer (train/) with an independent Python implementation (outside CI).

Runs the C++ driver benchmarks/train_parity (or reads an existing dump with --dir), loads its initial weights,
batch x, noise levels sigma and noise eps, recomputes in Python the network output F, the denoiser output D, the
EDM loss, every parameter gradient, dloss/dx, and N Adam steps on the same batch, and reports max abs/rel
differences (rel = max|cpp - py| / max|py| per quantity) as JSON.

Backend: PyTorch autograd (mlp_unet_torch.py) when `import torch` works, else the NumPy transcription with a
hand-written backward (mlp_unet_numpy.py); --backend forces one. Both run in the dump's precision. For a float32
dump the backend also runs in float64 on the same (float32-valued) weights and inputs, and the report gives how
far each float32 implementation is from that float64 result ("vs_f64"), i.e. whether the C++/Python difference
is float roundoff of the size the peer itself makes.

Adam: its first steps are close to lr·sign(g) (m̂/sqrt(v̂) = g/|g| at step 1), so a weight whose gradient is
near ε = 1e-8 turns a gradient difference δg into an update difference of up to lr·δg/ε. The report therefore
gives the update difference in units of lr over all weights and over the "well-conditioned" ones (first-step
|g| ≥ 1e-5 in the reference) separately.

Tolerances (max_rel = max|cpp − py| / max|py| per quantity; every check is reported with its tolerance and the
result, and "pass" is their conjunction):
  float64: F, D, loss, ∂loss/∂x, every gradient tensor, Adam losses ≤ 1e-12; Adam weights ≤ 1e-8·lr.
  float32: F, D, loss, ∂loss/∂x, every gradient tensor, Adam losses ≤ 1e-5; and against the float64 result,
           the C++ no further than 2× the peer's own float32 deviation (+1e-7 relative; +5e-3·lr for the Adam
           weights) for F, D, loss, ∂loss/∂x, all gradients and the weights after the Adam steps. The Adam weights
           have no absolute float32 tolerance (see above: the well-conditioned subset is reported, not checked,
           because steps 2 and 3 already see the step-1 differences of the ill-conditioned weights).

    /usr/bin/python3 benchmarks/peers/parity_mlp_unet.py --driver build/release/benchmarks/train_parity \
        --precision float double [--dim 128 --nlayers 5 --hidden 256 --embedding 256 --batch 64]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def load_dir(d):
    return {f[:-4]: np.load(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".npy")}


def diff(cpp, ref):
    cpp, ref = np.asarray(cpp, np.float64), np.asarray(ref, np.float64)
    a = float(np.max(np.abs(cpp - ref)))
    scale = float(np.max(np.abs(ref)))
    return {"max_abs": a, "max_rel": a / scale if scale > 0 else a}


def python_numpy(cfg, w, x, sigma, eps, adam_steps, lr, dtype):
    import mlp_unet_numpy as m

    p = {k: v.astype(dtype) for k, v in w.items()}
    loss, F, D, grads, grad_x = m.edm_loss_and_grad(x, sigma, eps, p, cfg["sigma_data"], cfg["reduction"])
    trainable = {k: v for k, v in p.items() if k != "embedding.freqs"}
    opt = m.Adam(trainable, lr)
    losses = []
    for _ in range(adam_steps):
        l, _, _, g, _ = m.edm_loss_and_grad(x, sigma, eps, {**trainable, "embedding.freqs": p["embedding.freqs"]},
                                            cfg["sigma_data"], cfg["reduction"])
        losses.append(l)
        opt.step(trainable, g)
    return loss, F, D, grads, grad_x, losses, trainable


def python_torch(cfg, wdir, x, sigma, eps, adam_steps, lr, dtype):
    import torch
    import mlp_unet_torch as mt

    tdt = torch.float32 if dtype == np.float32 else torch.float64
    torch.set_num_threads(2)
    model = mt.MlpUNet(cfg["dim"], cfg["nlayers"], cfg["hidden"], cfg["embedding"]).to(tdt)
    mt.load_npy_dir(model, wdir, tdt)
    net = mt.EdmPrecond(model, cfg["sigma_data"], cfg["sigma_min"])
    xt = torch.from_numpy(x).requires_grad_(True)
    st, et = torch.from_numpy(sigma), torch.from_numpy(eps)
    loss = mt.edm_loss(net, xt, st, et, cfg["sigma_data"], cfg["reduction"])
    loss.backward()
    with torch.no_grad():
        s = st.reshape(-1, 1)
        y = x + s.numpy() * eps
        D = net(torch.from_numpy(y), st).numpy()
        c_in = 1 / (cfg["sigma_data"] ** 2 + s**2).sqrt()
        F = model(c_in * torch.from_numpy(y), (s.log() / 4).flatten()).numpy()
    grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()}
    grad_x = xt.grad.numpy().copy()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(adam_steps):
        opt.zero_grad()
        l = mt.edm_loss(net, torch.from_numpy(x), st, et, cfg["sigma_data"], cfg["reduction"])
        losses.append(float(l))
        l.backward()
        opt.step()
    final = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    return float(loss), F, D, grads, grad_x, losses, final


TOL = {"float64": {"values": 1e-12, "adam_lr": 1e-8}, "float32": {"values": 1e-5, "adam_lr": 5e-3}}


def run_backend(backend, cfg, dump, w, dtype):
    x = np.load(os.path.join(dump, "x.npy")).astype(dtype)
    sigma = np.load(os.path.join(dump, "sigma.npy")).astype(dtype)
    eps = np.load(os.path.join(dump, "eps.npy")).astype(dtype)
    if backend == "torch":
        return python_torch(cfg, os.path.join(dump, "weights"), x, sigma, eps, cfg["adam_steps"], cfg["lr"], dtype)
    return python_numpy(cfg, w, x, sigma, eps, cfg["adam_steps"], cfg["lr"], dtype)


def compare(dump, backend):
    cfg = json.load(open(os.path.join(dump, "config.json")))
    dtype = np.float32 if cfg["precision"] == "float32" else np.float64
    w = load_dir(os.path.join(dump, "weights"))
    loss, F, D, grads, grad_x, losses, final = run_backend(backend, cfg, dump, w, dtype)
    ref64 = run_backend(backend, cfg, dump, w, np.float64) if dtype == np.float32 else None

    cpp = {"F": np.load(os.path.join(dump, "F.npy")), "D": np.load(os.path.join(dump, "denoised.npy")),
           "grad_x": np.load(os.path.join(dump, "grad_x.npy"))}
    cpp_grads = load_dir(os.path.join(dump, "grads"))
    if set(cpp_grads) != set(grads):
        raise SystemExit(f"tensor names differ: {sorted(set(cpp_grads) ^ set(grads))}")
    names = sorted(grads)
    per_tensor = {k: diff(cpp_grads[k], grads[k]) for k in names}
    worst = max(per_tensor, key=lambda k: per_tensor[k]["max_rel"])
    cpp_final = load_dir(os.path.join(dump, "adam", "weights"))
    cpp_losses = np.load(os.path.join(dump, "adam", "losses.npy"))
    upd = {k: diff(cpp_final[k] - w[k], final[k] - w[k]) for k in final}
    worst_upd = max(upd, key=lambda k: upd[k]["max_rel"])
    lr = cfg["lr"]
    # Adam update differences in units of lr, over all weights and over those with first-step |g| >= 1e-5.
    g0 = ref64[3] if ref64 is not None else grads
    dw = np.concatenate([np.abs((cpp_final[k] - final[k]).astype(np.float64)).ravel() for k in names])
    well = np.concatenate([(np.abs(g0[k]) >= 1e-5).ravel() for k in names])
    adam_all, adam_well = float(dw.max()) / lr, float(dw[well].max()) / lr
    cpp_loss = float(np.load(os.path.join(dump, "loss.npy")))
    out = {
        "backend": backend,
        "precision": cfg["precision"],
        "problem": {k: cfg[k] for k in ("dim", "nlayers", "hidden", "embedding", "batch", "reduction")},
        "loss": {"cpp": cpp_loss, "python": loss, "rel": abs(cpp_loss - loss) / abs(loss)},
        "F": diff(cpp["F"], F),
        "D": diff(cpp["D"], D),
        "grad_x": diff(cpp["grad_x"], grad_x),
        "grads_all": diff(np.concatenate([cpp_grads[k].ravel() for k in names]),
                          np.concatenate([grads[k].ravel() for k in names])),
        "grads_worst_tensor": {"name": worst, **per_tensor[worst]},
        "adam": {"steps": cfg["adam_steps"], "lr": lr,
                 "losses_rel": float(np.max(np.abs(cpp_losses - losses) / np.abs(losses))),
                 "update_worst_tensor": {"name": worst_upd, **upd[worst_upd]},
                 "weights_max_abs": float(dw.max()),
                 "weights_max_abs_over_lr": adam_all,
                 "weights_max_abs_over_lr_well_conditioned": adam_well,
                 "well_conditioned_fraction": float(well.mean())},
    }
    if ref64 is not None:
        l64, F64, D64, g64, gx64, losses64, final64 = ref64
        def both(c, p, r):
            return {"cpp": diff(c, r)["max_rel"], backend: diff(p, r)["max_rel"]}
        def dw64(fin):
            return float(max(np.max(np.abs(fin[k].astype(np.float64) - final64[k])) for k in names)) / lr
        out["vs_f64"] = {
            "F": both(cpp["F"], F, F64), "D": both(cpp["D"], D, D64), "grad_x": both(cpp["grad_x"], grad_x, gx64),
            "loss": {"cpp": abs(cpp_loss - l64) / abs(l64), backend: abs(loss - l64) / abs(l64)},
            "grads_all": both(np.concatenate([cpp_grads[k].ravel() for k in names]),
                              np.concatenate([grads[k].ravel() for k in names]),
                              np.concatenate([g64[k].ravel() for k in names])),
            "adam_weights_max_abs_over_lr": {"cpp": dw64(cpp_final), backend: dw64(final)},
        }
    tol = TOL[cfg["precision"]]
    checks = {"F": (out["F"]["max_rel"], tol["values"]), "D": (out["D"]["max_rel"], tol["values"]),
              "loss": (out["loss"]["rel"], tol["values"]), "grad_x": (out["grad_x"]["max_rel"], tol["values"]),
              "grads_every_tensor": (per_tensor[worst]["max_rel"], tol["values"]),
              "adam_losses": (out["adam"]["losses_rel"], tol["values"])}
    if dtype == np.float64:
        checks["adam_weights_over_lr"] = (adam_all, tol["adam_lr"])
    if ref64 is not None:  # no further from float64 than the peer's own float32 result (2x, plus a floor)
        for k, v in out["vs_f64"].items():
            floor = tol["adam_lr"] if k.startswith("adam") else 1e-7
            checks[f"vs_f64_{k}"] = (v["cpp"], 2 * v[backend] + floor)
    out["checks"] = {k: {"value": v, "tolerance": t, "ok": bool(v <= t)} for k, (v, t) in checks.items()}
    out["pass"] = all(c["ok"] for c in out["checks"].values())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="existing dump of train_parity (skips running the driver)")
    ap.add_argument("--driver", help="path of the train_parity executable")
    ap.add_argument("--precision", nargs="+", default=["float", "double"])
    ap.add_argument("--backend", choices=["auto", "torch", "numpy"], default="auto")
    for k, v in (("dim", 128), ("nlayers", 5), ("hidden", 256), ("embedding", 256), ("batch", 64), ("seed", 1),
                 ("adam-steps", 3), ("lr", 1e-3)):
        ap.add_argument("--" + k, default=str(v))
    ap.add_argument("--reduction", default="mean", choices=["mean", "sum"])
    a = ap.parse_args()
    backend = a.backend
    if backend == "auto":
        try:
            import torch  # noqa: F401
            backend = "torch"
        except ImportError:
            backend = "numpy"
    results = []
    if a.dir:
        results.append(compare(a.dir, backend))
    else:
        if not a.driver:
            ap.error("give --driver (path of train_parity) or --dir")
        for prec in a.precision:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [a.driver, "--out", tmp, "--precision", prec]
                for k in ("dim", "nlayers", "hidden", "embedding", "batch", "seed", "adam-steps", "lr", "reduction"):
                    cmd += ["--" + k, str(getattr(a, k.replace("-", "_")))]
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                results.append(compare(tmp, backend))
    print(json.dumps(results, indent=2))
    if not all(r["pass"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
