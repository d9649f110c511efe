#!/usr/bin/python3
"""GPU peer of benchmarks/cuda/bench_train_cuda (issue 7): eager PyTorch and torch.compile of the same MLP-UNet
(mlp_unet_torch.py), EDM loss and Adam step, and the Heun sampler under no_grad, on the same device.

    train_gpu.py --problem gaussian|mnist|rgb32 [--compile] [--steps 200 --warmup 20 --reps 5 --sampler-steps 5]

Timing with torch.cuda.synchronize() around each repetition; prints JSON (steps/s, NFE/s, peak device memory).
Needs a CUDA build of PyTorch (the device machine's PyTorch 2.x); Debian's python3-torch is CPU-only.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_unet_torch import EdmPrecond, MlpUNet, edm_loss  # noqa: E402

PROBLEMS = {
    "gaussian": dict(dim=128, nlayers=5, hidden=256, embedding=256, batch=1024, chunk=10000),
    "mnist": dict(dim=784, nlayers=8, hidden=1024, embedding=128, batch=2048, chunk=10000),
    "rgb32": dict(dim=3072, nlayers=8, hidden=3072, embedding=128, batch=256, chunk=2048),
}


def heun(net, z, steps, sigma_min=0.002, sigma_max=80.0, rho=7.0):
    i = torch.arange(steps, dtype=torch.float64)
    sig = (sigma_max ** (1 / rho) + i / (steps - 1) * (sigma_min ** (1 / rho) - sigma_max ** (1 / rho))) ** rho
    sig = torch.cat([sig, torch.zeros(1, dtype=torch.float64)]).tolist()
    x = z * sig[0]
    n = x.shape[0]
    for k in range(steps):
        s, s_next = sig[k], sig[k + 1]
        h = s_next - s
        d = (x - net(x, torch.full((n,), s, device=x.device))) / s
        x_next = x + h * d
        if k < steps - 1:
            d2 = (x_next - net(x_next, torch.full((n,), s_next, device=x.device))) / s_next
            x_next = x + (h / 2) * (d + d2)
        x = x_next
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", choices=sorted(PROBLEMS), default="gaussian")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sampler-steps", type=int, default=5)
    a = ap.parse_args()
    p = PROBLEMS[a.problem]
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # fp32, as the specbias default
    torch.manual_seed(0)
    model = MlpUNet(p["dim"], p["nlayers"], p["hidden"], p["embedding"]).to(dev)
    net = EdmPrecond(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(p["batch"], p["dim"], device=dev)

    def step():
        sigma = (torch.randn(p["batch"], device=dev) * 1.2 - 1.2).exp()
        eps = torch.randn_like(x)
        loss = edm_loss(net, x, sigma, eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    fwd = net
    if a.compile:
        step = torch.compile(step)
        fwd = torch.compile(net)
    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    step_s = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        torch.cuda.synchronize()
        step_s.append((time.perf_counter() - t0) / a.steps)
    z = torch.randn(p["chunk"], p["dim"], device=dev)
    nfe = 2 * a.sampler_steps - 1
    with torch.no_grad():
        heun(fwd, z, a.sampler_steps)
        torch.cuda.synchronize()
        nfe_s = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            heun(fwd, z, a.sampler_steps)
            torch.cuda.synchronize()
            nfe_s.append((time.perf_counter() - t0) / nfe)
    print(json.dumps({"problem": a.problem, "compile": a.compile, "torch": torch.__version__,
                      "device": torch.cuda.get_device_name(), "step_s": step_s, "nfe_s": nfe_s,
                      "peak_memory_bytes": torch.cuda.max_memory_allocated()}, indent=1))


if __name__ == "__main__":
    main()
