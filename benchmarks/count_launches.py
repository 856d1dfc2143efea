"""Kernel launches per GAN training iteration (one D step + one G step): minigan on CuPy beside PyTorch on CUDA.

    python benchmarks/count_launches.py                     # a GPU: CUDA kernels counted by CUPTI
    python benchmarks/count_launches.py --standin           # no GPU: device calls on the strict stand-in
    python benchmarks/count_launches.py --models dcgan mlp --iters 5 --warmup 3 --out DIR

The iteration is bench_train.py's (``minigan_iteration`` and ``torch_iteration``: the same
networks, weights, batch and optimizer), run ``--warmup`` times untimed (CuPy compiles its
kernels on first use, PyTorch picks its algorithms), then ``--iters`` times under
``torch.profiler`` with ``ProfilerActivity.CUDA``. CUPTI records every kernel the process
launches, CuPy's and cuBLAS's included, not only PyTorch's. Each iteration runs inside a
``record_function("iteration i")`` window and ends with a device synchronisation, so a kernel
belongs to the window its start time falls in; the total over all windows divided by
``--iters`` is printed beside it as a check. Memory copies and memsets are counted apart.

Where there is no CUDA (or with ``--standin``) minigan's iteration runs on the strict CuPy
stand-in (``tests/strict_cupy.py``) and what is counted is its ``record.ops``: calls into the
device library per iteration. Label: "device calls (stand-in)", a proxy for launches that
errs high: views (reshape, transpose, slicing) count though they launch nothing, and a call
that launches more than one kernel counts once. On a GPU both figures are printed, so the
proxy can be read against the real count.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_train, harness  # noqa: E402

STANDIN_LABEL = "device calls (stand-in), an upper-bound proxy for launches"
CUPTI_LABEL = "CUDA kernels (CUPTI, torch.profiler)"


# --------------------------------------------------------------------------- on a GPU: CUPTI through torch.profiler


def cuda_ready() -> tuple[bool, str]:
    """(True, "") when torch sees CUDA and minigan's cupy backend (real CuPy) has a device; else why not."""
    try:
        import torch
    except ImportError:
        return False, "torch is not installed"
    if not torch.cuda.is_available():
        return False, "torch sees no CUDA device"
    from minigan import backend

    if not backend.cupy_available():
        return False, "CuPy sees no CUDA device"
    if getattr(backend._load_cupy(), "__name__", "") == "strict_cupy":
        return False, "the device module is the strict stand-in"
    return True, ""


def _count_trace(trace: dict[str, Any], iters: int) -> dict[str, Any]:
    """Kernels, memcpys and memsets per "iteration i" window of a chrome trace (Kineto's export)."""
    events = trace.get("traceEvents", trace if isinstance(trace, list) else [])
    windows = sorted((ev["ts"], ev["ts"] + ev.get("dur", 0), ev["name"]) for ev in events
                     if str(ev.get("cat", "")).lower() == "user_annotation"
                     and str(ev.get("name", "")).startswith("iteration "))
    kinds = {"kernel": "kernels", "gpu_memcpy": "memcpy", "gpu_memset": "memset"}
    per = [collections.Counter() for _ in windows]
    totals: collections.Counter = collections.Counter()
    names: collections.Counter = collections.Counter()
    outside = 0
    for ev in events:
        kind = kinds.get(str(ev.get("cat", "")).lower())
        if kind is None:
            continue
        totals[kind] += 1
        if kind == "kernels":
            names[ev.get("name", "?")] += 1
        for i, (t0, t1, _) in enumerate(windows):
            if t0 <= ev["ts"] <= t1:
                per[i][kind] += 1
                break
        else:
            outside += 1
    return {"windows": len(windows), "per_iteration": [dict(c) for c in per],
            "mean_total": {k: totals[k] / iters for k in kinds.values()}, "outside_windows": outside,
            "top_kernels": [(n, c / iters) for n, c in names.most_common(15)]}


def profile_iterations(step: Any, sync: Any, iters: int, warmup: int, cuda: bool = True,
                       trace_path: Path | None = None) -> dict[str, Any]:
    """Run ``step`` ``warmup`` times, then ``iters`` times under torch.profiler; the counts per iteration."""
    from torch.profiler import ProfilerActivity, profile, record_function

    for _ in range(warmup):
        step()
    sync()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for i in range(iters):
            with record_function(f"iteration {i}"):
                step()
                sync()
    with tempfile.TemporaryDirectory() as tmp:
        path = trace_path or Path(tmp) / "trace.json"
        prof.export_chrome_trace(str(path))
        trace = json.loads(Path(path).read_text())
    return _count_trace(trace, iters)


# --------------------------------------------------------------------------- no GPU: the strict stand-in


def standin_counts(model: str, iters: int, warmup: int) -> list[dict[str, int]]:
    """record.counts() of each of ``iters`` iterations of minigan's on the strict stand-in."""
    sys.path.insert(0, str(ROOT / "tests"))
    import strict_cupy

    import minigan
    from minigan import backend

    try:
        with backend.device_module(strict_cupy):  # nests harmlessly under tests/run_on_standin.py
            step, sync = bench_train.minigan_iteration(model, "cupy")
            for _ in range(warmup):
                step()
            sync()
            per = []
            for _ in range(iters):
                strict_cupy.record.reset()
                step()
                per.append(strict_cupy.record.counts())  # before our own sync: minigan's syncs only
                sync()
    finally:
        minigan.use("numpy")
    return per


# --------------------------------------------------------------------------- the table


def _spread(values: list[float]) -> str:
    """"n" when every iteration counted the same, else "median (min-max)"."""
    if not values:
        return "-"
    lo, hi, med = min(values), max(values), statistics.median(values)
    fmt = (lambda v: f"{v:g}") if all(float(v).is_integer() for v in values) else (lambda v: f"{v:.1f}")
    return fmt(med) if lo == hi else f"{fmt(med)} ({fmt(lo)}-{fmt(hi)})"


def cupti_row(lib: str, model: str, r: dict[str, Any]) -> list[str]:
    per = r["per_iteration"]
    col = (lambda k: _spread([c.get(k, 0) for c in per])) if per else (lambda k: f"{r['mean_total'][k]:g}")
    return [model, lib, CUPTI_LABEL, col("kernels"), f"{r['mean_total']['kernels']:g}", col("memcpy"), col("memset"),
            "-", "-", "-"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="+", default=["dcgan"], choices=sorted(bench_train.BATCH))
    p.add_argument("--iters", type=int, default=5, help="iterations counted (default 5)")
    p.add_argument("--warmup", type=int, default=3, help="iterations run first, not counted (default 3)")
    p.add_argument("--standin", action="store_true", help="count device calls on the strict stand-in only")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch's twin out")
    p.add_argument("--require-cuda", action="store_true",
                   help="exit 3 when the CUDA count cannot be taken (the stand-in's figure is still printed)")
    p.add_argument("--out", help="also write launches.md and launches.json (and the traces with --keep-trace) here")
    p.add_argument("--keep-trace", action="store_true", help="write each profiled run's chrome trace to --out")
    args = p.parse_args(argv)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    ready, why = (False, "--standin") if args.standin else cuda_ready()
    rows, notes, figures, status = [], [], {}, 0
    if ready:
        import torch

        torch.zeros(1, device="cuda")  # torch's CUDA context (CuPy's too: both use the primary one) before profiling
        torch.cuda.synchronize()
    elif args.require_cuda:
        status = 3
        notes.append(f"--require-cuda: no CUDA count taken ({why}); exit 3")
    for model in args.models:
        if ready:
            for lib in ["minigan (CuPy)"] + ([] if args.no_torch else ["PyTorch (CUDA)"]):
                trace = out / f"trace-{model}-{'minigan' if lib.startswith('minigan') else 'torch'}.json" \
                    if out and args.keep_trace else None
                try:
                    if lib.startswith("minigan"):
                        step, sync = bench_train.minigan_iteration(model, "cupy")
                    else:
                        step, sync = bench_train.torch_iteration(model, "cuda", 1)
                    r = profile_iterations(step, sync, args.iters, args.warmup, cuda=True, trace_path=trace)
                except Exception as e:  # one failure must not hide the other figures
                    print(f"{model} {lib}: profiling failed: {type(e).__name__}: {e}", flush=True)
                    rows.append([model, lib, CUPTI_LABEL, "failed", "-", "-", "-", "-", "-", "-"])
                    status = 1
                    continue
                figures[f"{model} {lib}"] = r
                rows.append(cupti_row(lib, model, r))
                if r["windows"] != args.iters or r["outside_windows"]:
                    notes.append(f"{model} {lib}: {r['windows']} iteration windows found for {args.iters} "
                                 f"iterations, {r['outside_windows']} GPU events outside them (see the total "
                                 "column)")
                print(f"\n{model} {lib}: most launched kernels, per iteration:", flush=True)
                for name, n in r["top_kernels"]:
                    print(f"  {n:7.1f}  {name[:120]}")
                if lib.startswith("minigan") and r["mean_total"]["kernels"] == 0:
                    notes.append(f"{model}: CUPTI saw no CuPy kernel: the count above is not a launch count")
                    status = 1
        per = standin_counts(model, args.iters, args.warmup)
        figures[f"{model} minigan (stand-in)"] = per
        rows.append([model, "minigan (stand-in)", STANDIN_LABEL, _spread([c["ops"] for c in per]), "-", "-", "-",
                     _spread([c["to_device"] for c in per]), _spread([c["to_host"] for c in per]),
                     _spread([c["syncs"] for c in per])])
    head = ["model", "library", "what is counted", "per iteration", "mean (all events / iters)", "memcpy",
            "memset", "host->device", "device->host", "syncs"]
    title = f"### Launches per training iteration (D step + G step), after {args.warmup} warm-up iterations, " \
            f"{args.iters} counted\n"
    lines = [title, harness.markdown_table(head, rows), ""]
    lines.append(f"- batch: {', '.join(f'{m} {bench_train.BATCH[m]}' for m in args.models)}; the iteration is "
                 "bench_train.py's (noise drawn on the host and copied over each step).")
    if not ready:
        lines.append(f"- no CUDA count: {why}. The stand-in's figure counts calls into the device library; views "
                     "count though they launch nothing, and a call that launches several kernels counts once.")
    else:
        lines.append("- CUPTI counts every kernel in the process (CuPy, cuBLAS, PyTorch); the syncs column is "
                     "the stand-in's: synchronisations minigan's iteration asks for itself.")
    lines += [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if out:
        (out / "launches.md").write_text(text)
        (out / "launches.json").write_text(json.dumps(figures, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
