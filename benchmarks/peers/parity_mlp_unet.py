#!/usr/bin/python3
"""Parity of the C++ MLP-UNet trainer (train/) with an independent Python implementation (outside CI).

Runs the C++ driver benchmarks/train_parity (or reads an existing dump with --dir), loads its initial weights,
batch x, noise levels sigma and noise eps, recomputes in Python the network output F, the denoiser output D, the
EDM loss, every parameter gradient, dloss/dx, and N Adam steps on the same batch, and reports max abs/rel
differences (rel = max|cpp - py| / max|py| per quantity) as JSON.

Backend: PyTorch autograd (mlp_unet_torch.py) when `import torch` works, else the NumPy transcription with a
hand-written backward (mlp_unet_numpy.py); --backend forces one. Both run in the dump's precision.

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


def compare(dump, backend):
    cfg = json.load(open(os.path.join(dump, "config.json")))
    dtype = np.float32 if cfg["precision"] == "float32" else np.float64
    w = load_dir(os.path.join(dump, "weights"))
    x = np.load(os.path.join(dump, "x.npy")).astype(dtype)
    sigma = np.load(os.path.join(dump, "sigma.npy")).astype(dtype)
    eps = np.load(os.path.join(dump, "eps.npy")).astype(dtype)
    if backend == "torch":
        res = python_torch(cfg, os.path.join(dump, "weights"), x, sigma, eps, cfg["adam_steps"], cfg["lr"], dtype)
    else:
        res = python_numpy(cfg, w, x, sigma, eps, cfg["adam_steps"], cfg["lr"], dtype)
    loss, F, D, grads, grad_x, losses, final = res

    cpp_grads = load_dir(os.path.join(dump, "grads"))
    if set(cpp_grads) != set(grads):
        raise SystemExit(f"tensor names differ: {sorted(set(cpp_grads) ^ set(grads))}")
    per_tensor = {k: diff(cpp_grads[k], grads[k]) for k in sorted(grads)}
    worst = max(per_tensor, key=lambda k: per_tensor[k]["max_rel"])
    cpp_final = load_dir(os.path.join(dump, "adam", "weights"))
    upd = {k: diff(cpp_final[k] - w[k], final[k] - w[k]) for k in final}
    worst_upd = max(upd, key=lambda k: upd[k]["max_rel"])
    cpp_loss = float(np.load(os.path.join(dump, "loss.npy")))
    return {
        "backend": backend,
        "precision": cfg["precision"],
        "problem": {k: cfg[k] for k in ("dim", "nlayers", "hidden", "embedding", "batch", "reduction")},
        "loss": {"cpp": cpp_loss, "python": loss, "rel": abs(cpp_loss - loss) / abs(loss)},
        "F": diff(np.load(os.path.join(dump, "F.npy")), F),
        "D": diff(np.load(os.path.join(dump, "denoised.npy")), D),
        "grad_x": diff(np.load(os.path.join(dump, "grad_x.npy")), grad_x),
        "grads_all": diff(np.concatenate([cpp_grads[k].ravel() for k in sorted(grads)]),
                          np.concatenate([grads[k].ravel() for k in sorted(grads)])),
        "grads_worst_tensor": {"name": worst, **per_tensor[worst]},
        "adam": {"steps": cfg["adam_steps"], "lr": cfg["lr"],
                 "losses_rel": float(np.max(np.abs(np.load(os.path.join(dump, "adam", "losses.npy")) - losses) / np.abs(losses))),
                 "update_worst_tensor": {"name": worst_upd, **upd[worst_upd]},
                 "weights_max_abs": max(diff(cpp_final[k], final[k])["max_abs"] for k in final)},
    }


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


if __name__ == "__main__":
    main()
