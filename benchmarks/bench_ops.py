"""The layers of the DCGAN one at a time: minigan beside PyTorch, forward and forward + backward.

Sizes are those of one DCGAN iteration at batch 64 on 28 x 28 images (see minigan/gan/models.py).
"forward" records the graph (all inputs require gradients, as in training);
"fwd+bwd" adds ``y.backward(g)`` for a fixed random g, which computes the
gradients of the input, the weight and the bias.

    python benchmarks/bench_ops.py                  # 1 and 2 threads
    python benchmarks/bench_ops.py --threads 2 --iters 50
    python benchmarks/bench_ops.py --quick          # one call each: checks that it runs
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import harness  # noqa: E402

# name, function, input shape, weight shape, keyword arguments
B = 64
CASES: list[tuple[str, str, tuple[int, ...], tuple[int, ...] | None, dict[str, Any]]] = [
    ("linear G 64->6272", "linear", (B, 64), (6272, 64), {}),
    ("linear D 6272->1", "linear", (B, 6272), (1, 6272), {}),
    ("conv2d D1 1->64 28->14", "conv2d", (B, 1, 28, 28), (64, 1, 4, 4), {"stride": 2, "padding": 1}),
    ("conv2d D2 64->128 14->7", "conv2d", (B, 64, 14, 14), (128, 64, 4, 4), {"stride": 2, "padding": 1}),
    ("conv_transpose2d G1 128->64 7->14", "conv_transpose2d", (B, 128, 7, 7), (128, 64, 4, 4),
     {"stride": 2, "padding": 1}),
    ("conv_transpose2d G2 64->1 14->28", "conv_transpose2d", (B, 64, 14, 14), (64, 1, 4, 4),
     {"stride": 2, "padding": 1}),
    ("batch_norm 1d (64, 6272)", "batch_norm", (B, 6272), None, {}),
    ("batch_norm 2d (64, 64, 14, 14)", "batch_norm", (B, 64, 14, 14), None, {}),
    ("batch_norm 2d (64, 128, 7, 7)", "batch_norm", (B, 128, 7, 7), None, {}),
]


def _arrays(case: tuple) -> dict[str, Any]:
    import numpy as np

    name, op, x_shape, w_shape, kw = case
    rng = np.random.default_rng(0)
    f32 = np.float32
    out = {"x": rng.standard_normal(x_shape, dtype=f32)}
    c = x_shape[1]
    if op == "batch_norm":
        out["w"], out["b"] = rng.standard_normal(c, dtype=f32), rng.standard_normal(c, dtype=f32)
    else:
        out["w"] = rng.standard_normal(w_shape, dtype=f32) * 0.02
        out["b"] = rng.standard_normal(w_shape[1] if op == "conv_transpose2d" else w_shape[0], dtype=f32)
    return out


def _grad_like(shape: tuple[int, ...]) -> Any:
    """The same fixed d(loss)/dy for both libraries."""
    import numpy as np

    return np.random.default_rng(1).standard_normal(shape, dtype=np.float32)


def _minigan_case(case: tuple, backend_name: str) -> tuple[Any, Any, Any]:
    """(forward, forward_backward, sync) closures for minigan."""
    import minigan
    from minigan import functional as F

    minigan.use(backend_name)
    name, op, _, _, kw = case
    a = _arrays(case)
    x, w, b = (minigan.tensor(a[k], requires_grad=True) for k in ("x", "w", "b"))
    c = a["x"].shape[1]
    rm, rv = minigan.zeros(c), minigan.ones(c)

    def forward() -> Any:
        if op == "batch_norm":
            return F.batch_norm(x, rm, rv, w, b, training=True)
        return getattr(F, op)(x, w, b, **kw)

    g = {}

    def forward_backward() -> None:
        y = forward()
        if "g" not in g:
            g["g"] = minigan.tensor(_grad_like(y.shape))
        x.grad = w.grad = b.grad = None
        y.backward(g["g"])

    return forward, forward_backward, minigan.backend.current().synchronize


def _torch_case(case: tuple, device: str) -> tuple[Any, Any, Any]:
    import torch
    import torch.nn.functional as TF

    name, op, _, _, kw = case
    a = _arrays(case)
    x, w, b = (torch.tensor(a[k], device=device, requires_grad=True) for k in ("x", "w", "b"))
    c = a["x"].shape[1]
    rm, rv = torch.zeros(c, device=device), torch.ones(c, device=device)

    def forward() -> Any:
        if op == "batch_norm":
            return TF.batch_norm(x, rm, rv, w, b, training=True)
        return getattr(TF, op)(x, w, b, **kw)

    g = {}

    def forward_backward() -> None:
        y = forward()
        if "g" not in g:
            g["g"] = torch.tensor(_grad_like(tuple(y.shape)), device=device)
        x.grad = w.grad = b.grad = None
        y.backward(g["g"])

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    return forward, forward_backward, sync


def worker(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Time every case for one library in this (fresh) process."""
    results = []
    if job["lib"] == "torch":
        import torch

        torch.set_num_threads(job["threads"])
    for case in CASES:
        if job["lib"] == "minigan":
            fwd, fwd_bwd, sync = _minigan_case(case, job["backend"])
        else:
            fwd, fwd_bwd, sync = _torch_case(case, "cuda" if job["backend"] == "cupy" else "cpu")
        results.append({
            "forward": harness.median_ms(fwd, job["iters"], job["warmup"], sync),
            "fwd_bwd": harness.median_ms(fwd_bwd, job["iters"], job["warmup"], sync),
        })
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default: 1 2)")
    p.add_argument("--iters", type=int, default=30, help="timed calls, median reported (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    p.add_argument("--rounds", type=int, default=2,
                   help="repeat the measurement this many times, alternating libraries; report the best (default 2)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "cupy"])
    p.add_argument("--quick", action="store_true", help="one call, no warm-up, first thread count only")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    torch_ok = harness.settle_args(args)
    if torch_ok is None:
        return 2
    script = os.path.abspath(__file__)
    load_before = harness.load_average()
    rows = []

    def best(a: list | None, b: list) -> list:
        return b if a is None else [{k: min(x[k], y[k]) for k in x} for x, y in zip(a, b)]

    for threads in args.threads:
        job = {"iters": args.iters, "warmup": args.warmup, "backend": args.backend, "threads": threads}
        ours = theirs = None
        for _ in range(args.rounds):
            ours = best(ours, harness.run_worker(script, {**job, "lib": "minigan"}, threads))
            if torch_ok:
                theirs = best(theirs, harness.run_worker(script, {**job, "lib": "torch"}, threads))
        theirs = theirs or [None] * len(CASES)
        for case, o, t in zip(CASES, ours, theirs):
            rows.append([case[0], threads, o["forward"], t and t["forward"], t and o["forward"] / t["forward"],
                         o["fwd_bwd"], t and t["fwd_bwd"], t and o["fwd_bwd"] / t["fwd_bwd"]])
    where = "CuPy vs PyTorch CUDA" if args.backend == "cupy" else "NumPy vs PyTorch CPU"
    print(f"### DCGAN layers at batch {B}, minigan ({where}), milliseconds\n")
    print(harness.markdown_table(["op", "threads", "minigan fwd", "torch fwd", "ratio", "minigan fwd+bwd",
                                  "torch fwd+bwd", "ratio"], rows))
    print()
    print(f"- median of {args.iters} calls after {args.warmup} warm-up calls, each library in a fresh process "
          "with OMP/OPENBLAS/MKL_NUM_THREADS (and torch.set_num_threads) = threads; float32; the best of "
          f"{args.rounds} rounds that alternate the libraries.")
    print(f"- machine load (1-minute load average) before / after: {load_before} / {harness.load_average()}.")
    if args.quick:
        print("- --quick: one cold call each: a check that the script runs, not a result.")
    if not torch_ok:
        print("- PyTorch columns are empty: torch is not installed (pip install -e '.[bench]') or --no-torch.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
