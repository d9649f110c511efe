#!/usr/bin/python3
"""PyTorch peer of the C++ trainer (train/): the MLP "UNet", EDM preconditioning and loss of EMPIRICAL.md
section 1-2, as the authors' research code builds them (torch.nn.Linear/LayerNorm defaults), plus weight loading
from the C++ NPY export (train/weights_io.hpp: one <name>.npy per state_dict entry, embedding.freqs included).

    python3 mlp_unet_torch.py --time [--threads 2 --dim 128 --nlayers 5 --hidden 256 --embedding 256 --batch 1024]

times full training steps (noise draw, EDM loss forward/backward, torch.optim.Adam) on CPU and prints JSON: the
peer of benchmarks/bench_train_step. The parity check with the C++ is parity_mlp_unet.py.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn


class FourierEmbedding(nn.Module):
    """e = [sin(2 pi f c), cos(2 pi f c)], sine half first; f ~ N(0, 1) frozen (a buffer, not a parameter)."""

    def __init__(self, dim):
        super().__init__()
        self.register_buffer("freqs", torch.randn(dim // 2))

    def forward(self, c_noise):
        phase = c_noise[:, None] * (2 * math.pi * self.freqs)[None, :]
        return torch.cat([phase.sin(), phase.cos()], dim=1)


class Block(nn.Module):
    def __init__(self, n_in, n_out, emb):
        super().__init__()
        self.ln_in = nn.LayerNorm(n_in, eps=1e-5)
        self.fc0 = nn.Linear(n_in, n_out)
        self.affine = nn.Linear(emb, 2 * n_out)
        self.ln_out = nn.LayerNorm(n_out, eps=1e-5)
        self.fc1 = nn.Linear(n_out, n_out)
        self.skip = nn.Linear(n_in, n_out) if n_in != n_out else None

    def forward(self, x, e):
        h = self.fc0(Fn.silu(self.ln_in(x)))
        scale, shift = self.affine(e).chunk(2, dim=1)  # first half scale, second half shift
        h = Fn.silu(torch.addcmul(shift, self.ln_out(h), scale + 1))
        h = self.fc1(h)
        return h + (self.skip(x) if self.skip is not None else x)


class MlpUNet(nn.Module):
    """block(d -> H), L - 2 blocks (H -> H), Linear(H -> d)."""

    def __init__(self, dim, nlayers=5, hidden=256, embedding=256):
        super().__init__()
        self.embedding = FourierEmbedding(embedding)
        self.blocks = nn.ModuleList([Block(dim, hidden, embedding)] + [Block(hidden, hidden, embedding) for _ in range(nlayers - 2)])
        self.out = nn.Linear(hidden, dim)

    def forward(self, x, c_noise):
        e = self.embedding(c_noise)
        for b in self.blocks:
            x = b(x, e)
        return self.out(x)


class EdmPrecond(nn.Module):
    def __init__(self, model, sigma_data=0.5, sigma_min=0.002):
        super().__init__()
        self.model, self.sigma_data, self.sigma_min = model, sigma_data, sigma_min

    def forward(self, x, sigma):
        sigma = torch.where(sigma == 0, torch.full_like(sigma, self.sigma_min), sigma).reshape(-1, 1)
        sd = self.sigma_data
        c_skip = sd**2 / (sigma**2 + sd**2)
        c_out = sigma * sd / (sigma**2 + sd**2).sqrt()
        c_in = 1 / (sd**2 + sigma**2).sqrt()
        c_noise = sigma.log() / 4
        return c_skip * x + c_out * self.model(c_in * x, c_noise.flatten())


def edm_loss(net, x, sigma, eps, sigma_data=0.5, reduction="mean"):
    """omega (D(x + sigma eps; sigma) - x)^2, omega = (sigma^2 + sd^2)/(sigma sd)^2; mean over all elements or sum
    over dimensions and mean over the batch."""
    s = sigma.reshape(-1, 1)
    weight = (s**2 + sigma_data**2) / (s * sigma_data) ** 2
    D = net(x + s * eps, sigma)
    per = weight * (D - x) ** 2
    return per.mean() if reduction == "mean" else per.sum(dim=1).mean()


def load_npy_dir(model, directory, dtype):
    """Loads the C++ export (float64 files) into model's parameters and buffers, checking names and shapes."""
    state = model.state_dict()
    new = {}
    for name, t in state.items():
        a = np.load(os.path.join(directory, name + ".npy"))
        if tuple(a.shape) != tuple(t.shape):
            raise ValueError(f"{name}: file shape {a.shape}, model shape {tuple(t.shape)}")
        new[name] = torch.from_numpy(a).to(dtype)
    model.load_state_dict(new)


def time_steps(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = MlpUNet(args.dim, args.nlayers, args.hidden, args.embedding)
    net = EdmPrecond(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(args.batch, args.dim)
    times = []
    for s in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        sigma = (torch.randn(args.batch) * 1.2 - 1.2).exp()
        eps = torch.randn_like(x)
        loss = edm_loss(net, x, sigma, eps)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if s >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"benchmark": "train_step_torch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "problem": vars(args), "step_ms": {"best": 1e3 * times[0], "median": 1e3 * times[len(times) // 2]},
                      "steps_per_s_best": 1.0 / times[0], "parameters": sum(p.numel() for p in model.parameters())}, indent=2))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time", action="store_true", help="time training steps (the only action)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--nlayers", type=int, default=5)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--embedding", type=int, default=256)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    if not a.time:
        ap.error("nothing to do: pass --time (parity checks are in parity_mlp_unet.py)")
    time_steps(a)
