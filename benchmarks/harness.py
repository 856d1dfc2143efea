"""How the benchmarks measure: one fresh Python process per measurement, a fixed thread count.

Why a fresh process:

* Threads. NumPy's BLAS (OpenBLAS or MKL) reads ``OPENBLAS_NUM_THREADS`` /
  ``MKL_NUM_THREADS`` / ``OMP_NUM_THREADS`` once, when it is loaded, and
  ``threadpoolctl`` (which could change it later) is not a dependency. So each
  thread count runs in a child process whose environment sets all of them before
  NumPy or PyTorch is imported; PyTorch also gets ``torch.set_num_threads``.
* Memory. "Peak memory of a training iteration" is read from the operating
  system, the same way for both libraries (``tracemalloc`` would see NumPy's
  arrays but not PyTorch's): the resident-set high-water mark (VmHWM) minus the
  resident set once the models, optimizers and data batch exist. A fresh process
  per (library, model, thread count) keeps one measurement's allocations out of
  the next one's baseline.

The child is the same script, called with ``--worker '<json>'``; it prints one
line of JSON, which the parent reads back.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def settle_args(args: Any) -> bool | None:
    """Shared command-line handling of both scripts: --quick shrinks the run to one iteration on
    the first thread count; returns whether PyTorch is compared, or None (after saying why) when
    --backend cupy cannot run here."""
    if args.quick:
        args.iters, args.warmup, args.rounds, args.threads = 1, 0, 1, args.threads[:1]
    if args.backend == "cupy":
        from minigan import backend

        if not backend.cupy_available():
            print("--backend cupy needs CuPy and a CUDA device: pip install -e '.[cuda]' on a GPU machine.")
            return None
    return not args.no_torch and have_torch()


def thread_env(threads: int) -> dict[str, str]:
    """The current environment with every BLAS/OpenMP thread count set to ``threads``."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    # The children import minigan and the benchmarks from this checkout.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def run_worker(script: str, job: Any, threads: int, timeout: float = 900.0) -> Any:
    """Run ``script --worker <job>`` in a fresh process with ``threads`` threads; its JSON answer.

    ``job`` is a dict (one measurement) or a list of them (run one after the other in one process).
    """
    proc = subprocess.run([sys.executable, script, "--worker", json.dumps(job)], env=thread_env(threads),
                          capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("{", "["))]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark worker {job} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def timed_training(cmd: Sequence[str], out: Any) -> float:
    """Run one training command with one BLAS thread (unless OMP_NUM_THREADS says otherwise) and write
    ``out/cpu.json``: its user CPU seconds (as time(1)'s %U) and the command. Returns the seconds.

    CPU time, unlike wall time, barely moves when other jobs share the machine.
    """
    print("$", " ".join(cmd[1:]), flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    subprocess.run(list(cmd), check=True, env=thread_env(int(os.environ.get("OMP_NUM_THREADS", "1"))),
                   stdout=subprocess.DEVNULL)
    seconds = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before
    with open(os.path.join(out, "cpu.json"), "w") as f:
        json.dump({"train_cpu_seconds": seconds, "command": list(cmd[1:])}, f)
    return seconds


def have_torch() -> bool:
    """Whether PyTorch can be imported (the ``bench`` extra)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --------------------------------------------------------------------------- memory


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def rss_mib() -> float:
    """The resident set now, MiB (Linux /proc; elsewhere the high-water mark)."""
    kib = _status_kib("VmRSS")
    return (kib if kib is not None else _maxrss_kib()) / 1024


def peak_rss_mib() -> float:
    """The resident-set high-water mark of this process so far, MiB."""
    kib = _status_kib("VmHWM")
    return (kib if kib is not None else _maxrss_kib()) / 1024


def _maxrss_kib() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


def reset_peak_rss() -> None:
    """Start the high-water mark again from the current resident set (Linux >= 4.0; elsewhere a no-op)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def load_average() -> str:
    """The 1-minute load average as text ("?" where the OS does not say): other work slows every timing."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "?"


# --------------------------------------------------------------------------- timing


def median_ms(step: Callable[[], Any], iters: int, warmup: int, sync: Callable[[], Any] = lambda: None) -> float:
    """Median wall-clock milliseconds of ``step()`` over ``iters`` calls, after ``warmup`` calls.

    ``sync`` waits for a GPU to finish, so that the clock reads finished work.
    """
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(max(1, iters)):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    times.sort()
    mid = len(times) // 2
    return 1000.0 * (times[mid] if len(times) % 2 else 0.5 * (times[mid - 1] + times[mid]))


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """The machine's float32 matrix-product rate in this process, GFLOP/s: the best of ``repeats``
    NumPy (n, n) @ (n, n) products, 2 n^3 floating-point operations each."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm up the BLAS threads
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


# --------------------------------------------------------------------------- output


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats with 2 decimals (or 3 below 1), None as a dash."""

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 1 else f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
