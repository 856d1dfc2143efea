GOALS = """After this lesson you can:
- switch minigan between the CPU and a CUDA GPU with one call, minigan.use("numpy") / minigan.use("cupy"),
  and say what it changes (where new arrays are made) and what it does not (the code of every op);
- check whether this machine has a GPU backend (minigan.backend.cupy_available()) and read the one-sentence
  error that names the fix when it does not;
- time the same code on both backends correctly (synchronize before reading the clock, warm up first):
  a matmul sweep, a convolution forward + backward, a few DCGAN steps;
- check that both backends compute the same numbers in float64, from the same seed (where a GPU is present),
  and that on one backend a seed fixes every number.
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
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import backend, optim
from minigan.gan import GAN, models

args = lesson_setup(15, "NumPy vs CuPy: one switch, two machines", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "im2col", "conv-transpose", "d-step", "g-step"])
OUT = out_dir(15)
SIZES = [8, 64, 256, 512] if args.quick else [8, 64, 256, 512, 1024, 2048]
CONV_BATCH = 16 if args.quick else 64
DCGAN_WIDTH = 16 if args.quick else 64
GAN_STEPS = 2 if args.quick else 5
REPEATS = 3 if args.quick else 5

# %% [markdown]
# ## Which backends does this machine have?
#
# `cupy_available()` is True when CuPy imports and sees a CUDA device. Asking for a backend the
# machine cannot give raises `BackendError` with one sentence that says what to install; we catch
# it and go on with NumPy alone. A name minigan does not know (`"cuda"` is a common slip: the backend
# is named after the array library) raises it too.

# %%
backends = ["numpy"]
messages = {}
print(f"backend.cupy_available(): {backend.cupy_available()}")
try:
    minigan.use("cupy")
    backends.append("cupy")
    runtime = backend.current().xp.cuda.runtime
    name = runtime.getDeviceProperties(0)["name"]
    print(f"cupy: available, {runtime.getDeviceCount()} CUDA device(s); device 0: "
          f"{name.decode() if isinstance(name, bytes) else name}")
except minigan.BackendError as e:
    messages["cupy"] = str(e)
    print("CuPy is not available on this machine: this run times NumPy only, and says so where it matters.")
    print(f"  minigan.use('cupy') -> BackendError: {e}")
try:
    minigan.use("cuda")
except minigan.BackendError as e:
    messages["cuda"] = str(e)
    print(f"  minigan.use('cuda') -> BackendError: {e}")
minigan.use("numpy")


def one_sentence(text: str) -> bool:
    """Ends with a full stop, and no full stop inside is followed by a new sentence ("e.g. `pip" is not)."""
    return text.endswith(".") and re.search(r"[.!?]\s+[A-Z]", text) is None


# The fix: what to install (CuPy missing), or which names to choose from (a name minigan does not know).
check(all(one_sentence(m) and ("install" in m or "choose" in m) for m in messages.values()),
      "a BackendError is one sentence that names the fix",
      "; ".join(f"use({k!r}): {len(m)} characters, one sentence: {one_sentence(m)}" for k, m in messages.items()))
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
    out: dict[str, Any] = {"matmul_s": [], "matmul": [], "matmul_err": []}
    with minigan.no_grad():
        for n in sizes:
            minigan.manual_seed(args.seed)
            a, b = minigan.randn(n, n, dtype=dtype), minigan.randn(n, n, dtype=dtype)
            out["matmul"].append((a @ b).numpy())
            if timed:
                out["matmul_s"].append(median_seconds(lambda a=a, b=b: a @ b))
                # The product that was timed, against NumPy's float64 product of the same inputs on the host.
                ref = a.numpy().astype(np.float64) @ b.numpy().astype(np.float64)
                out["matmul_err"].append(float(np.abs(out["matmul"][-1] - ref).max() / np.abs(ref).max()))
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
# pull ahead. n × n times n × n costs 2n³ floating-point operations, so GFLOP/s = 2n³ / (seconds · 10⁹).
#
# Every number below is this run's, measured on this machine: they change with the machine, with
# `OMP_NUM_THREADS` and with whatever else it is running.

# %%
timings = {}
for name in backends:
    t0 = time.perf_counter()
    timings[name] = workload(name, np.float32, SIZES, CONV_BATCH, DCGAN_WIDTH, GAN_STEPS, timed=True)
    print(f"{name}: timed in {time.perf_counter() - t0:.1f} s")
print(f"{'':10s}" + "".join(f"{n:>12d}" for n in SIZES) + "   (matmul n × n @ n × n: ms, GFLOP/s)")
gflops = {}
for name in backends:
    ms = np.array(timings[name]["matmul_s"]) * 1e3
    gflops[name] = 2 * np.array(SIZES, dtype=float) ** 3 / (ms * 1e-3) / 1e9
    print(f"{name:10s}" + "".join(f"{m:9.3f} ms" for m in ms))
    print(f"{'':10s}" + "".join(f"{g:9.1f} GF" for g in gflops[name]))
for name in backends:
    r = timings[name]
    print(f"{name}: conv2d forward + backward on ({CONV_BATCH}, 64, 14, 14): {r['conv_s'] * 1e3:.1f} ms;  "
          f"one DCGAN step (width {DCGAN_WIDTH}, batch 64): {r['gan_step_s'] * 1e3:.1f} ms")
if "cupy" in timings:
    for key, what in (("conv_s", "conv2d"), ("gan_step_s", "DCGAN step")):
        print(f"speed-up of cupy over numpy, {what}: {timings['numpy'][key] / timings['cupy'][key]:.1f}x")
    print(f"speed-up of cupy over numpy, matmul n = {SIZES[-1]}: "
          f"{timings['numpy']['matmul_s'][-1] / timings['cupy']['matmul_s'][-1]:.1f}x")
for name in backends:
    worst = max(timings[name]["matmul_err"])
    check(worst < 1e-4, f"{name}: every timed float32 product equals NumPy's float64 product to float32 rounding",
          f"largest relative difference {worst:.1e} over n = {', '.join(map(str, SIZES))}")
    g = gflops[name]
    check(g[-1] > 10 * g[0], f"{name}: a call's fixed cost dominates small products: n = {SIZES[-1]} runs at over "
          f"10x the GFLOP/s of n = {SIZES[0]}",
          f"{g[-1]:.1f} vs {g[0]:.2f} GFLOP/s; n = {SIZES[0]} takes {timings[name]['matmul_s'][0] * 1e6:.1f} µs a call")
if "cupy" in timings:
    t_np, t_cp = timings["numpy"]["matmul_s"][-1], timings["cupy"]["matmul_s"][-1]
    # Quick mode's largest product (n = 512) is too small to judge a GPU by: the full run judges n = 2048.
    check(t_cp < t_np, f"the GPU runs the largest product (n = {SIZES[-1]}) faster than NumPy",
          f"cupy {t_cp * 1e3:.3f} ms, numpy {t_np * 1e3:.3f} ms", full_only=True)

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
#
# Without CuPy there is nothing to compare across. What the agreement rests on can still be checked:
# the seed fixes every number. The same float64 workload, run twice on NumPy from the same seed,
# must give the same bits.

# %%
if "cupy" in backends:
    runs = {name: workload(name, np.float64, [64, 256], 8, 8, 3, timed=False) for name in backends}
    a, b = runs["numpy"], runs["cupy"]
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
    check(max(worst.values()) < 1e-9, "NumPy and CuPy agree to float64 rounding from one seed",
          f"largest relative difference {max(worst.values()):.1e} (tolerance 1e-9)")
else:
    print("CuPy is absent, so the NumPy vs CuPy comparison cannot run here; checking one seed on NumPy instead.")
    first, again = (workload("numpy", np.float64, [64, 256], 8, 8, 3, timed=False) for _ in range(2))
    same = (all(np.array_equal(p, q) for p, q in zip(first["matmul"], again["matmul"]))
            and all(np.array_equal(first[k], again[k]) for k in ("conv", "conv_grad_w", "samples"))
            and first["losses"] == again["losses"])
    check(same, "one seed fixes every number: two float64 runs on NumPy agree bit for bit",
          f"products, conv output and weight gradient, {len(first['losses'])} steps' losses and G's samples; "
          f"d_loss of the last step {first['losses'][-1]['d_loss']:.12f} both times")
minigan.use("numpy")

# %% [markdown]
# **Question 15.1.** A student times `y = a @ b` on CuPy for n = 4096, without `synchronize()` and
# without a warm-up, and reports a few microseconds, the same for n = 256. What did they measure? What
# would the first, un-warmed call have added?
#
# BEGIN ANSWER
# The time to queue the work: a CuPy call returns once its kernel is launched, and the GPU computes
# while Python moves on, so the clock was read before the product existed. The launch costs about the
# same for any n, hence the same few microseconds; the real work is paid by whatever waits for the device
# next (`synchronize()`, copying y to the host). The first call also pays one-off costs that later calls do
# not: loading the CUDA libraries and creating the cuBLAS handle, compiling or loading kernels (CuPy
# compiles elementwise and reduction kernels on first use and caches them), and the memory pool's first
# allocations. Time after a warm-up, synchronize before each clock read, and report a median.
# END ANSWER

# %% [markdown]
# **Question 15.2.** Why would float32 runs on NumPy and CuPy drift apart over a few hundred GAN steps
# even from the same seed, while the float64 check above expects agreement to 1e-9?
#
# BEGIN ANSWER
# Both start from the same numbers (the one host generator draws every weight and every z), but the two
# libraries add in different orders (blocked CPU BLAS, parallel GPU reductions), and floating-point
# addition is not associative: each sum differs in its last bits, about 1e-7 relative in float32. Training
# feeds every step's result into the next, and the GAN game amplifies small differences, so after many
# steps the two runs follow visibly different trajectories; neither is wrong. In float64 the per-operation
# difference is about 1e-16 relative, and over a few steps it stays many orders of magnitude below 1e-9,
# while a real bug (a wrong op, a missed copy) shows up as a difference of order 1. So the check runs a
# short float64 workload and compares with a tolerance, not bit for bit.
# END ANSWER

# %%
speedup = ""
if "cupy" in timings:
    speedup = (f"; a DCGAN step took {timings['numpy']['gan_step_s'] * 1e3:.1f} ms on numpy, "
               f"{timings['cupy']['gan_step_s'] * 1e3:.1f} ms on cupy")
done(f"timed {', '.join(backends)} on a matmul sweep, a conv and {GAN_STEPS} DCGAN steps{speedup}.")
