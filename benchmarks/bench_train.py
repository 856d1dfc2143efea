"""Milliseconds and memory per GAN training iteration: minigan beside PyTorch, same machine, same run.

One iteration is what the trainer does per batch: one D step and one G step,
noise sampling included::

    z = randn(B, 64); with no_grad: fake = G(z)                  # D step
    loss_D = BCE(D(real), 1) + BCE(D(fake), 0); backward; Adam step on D
    z = randn(B, 64); with D frozen: loss_G = BCE(D(G(z)), 1)    # G step (non-saturating)
    backward; Adam step on G

For PyTorch the same networks are rebuilt layer by layer from minigan's (so the
architecture cannot drift) and start from the same weights; both use
Adam(lr=2e-4, betas=(0.5, 0.999)) and the logit form of binary cross-entropy.

    python benchmarks/bench_train.py                       # 1 and 2 threads, mlp and dcgan
    python benchmarks/bench_train.py --threads 2 --iters 30
    python benchmarks/bench_train.py --quick               # one iteration: checks that it runs
    python benchmarks/bench_train.py --backend cupy        # CuPy beside PyTorch on CUDA

How each column is measured is printed under the table (see also benchmarks/harness.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import harness  # noqa: E402

BATCH = {"mlp": 128, "dcgan": 64}
DATA_SHAPE = (1, 28, 28)
Z_DIM = 64
LR, BETAS = 2e-4, (0.5, 0.999)


# --------------------------------------------------------------------------- FLOP counting


def _layer_macs(layer: Any, shape: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """(multiply-adds per sample, output shape per sample) of one minigan layer on input ``shape``."""
    from minigan import nn

    if isinstance(layer, nn.Linear):
        return layer.in_features * layer.out_features, (layer.out_features,)
    if isinstance(layer, nn.Conv2d):
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        c, h, w = shape
        oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        return oh * ow * layer.out_channels * c * kh * kw, (layer.out_channels, oh, ow)
    if isinstance(layer, nn.ConvTranspose2d):
        (kh, kw), (sh, sw), (ph, pw) = layer.kernel_size, layer.stride, layer.padding
        c, h, w = shape
        oh, ow = sh * (h - 1) + kh - 2 * ph, sw * (w - 1) + kw - 2 * pw
        return h * w * c * layer.out_channels * kh * kw, (layer.out_channels, oh, ow)
    if isinstance(layer, nn.Flatten):
        return 0, (math.prod(shape),)
    if isinstance(layer, nn.Unflatten):
        return 0, layer.sizes
    return 0, shape  # activations and batch norm: elementwise, not counted


def _macs(body: Any, in_shape: tuple[int, ...]) -> list[int]:
    """Multiply-adds per sample of each weighted layer of a Sequential, in order."""
    out, shape = [], tuple(in_shape)
    for layer in body:
        macs, shape = _layer_macs(layer, shape)
        if macs:
            out.append(macs)
    return out


def iteration_flops(model: str) -> float:
    """Floating-point operations of the matrix products and convolutions in one iteration.

    Counting, per weighted layer (Linear, Conv2d, ConvTranspose2d) with M multiply-adds
    per sample: the forward pass costs 2 M B flops; the backward pass costs 2 M B for
    the input gradient and 2 M B for the weight gradient, each counted only when it is
    computed (backward ~ 2x forward, less what is not needed):

    * D step: G forward (no graph); for D(real) and D(fake) each: forward, weight
      gradients of every layer, input gradients of every layer but the first (the
      data need none).
    * G step: G forward, D forward, D's input gradients of every layer (to reach G;
      D is frozen, so no weight gradients), G's weight gradients, and G's input
      gradients of every layer but the first (z needs none).

    Elementwise work (activations, batch norm, losses, Adam) is left out: it is memory
    traffic, not arithmetic, and a few percent of the flops.
    """
    from minigan.gan import models

    G, D = models.build(model, DATA_SHAPE, z_dim=Z_DIM)
    g, d = _macs(G.body, (Z_DIM,)), _macs(D.body, DATA_SHAPE)
    d_step = sum(g) + 2 * (sum(d) + sum(d) + sum(d[1:]))
    g_step = sum(g) + sum(d) + sum(d) + sum(g) + sum(g[1:])
    return 2.0 * BATCH[model] * (d_step + g_step)


# --------------------------------------------------------------------------- the two iterations


def minigan_iteration(model: str, backend_name: str) -> tuple[Any, Any]:
    """(step, sync) for minigan: ``step()`` runs one training iteration."""
    import numpy as np

    import minigan
    from minigan import optim
    from minigan.gan import losses, models

    minigan.use(backend_name)
    minigan.manual_seed(0)
    b = BATCH[model]
    G, D = models.build(model, DATA_SHAPE, z_dim=Z_DIM)
    opt_g = optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    real = minigan.tensor(np.random.default_rng(0).uniform(-1, 1, (b,) + DATA_SHAPE).astype(np.float32))

    def step() -> None:
        z = minigan.randn(b, Z_DIM)
        with minigan.no_grad():
            fake = G(z)
        loss_d = losses.d_loss(D(real), D(fake))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        z = minigan.randn(b, Z_DIM)
        with minigan.nn.frozen(D):
            loss_g = losses.g_loss_nonsaturating(D(G(z)))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step, minigan.backend.current().synchronize


def torch_twin(body: Any) -> Any:
    """A torch.nn.Sequential with the same layers as a minigan Sequential, and the same weights."""
    import torch

    from minigan import nn

    layers = []
    for m in body:
        if isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
        elif isinstance(m, nn.Conv2d):
            t = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                bias=m.bias is not None)
        elif isinstance(m, nn.ConvTranspose2d):
            t = torch.nn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding,
                                         bias=m.bias is not None)
        elif isinstance(m, nn.BatchNorm1d):
            t = torch.nn.BatchNorm1d(m.num_features, m.eps, m.momentum, affine=m.affine)
        elif isinstance(m, nn.BatchNorm2d):
            t = torch.nn.BatchNorm2d(m.num_features, m.eps, m.momentum, affine=m.affine)
        elif isinstance(m, nn.ReLU):
            t = torch.nn.ReLU()
        elif isinstance(m, nn.LeakyReLU):
            t = torch.nn.LeakyReLU(m.negative_slope)
        elif isinstance(m, nn.Tanh):
            t = torch.nn.Tanh()
        elif isinstance(m, nn.Sigmoid):
            t = torch.nn.Sigmoid()
        elif isinstance(m, nn.Flatten):
            t = torch.nn.Flatten(m.start_dim, m.end_dim)
        elif isinstance(m, nn.Unflatten):
            t = torch.nn.Unflatten(m.dim, m.sizes)
        else:
            raise TypeError(f"bench_train: no PyTorch twin for {type(m).__name__}")
        state = {k: torch.from_numpy(v.copy()) for k, v in m.state_dict().items()}
        if state:
            t.load_state_dict(state, strict=False)
        layers.append(t)
    return torch.nn.Sequential(*layers)


def torch_iteration(model: str, device: str, threads: int) -> tuple[Any, Any]:
    """(step, sync) for PyTorch, the same iteration as ``minigan_iteration``."""
    import numpy as np
    import torch
    import torch.nn.functional as TF

    from minigan.gan import models

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    b = BATCH[model]
    G_m, D_m = models.build(model, DATA_SHAPE, z_dim=Z_DIM)
    G, D = torch_twin(G_m.body).to(device), torch_twin(D_m.body).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=LR, betas=BETAS)
    real = torch.from_numpy(np.random.default_rng(0).uniform(-1, 1, (b,) + DATA_SHAPE).astype(np.float32)).to(device)
    ones = torch.ones(b, 1, device=device)
    zeros = torch.zeros(b, 1, device=device)

    def step() -> None:
        z = torch.randn(b, Z_DIM, device=device)
        with torch.no_grad():
            fake = G(z)
        bce = TF.binary_cross_entropy_with_logits
        loss_d = bce(D(real), ones) + bce(D(fake), zeros)
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        z = torch.randn(b, Z_DIM, device=device)
        D.requires_grad_(False)  # what minigan.nn.frozen(D) does
        loss_g = TF.binary_cross_entropy_with_logits(D(G(z)), ones)
        D.requires_grad_(True)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return step, sync


# --------------------------------------------------------------------------- worker (a fresh process)

STANDIN_VAR = "BENCH_TRAIN_STANDIN"  # set by the parent when it runs under tests/run_on_standin.py


def _on_standin() -> bool:
    """Whether the device module is the strict CuPy stand-in (tests/run_on_standin.py installed it)."""
    from minigan import backend

    return getattr(backend._load_cupy(), "__name__", "") == "strict_cupy"


def _standin_if_asked() -> Any:
    """In a worker whose parent ran on the stand-in: the stand-in as the device module; else nothing."""
    import contextlib

    if os.environ.get(STANDIN_VAR) != "1":
        return contextlib.nullcontext()
    tests = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
    sys.path.insert(0, tests)
    import strict_cupy

    from minigan import backend

    return backend.device_module(strict_cupy)


def _gpu_memory_probe(lib: str) -> tuple[Any, Any]:
    """(reset, peak MiB since reset) of the GPU memory pool of ``lib``."""
    if lib == "torch":
        import torch

        base = {}

        def reset() -> None:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            base["v"] = torch.cuda.memory_reserved()

        return reset, lambda: (torch.cuda.max_memory_reserved() - base["v"]) / 2**20
    from minigan import backend

    cupy = backend.current().xp  # the device module minigan computes with (the stand-in under tests)
    if not hasattr(cupy, "get_default_memory_pool"):  # the strict stand-in has no memory pool
        return cupy.cuda.Device().synchronize, lambda: float("nan")
    pool, base = cupy.get_default_memory_pool(), {}

    def reset_cupy() -> None:
        cupy.cuda.Device().synchronize()
        base["v"] = pool.total_bytes()

    return reset_cupy, lambda: (pool.total_bytes() - base["v"]) / 2**20  # the pool only grows: a high-water mark


def worker(job: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this (fresh) process: the matmul peak, or one (library, model)."""
    if job["kind"] == "peak":
        return {"gflops": harness.matmul_peak_gflops(job["n"])}
    lib, model, gpu = job["lib"], job["model"], job["backend"] == "cupy"
    if lib == "minigan":
        step, sync = minigan_iteration(model, job["backend"])
    else:
        step, sync = torch_iteration(model, "cuda" if gpu else "cpu", job["threads"])
    if gpu:
        reset, peak = _gpu_memory_probe(lib)
        reset()
        ms = harness.median_ms(step, job["iters"], job["warmup"], sync)
        return {"ms": ms, "mem_mib": peak()}
    import gc

    gc.collect()
    base = harness.rss_mib()
    harness.reset_peak_rss()
    ms = harness.median_ms(step, job["iters"], job["warmup"], sync)
    return {"ms": ms, "mem_mib": harness.peak_rss_mib() - base}


# --------------------------------------------------------------------------- the table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--iters", type=int, default=20, help="timed iterations, median reported (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    p.add_argument("--rounds", type=int, default=3,
                   help="repeat every measurement this many times, alternating libraries; report the best (default 3)")
    p.add_argument("--models", nargs="+", default=["mlp", "dcgan"], choices=sorted(BATCH))
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    p.add_argument("--quick", action="store_true", help="one iteration, no warm-up, first thread count only")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        jobs = json.loads(args.worker)
        with _standin_if_asked():
            print(json.dumps([worker(j) for j in jobs] if isinstance(jobs, list) else worker(jobs)))
        return 0
    torch_ok = harness.settle_args(args)
    if torch_ok is None:
        return 2
    standin = args.backend == "cupy" and _on_standin()
    if standin:  # under tests/run_on_standin.py: the fresh worker processes get the stand-in too
        os.environ[STANDIN_VAR] = "1"
    script = os.path.abspath(__file__)
    load_before = harness.load_average()
    flops = {m: iteration_flops(m) for m in args.models}
    rows = []
    for threads in args.threads:
        peak = None
        if args.backend == "numpy":
            peak = harness.run_worker(script, {"kind": "peak", "n": 512 if args.quick else 2048}, threads)["gflops"]
        jobs = {(lib, model): {"kind": "iter", "lib": lib, "model": model, "iters": args.iters,
                               "warmup": args.warmup, "backend": args.backend, "threads": threads}
                for lib in (["minigan", "torch"] if torch_ok else ["minigan"]) for model in args.models}
        if args.quick:  # one process per library (imports once): quick, but the memory column is only indicative
            results = {}
            for lib in {lib for lib, _ in jobs}:
                keys = [k for k in jobs if k[0] == lib]
                results.update(zip(keys, harness.run_worker(script, [jobs[k] for k in keys], threads)))
        else:  # a fresh process per measurement; rounds alternate the libraries, the best round counts
            results = {}
            for _ in range(args.rounds):
                for k, job in jobs.items():
                    r = harness.run_worker(script, job, threads)
                    best = results.get(k)
                    results[k] = r if best is None else {"ms": min(best["ms"], r["ms"]),
                                                        "mem_mib": min(best["mem_mib"], r["mem_mib"])}
        for model in args.models:
            ours, theirs = results["minigan", model], results.get(("torch", model))
            gflops = flops[model] / ours["ms"] / 1e6
            rows.append([
                model, BATCH[model], threads, ours["ms"], theirs["ms"] if theirs else None,
                ours["ms"] / theirs["ms"] if theirs else None,
                ours["mem_mib"], theirs["mem_mib"] if theirs else None,
                ours["mem_mib"] / theirs["mem_mib"] if theirs and theirs["mem_mib"] > 0 else None,
                flops[model] / 1e9, gflops, peak, 100.0 * gflops / peak if peak else None,
            ])
    where = "CuPy vs PyTorch CUDA" if args.backend == "cupy" else "NumPy vs PyTorch CPU"
    print(f"### One GAN iteration (D step + G step), minigan ({where})\n")
    print(harness.markdown_table(
        ["model", "batch", "threads", "minigan ms", "torch ms", "ratio", "minigan MiB", "torch MiB", "mem ratio",
         "GFLOP/iter", "minigan GFLOP/s", "matmul peak GFLOP/s", "% of peak"], rows))
    print()
    print(f"- ms: median of {args.iters} iterations after {args.warmup} warm-up iterations, each library in its "
          "own fresh process with OMP/OPENBLAS/MKL_NUM_THREADS (and torch.set_num_threads) = threads; the best of "
          f"{args.rounds} rounds that alternate the libraries (other load on the machine only slows a round down).")
    print(f"- machine load (1-minute load average) before / after: {load_before} / {harness.load_average()}; "
          "ratios taken under load are unreliable, 2-thread ones most of all.")
    if args.backend == "cupy":
        print("- MiB: growth of the library's GPU memory pool over the run (CuPy pool total bytes, "
              "torch max_memory_reserved).")
    else:
        print("- MiB: peak resident memory during warm-up and timed iterations minus the resident memory once "
              "the models, optimizers and data batch exist (VmHWM - VmRSS from /proc/self/status, fresh process "
              "per library, model and thread count; counts optimizer state, gradients, activations and "
              "allocator caching alike for both libraries).")
        print("- GFLOP/iter: 2 x multiply-adds of every Linear/Conv/ConvTranspose forward, input-gradient and "
              "weight-gradient product actually computed (see iteration_flops); elementwise work not counted.")
        print("- matmul peak: best float32 np.matmul of two 2048 x 2048 matrices at that thread count.")
    if standin:
        print("- stand-in: the CuPy side ran on tests/strict_cupy.py (NumPy underneath, no memory pool): "
              "a check that the script runs, not a measurement.")
    if args.quick:
        print("- --quick: one iteration, cold, one process per library: a check that the script runs, not a result.")
    if not torch_ok:
        print("- PyTorch columns are empty: torch is not installed (pip install -e '.[bench]') or --no-torch.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
