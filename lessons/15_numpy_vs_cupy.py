GOALS = """After this lesson you can:
- switch minigan between the CPU and a CUDA GPU with one call, minigan.use("numpy") / minigan.use("cupy"),
  and say what it changes (where new arrays are made) and what it does not (the code of every op);
- check whether this machine has a GPU backend (minigan.backend.cupy_available()) and read the one-sentence
  error that names the fix when it does not;
- time the same code on both backends correctly (synchronize before reading the clock, warm up first):
  a matmul sweep, a convolution forward + backward, a few DCGAN steps;
- check that both backends compute the same numbers in float64, from the same seed.
"""

# %% [markdown]
# # Lesson 15: NumPy vs CuPy, one switch, two machines
#
# Every op in minigan asks its *arrays* which library they belong to
# (`backend.get_array_module(a, b)` gives `numpy` or `cupy`) and calls that library's function of
# the same name: `xp.matmul`, `xp.exp`, ... CuPy copies NumPy's API on the GPU, so the same line
# runs on both. Only code that *creates* arrays (weights, noise, data batches) must know where to
# put them, and it asks `minigan.current()`, which `minigan.use(name)` sets. All random numbers
# are drawn on the host by one NumPy generator and copied over, so a seed gives the same weights
# and the same z on either side.

# %%
import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import backend, models, optim
from minigan.gan import GAN

args = lesson_setup(15, "NumPy vs CuPy: one switch, two machines", GOALS)
OUT = out_dir(15)
SIZES = [64, 128, 256, 512] if args.quick else [64, 128, 256, 512, 1024, 2048]
CONV_BATCH = 16 if args.quick else 64
DCGAN_WIDTH = 16 if args.quick else 64
GAN_STEPS = 2 if args.quick else 5
REPEATS = 3 if args.quick else 5

# %% [markdown]
# ## Which backends does this machine have?
#
# `cupy_available()` is True when CuPy imports and sees a CUDA device. Asking for a backend the
# machine cannot give raises `BackendError` with one sentence that says what to install; we catch
# it and go on with NumPy alone.

# %%
backends = ["numpy"]
try:
    minigan.use("cupy")
    backends.append("cupy")
    print(f"cupy: available, {backend.current().xp.cuda.runtime.getDeviceCount()} CUDA device(s)")
except minigan.BackendError as e:
    print(f"cupy: not available on this machine, timing NumPy only ({e})")
minigan.use("numpy")
x = minigan.randn(2, 3)
print(f"minigan.use('numpy'): minigan.current() = {minigan.current()}, a new tensor's array is "
      f"{type(x.data).__module__}.{type(x.data).__name__}, get_array_module says "
      f"{backend.get_array_module(x.data).__name__}")
pause()

# %% [markdown]
# ## Timing a GPU honestly
#
# A CuPy call returns as soon as its kernel is *queued*; the GPU works on while Python moves on.
# A clock read right after the call measures the queueing, not the work. So: call
# `minigan.current().synchronize()` (wait for the device; a no-op on the CPU) before reading the
# clock, and run once before timing, since the first call of a kernel compiles or loads it.
# We report the median of a few runs.

# %%
def median_seconds(fn: Callable[[], Any], repeats: int = REPEATS) -> float:
    """Median wall time of fn() over ``repeats`` runs after one warm-up, waiting for the device each time."""
    sync = minigan.current().synchronize
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def workload(name: str, dtype: Any, sizes: list[int], conv_batch: int, width: int, steps: int,
             timed: bool) -> dict[str, Any]:
    """The lesson's code, run on backend ``name``: a matmul per size, a conv forward + backward, DCGAN steps.

    Returns the results (host arrays, for comparing backends) and, if ``timed``, the median times.
    """
    minigan.use(name)
    out: dict[str, Any] = {"matmul_s": [], "matmul": []}
    with minigan.no_grad():
        for n in sizes:
            minigan.manual_seed(args.seed)
            a, b = minigan.randn(n, n, dtype=dtype), minigan.randn(n, n, dtype=dtype)
            out["matmul"].append((a @ b).numpy())
            if timed:
                out["matmul_s"].append(median_seconds(lambda a=a, b=b: a @ b))
    # One DCGAN discriminator layer: Conv2d(64, 128, 4, stride 2, padding 1) on (N, 64, 14, 14).
    minigan.manual_seed(args.seed)
    xc = minigan.randn(conv_batch, 64, 14, 14, dtype=dtype, requires_grad=True)
    wc = (minigan.randn(128, 64, 4, 4, dtype=dtype) * 0.02).requires_grad_()
    bc = minigan.zeros(128, dtype=dtype, requires_grad=True)

    def conv_forward_backward() -> minigan.Tensor:
        xc.grad = wc.grad = bc.grad = None
        y = minigan.conv2d(xc, wc, bc, stride=2, padding=1)
        (y * y).mean().backward()
        return y

    out["conv"] = conv_forward_backward().numpy()
    out["conv_grad_w"] = wc.grad.numpy()
    if timed:
        out["conv_s"] = median_seconds(conv_forward_backward)
    # A few steps of the DCGAN game on one fixed batch of random "images".
    minigan.manual_seed(args.seed)
    G, D = models.dcgan(width=width)
    if dtype == np.float64:
        G.double()
        D.double()
    gan = GAN(G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
              optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    images = np.random.default_rng(args.seed).uniform(-1, 1, (64, 1, 28, 28)).astype(dtype)
    batches = itertools.repeat(minigan.tensor(images))
    out["losses"] = [gan.train_step(batches) for _ in range(steps)]
    if timed:
        out["gan_step_s"] = median_seconds(lambda: gan.train_step(batches), repeats=steps)
    minigan.manual_seed(args.seed + 1)
    out["samples"] = gan.generate(gan.sample_z(8)).numpy()
    return out


pause()

# %% [markdown]
# ## The same code, timed on each backend (float32)
#
# float32 is what training uses, and what GPUs are fast at. The matmul sweep shows where each
# side wins: small products are dominated by the fixed cost of a call (Python, and on the GPU a
# kernel launch, some microseconds), large ones by arithmetic, where a GPU's thousands of cores
# pull ahead. n × n times n × n costs 2n³ floating-point operations.
#
# Measured on the machine this lesson was written on (one CPU core, `OMP_NUM_THREADS=1`, no GPU, other
# jobs running): n = 2048 in 116 ms (148 GFLOP/s), the conv forward + backward at batch 64 in 38 ms,
# one DCGAN step (width 64, batch 64) in 183 ms. No GPU was available there: the CuPy column and the
# agreement check below were run only with NumPy posing as CuPy (to check the code path), never on a GPU.

# %%
timings = {}
for name in backends:
    t0 = time.perf_counter()
    timings[name] = workload(name, np.float32, SIZES, CONV_BATCH, DCGAN_WIDTH, GAN_STEPS, timed=True)
    print(f"{name}: timed in {time.perf_counter() - t0:.1f} s")
print(f"{'':10s}" + "".join(f"{n:>12d}" for n in SIZES) + "   (matmul n × n @ n × n: ms, GFLOP/s)")
for name in backends:
    ms = np.array(timings[name]["matmul_s"]) * 1e3
    gflops = 2 * np.array(SIZES, dtype=float) ** 3 / (ms * 1e-3) / 1e9
    print(f"{name:10s}" + "".join(f"{m:9.3f} ms" for m in ms))
    print(f"{'':10s}" + "".join(f"{g:9.1f} GF" for g in gflops))
for name in backends:
    r = timings[name]
    print(f"{name}: conv2d forward + backward on ({CONV_BATCH}, 64, 14, 14): {r['conv_s'] * 1e3:.1f} ms;  "
          f"one DCGAN step (width {DCGAN_WIDTH}, batch 64): {r['gan_step_s'] * 1e3:.1f} ms")
if "cupy" in timings:
    for key, what in (("conv_s", "conv2d"), ("gan_step_s", "DCGAN step")):
        print(f"speed-up of cupy over numpy, {what}: {timings['numpy'][key] / timings['cupy'][key]:.1f}x")
    print(f"speed-up of cupy over numpy, matmul n = {SIZES[-1]}: "
          f"{timings['numpy']['matmul_s'][-1] / timings['cupy']['matmul_s'][-1]:.1f}x")

fig = Figure(figsize=(11, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax1, ax2 = fig.subplots(1, 2)
colors = {"numpy": "tab:blue", "cupy": "tab:green"}
for name in backends:
    ax1.loglog(SIZES, np.array(timings[name]["matmul_s"]) * 1e3, "o-", color=colors[name], label=name)
ax1.set_xscale("log", base=2)
ax1.set_xticks(SIZES, [str(n) for n in SIZES])
ax1.set_xlabel("n  (an n × n @ n × n float32 product)")
ax1.set_ylabel("median time (ms)")
ax1.set_title("matmul sweep")
ax1.legend()
labels = [f"conv2d fwd+bwd\n({CONV_BATCH}, 64, 14, 14)", f"DCGAN step\n(width {DCGAN_WIDTH}, batch 64)"]
for i, name in enumerate(backends):
    values = [timings[name]["conv_s"] * 1e3, timings[name]["gan_step_s"] * 1e3]
    bars = ax2.bar(np.arange(2) + i * 0.38, values, width=0.36, color=colors[name], label=name)
    ax2.bar_label(bars, [f"{v:.1f} ms" for v in values], fontsize=8)
ax2.set_xticks(np.arange(2) + 0.19 * (len(backends) - 1), labels)
ax2.set_ylabel("median time (ms)")
ax2.set_title("a layer and a training step" + ("" if "cupy" in backends else " (no GPU here: NumPy only)"))
ax2.legend()
path = OUT / "timings.png"
show(fig, path)
pause()

# %% [markdown]
# ## Do both backends compute the same numbers?
#
# Speed means nothing if the answers differ. Run the same workload in float64 (small sizes) on
# both backends from the same seed and compare everything it produced: the products, the conv's
# output and weight gradient, every loss of the DCGAN steps and G's samples afterwards. The two
# libraries add numbers in different orders (different BLAS, GPU reductions in parallel), so
# "the same" means equal to float64 rounding, about 1e-12 relative, not bit for bit.

# %%
if "cupy" in backends:
    check = {name: workload(name, np.float64, [64, 256], 8, 8, 3, timed=False) for name in backends}
    a, b = check["numpy"], check["cupy"]
    worst = {
        "matmul": max(np.abs(p - q).max() / np.abs(p).max() for p, q in zip(a["matmul"], b["matmul"])),
        "conv output": np.abs(a["conv"] - b["conv"]).max() / np.abs(a["conv"]).max(),
        "conv weight gradient": np.abs(a["conv_grad_w"] - b["conv_grad_w"]).max() / np.abs(a["conv_grad_w"]).max(),
        "GAN losses": max(abs(p[k] - q[k]) / max(abs(p[k]), 1e-12)
                          for p, q in zip(a["losses"], b["losses"]) for k in ("d_loss", "g_loss")),
        "G's samples after 3 steps (in [-1, 1])": np.abs(a["samples"] - b["samples"]).max(),
    }
    for what, err in worst.items():
        print(f"  float64, numpy vs cupy, largest relative difference in {what}: {err:.1e}")
    agree = max(worst.values()) < 1e-9
    print(f"both backends agree to float64 rounding: {agree}")
else:
    print("float64 agreement check skipped: it needs both backends, and this machine has NumPy only.")
minigan.use("numpy")
speedup = ""
if "cupy" in timings:
    speedup = f"; cupy ran a DCGAN step {timings['numpy']['gan_step_s'] / timings['cupy']['gan_step_s']:.1f}x faster"
done(f"timed {', '.join(backends)} on a matmul sweep, a conv and {GAN_STEPS} DCGAN steps{speedup}.")
