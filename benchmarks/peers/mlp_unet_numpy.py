#!/usr/bin/python3
"""NumPy transcription of the MLP "UNet", EDM preconditioning/loss and Adam (EMPIRICAL.md section 1-2), with a
hand-written backward. The fallback peer of parity_mlp_unet.py where PyTorch is not installed; it mirrors
mlp_unet_torch.py line for line (batch-major arrays: x is (B, d), a Linear is x @ W.T + b).

Block(in -> out): h = fc0(SiLU(LN_in(x))); (scale, shift) = chunk(affine(e), 2); h = SiLU(shift + LN_out(h) * (1 +
scale)); h = fc1(h); y = h + skip(x) (Linear if in != out else identity). e = [sin(2 pi f c), cos(2 pi f c)].
Parameters are a dict name -> array with PyTorch's state_dict names and shapes.
"""
import math

import numpy as np

LN_EPS = 1e-5


def block_names(n_blocks):
    return [f"blocks.{i}" for i in range(n_blocks)]


def layer_norm(x, g, b):
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=1, keepdims=True)
    r = 1.0 / np.sqrt(var + x.dtype.type(LN_EPS))
    xh = xc * r
    return xh * g + b, (xh, r)


def layer_norm_backward(gy, g, cache):
    xh, r = cache
    dg = (gy * xh).sum(axis=0)
    db = gy.sum(axis=0)
    gxh = gy * g
    gx = r * (gxh - gxh.mean(axis=1, keepdims=True) - xh * (gxh * xh).mean(axis=1, keepdims=True))
    return gx, dg, db


def silu(a):
    s = 1.0 / (1.0 + np.exp(-a))
    return a * s, s


def silu_backward(gy, y, s):
    return gy * (s + y * (1.0 - s))


def linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def linear_backward(gy, x, p, name, grads, need_input=True):
    grads[name + ".weight"] = gy.T @ x
    grads[name + ".bias"] = gy.sum(axis=0)
    return gy @ p[name + ".weight"] if need_input else None


def embedding(c_noise, freqs):
    two_pi_f = (2.0 * math.pi * freqs).astype(freqs.dtype)
    phase = c_noise[:, None] * two_pi_f[None, :]
    return np.concatenate([np.sin(phase), np.cos(phase)], axis=1)


def block_forward(x, e, p, n):
    c = {"x": x}
    a0, c["ln_in"] = layer_norm(x, p[n + ".ln_in.weight"], p[n + ".ln_in.bias"])
    c["s0"], c["sig0"] = silu(a0)
    h = linear(c["s0"], p, n + ".fc0")
    film = linear(e, p, n + ".affine")
    out = h.shape[1]
    c["scale"], shift = film[:, :out], film[:, out:]
    nrm, c["ln_out"] = layer_norm(h, p[n + ".ln_out.weight"], p[n + ".ln_out.bias"])
    c["n"] = nrm
    u = shift + nrm * (1.0 + c["scale"])
    c["s1"], c["sig1"] = silu(u)
    y = linear(c["s1"], p, n + ".fc1")
    y = y + (linear(x, p, n + ".skip") if (n + ".skip.weight") in p else x)
    return y, c


def block_backward(gy, e, p, n, c, grads):
    g_s1 = linear_backward(gy, c["s1"], p, n + ".fc1", grads)
    g_u = silu_backward(g_s1, c["s1"], c["sig1"])
    g_scale = g_u * c["n"]
    g_n = g_u * (1.0 + c["scale"])
    linear_backward(np.concatenate([g_scale, g_u], axis=1), e, p, n + ".affine", grads, need_input=False)
    g_h, grads[n + ".ln_out.weight"], grads[n + ".ln_out.bias"] = layer_norm_backward(g_n, p[n + ".ln_out.weight"], c["ln_out"])
    g_s0 = linear_backward(g_h, c["s0"], p, n + ".fc0", grads)
    g_a0 = silu_backward(g_s0, c["s0"], c["sig0"])
    gx, grads[n + ".ln_in.weight"], grads[n + ".ln_in.bias"] = layer_norm_backward(g_a0, p[n + ".ln_in.weight"], c["ln_in"])
    if (n + ".skip.weight") in p:
        gx = gx + linear_backward(gy, c["x"], p, n + ".skip", grads)
    else:
        gx = gx + gy
    return gx


def n_blocks(p):
    return len({k.split(".")[1] for k in p if k.startswith("blocks.")})


def net_forward(x, c_noise, p):
    e = embedding(c_noise, p["embedding.freqs"])
    caches = []
    h = x
    for n in block_names(n_blocks(p)):
        h, c = block_forward(h, e, p, n)
        caches.append(c)
    return linear(h, p, "out"), (e, caches, h)


def net_backward(g_out, p, cache):
    e, caches, h_last = cache
    grads = {}
    g = linear_backward(g_out, h_last, p, "out", grads)
    for n, c in reversed(list(zip(block_names(n_blocks(p)), caches))):
        g = block_backward(g, e, p, n, c, grads)
    return g, grads


def edm_coefficients(sigma, sigma_data=0.5, sigma_min=0.002):
    s = np.where(sigma == 0, sigma_min, sigma).astype(np.float64)
    s2 = s * s + sigma_data**2
    c_skip = sigma_data**2 / s2
    c_out = s * sigma_data / np.sqrt(s2)
    c_in = 1.0 / np.sqrt(s2)
    c_noise = np.log(s) / 4.0
    weight = s2 / (s * sigma_data) ** 2
    return c_skip, c_out, c_in, c_noise, weight


def edm_loss_and_grad(x, sigma, eps, p, sigma_data=0.5, reduction="mean"):
    """Loss, parameter gradients and dloss/dx; coefficients in float64, rounded to the data dtype (as the C++)."""
    dt = x.dtype
    c_skip, c_out, c_in, c_noise, weight = (v.astype(dt)[:, None] for v in edm_coefficients(sigma, sigma_data))
    y = x + sigma[:, None].astype(dt) * eps
    F, cache = net_forward(y * c_in, c_noise[:, 0], p)
    D = c_skip * y + c_out * F
    err = D - x
    per_sample = (err.astype(np.float64) ** 2).sum(axis=1) * weight[:, 0].astype(np.float64)
    norm = 1.0 / x.size if reduction == "mean" else 1.0 / x.shape[0]
    loss = per_sample.sum() * norm
    gD = (2.0 * dt.type(norm)) * weight * err
    g_in, grads = net_backward(c_out * gD, p, cache)
    grad_x = (c_skip - 1.0) * gD + c_in * g_in
    return loss, F, D, grads, grad_x


class Adam:
    """torch.optim.Adam defaults: m.lerp_(g, 1-b1); v = v*b2 + (1-b2) g^2; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, betas[0], betas[1], eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads):
        self.t += 1
        bc1 = 1.0 - self.b1**self.t
        bc2 = 1.0 - self.b2**self.t
        for k, g in grads.items():
            dt = params[k].dtype.type
            self.m[k] = self.m[k] + dt(1.0 - self.b1) * (g - self.m[k])
            self.v[k] = self.v[k] * dt(self.b2) + dt(1.0 - self.b2) * (g * g)
            denom = np.sqrt(self.v[k]) / dt(math.sqrt(bc2)) + dt(self.eps)
            params[k] = params[k] - dt(self.lr / bc1) * (self.m[k] / denom)
