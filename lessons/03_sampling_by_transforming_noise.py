GOALS = """After this lesson you can:
- push simple noise (uniform, normal) through a function and predict the histogram that comes out;
- sample any 1-D distribution by its inverse CDF: x = F^-1(u), u ~ U(0, 1);
- learn the function instead: train a small MLP G so that G(z), z ~ N(0, 1), matches data,
  with the 1-D optimal-transport loss mean((sort G(z) - sort x)^2) and minigan's autograd;
- compare G with the two monotone maps that do the job, F^-1(Φ(z)) and its mirror F^-1(Φ(-z)).
"""

# %% [markdown]
# # Lesson 03: sampling by transforming noise
#
# A generator does not store a density. It stores a *function*: draw z from something easy
# (uniform, normal), return x = G(z). The distribution of x, the "push-forward" of p_z by G,
# can be far more complicated than p_z. A GAN's job is to find a G whose push-forward is p_data.

# %%
import math

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import nn, optim

args = lesson_setup(3, "Sampling by transforming noise", GOALS,
                    exercises=["linear-backward", "adam"])
OUT = out_dir(3)
N = 5000 if args.quick else 50000

# %% [markdown]
# ## Three push-forwards
#
# 1. u ~ U(0, 1) through x = -log(1 - u) / λ: the inverse CDF of the exponential distribution
#    (F(x) = 1 - e^{-λx}), so x ~ Exp(λ). Any 1-D distribution can be sampled this way.
# 2. z ~ N(0, 1) through x = tanh(2z): mass piles up near ±1 where tanh flattens.
# 3. z ~ N(0, 1) through x = z + 3·sign(z): one bump split into two.

# %%
u = minigan.rand(N).numpy()
z = minigan.randn(N).numpy()
lam = 1.5
x_exp = -np.log1p(-u) / lam
x_tanh = np.tanh(2 * z)
x_split = z + 3 * np.sign(z)
print(f"u ~ U(0,1): mean {u.mean():.3f} (1/2);  -log(1-u)/λ: mean {x_exp.mean():.3f} (1/λ = {1 / lam:.3f})")
# Exp(λ) has mean and std 1/λ, so the sample mean of N draws is off by about 1/(λ√N).
check(abs(x_exp.mean() - 1 / lam) < 4 / (lam * math.sqrt(N)), "-log(1-u)/λ has the exponential's mean 1/λ",
      f"mean {x_exp.mean():.4f} vs {1 / lam:.4f}, within 4 standard errors ({4 / (lam * math.sqrt(N)):.4f})")
# |tanh(2z)| > 0.9 exactly when |z| > atanh(0.9)/2: a share 2(1 - Φ(atanh(0.9)/2)) we can compute.
share_tanh = 2 * (1 - 0.5 * (1 + math.erf(math.atanh(0.9) / 2 / math.sqrt(2))))
seen_tanh = float(np.mean(np.abs(x_tanh) > 0.9))
check(abs(seen_tanh - share_tanh) < 4 * math.sqrt(share_tanh * (1 - share_tanh) / N),
      "tanh(2z) piles mass near ±1 as predicted: P(|x| > 0.9) = 2(1 - Φ(atanh(0.9)/2))",
      f"{seen_tanh:.1%} of the samples vs {share_tanh:.1%} predicted")
print(f"z + 3 sign(z): mean {x_split.mean():+.3f}, {np.mean(np.abs(x_split) < 1):.1%} within |1|")
check(np.all(np.abs(x_split) >= 3) and abs(np.mean(x_split > 0) - 0.5) < 4 * 0.5 / math.sqrt(N),
      "z + 3 sign(z) splits one bump into two: no sample in (-3, 3), half on each side",
      f"min |x| {np.abs(x_split).min():.3f}, {np.mean(x_split > 0):.1%} positive")

fig = Figure(figsize=(12, 3.6), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
axes = fig.subplots(1, 3)
grid = np.linspace(0, 5, 200)
axes[0].hist(x_exp, bins=60, range=(0, 5), density=True, alpha=0.6, label="-log(1-u)/λ, u ~ U(0,1)")
axes[0].plot(grid, lam * np.exp(-lam * grid), "k", lw=1.5, label=f"Exp(λ={lam}) density")
axes[0].set_title("inverse CDF: uniform -> exponential")
axes[1].hist(z, bins=60, density=True, alpha=0.4, label="z ~ N(0,1)")
axes[1].hist(x_tanh, bins=60, density=True, alpha=0.6, label="tanh(2z)")
axes[1].set_title("normal through tanh")
axes[2].hist(z, bins=60, density=True, alpha=0.4, label="z ~ N(0,1)")
axes[2].hist(x_split, bins=60, density=True, alpha=0.6, label="z + 3 sign(z)")
axes[2].set_title("one bump becomes two")
for ax in axes:
    ax.legend(fontsize=8)
path = OUT / "push_forward.png"
show(fig, path)
pause()

# %% [markdown]
# ## Learning the function
#
# Data: a mixture 0.3·N(-2, 0.4²) + 0.7·N(1.5, 0.6²). G is an MLP 1 -> 32 -> 32 -> 1 from
# `minigan.nn`. How do we tell G its samples are wrong without a density? In 1-D there is an
# exact answer: sort a batch of G(z) and a batch of real x; the i-th smallest fake should sit
# at the i-th smallest real. The loss
#
#     L = mean_i (sort(G(z))_i - sort(x)_i)^2
#
# is the squared 1-D Wasserstein-2 (optimal transport) distance between the two batches.
# Sorting only reorders, so autograd passes gradients straight through it.
# (This trick does not scale to images; that is what the discriminator of lesson 04 is for.)

# %%
rng = np.random.default_rng(args.seed)
W_MIX, MU, SD = np.array([0.3, 0.7]), np.array([-2.0, 1.5]), np.array([0.4, 0.6])


def sample_data(n: int) -> np.ndarray:
    k = rng.choice(2, size=n, p=W_MIX)
    return (MU[k] + SD[k] * rng.standard_normal(n)).astype(np.float32)


def mixture_pdf(x: np.ndarray) -> np.ndarray:
    return sum(w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi)) for w, m, s in zip(W_MIX, MU, SD))




def w1_1d(a: np.ndarray, b: np.ndarray) -> float:
    """The 1-D Wasserstein-1 distance of two equal-size samples: mean |sort a - sort b|."""
    return float(np.abs(np.sort(a) - np.sort(b)).mean())


G = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
opt = optim.Adam(G.parameters(), lr=3e-3)
with minigan.no_grad():
    w1_before = w1_1d(G(minigan.randn(N, 1)).numpy()[:, 0], sample_data(N))
STEPS = 400 if args.quick else 3000
BATCH = 256 if args.quick else 512
losses_seen = []
for step in range(STEPS):
    z_b = minigan.randn(BATCH, 1)
    fake = G(z_b)
    order = np.argsort(fake.numpy()[:, 0])  # the permutation that sorts G(z); indexing is differentiable
    real_sorted = minigan.tensor(np.sort(sample_data(BATCH)).reshape(-1, 1))
    loss = ((fake[order] - real_sorted) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses_seen.append(loss.item())
    if step % (STEPS // 5) == 0 or step == STEPS - 1:
        print(f"  step {step:5d}  W2^2 batch loss {loss.item():.4f}")
pause()

# %% [markdown]
# ## What G learned
#
# The increasing map from N(0, 1) to the mixture is its quantile function F^-1(Φ(z)) (the
# inverse-CDF trick again, composed with the normal CDF Φ: Φ(z) ~ U(0, 1)). But the loss only
# compares *sorted* batches, that is distributions, and -z ~ N(0, 1) as well: the decreasing
# map F^-1(Φ(-z)) pushes N(0, 1) to the same mixture and is just as good. Which of the two G
# drifts to depends on its random start; the run prints which one it found, and the figure
# compares G with that one. Last, the histogram of G(z) against the data's density.

# %%
with minigan.no_grad():
    z_test = minigan.randn(N, 1)
    x_gen = G(z_test).numpy()[:, 0]
x_real = sample_data(N)
print(f"data:   mean {x_real.mean():+.3f} std {x_real.std():.3f}  share below 0 {np.mean(x_real < 0):.3f}")
print(f"G(z):   mean {x_gen.mean():+.3f} std {x_gen.std():.3f}  share below 0 {np.mean(x_gen < 0):.3f}")
w1_after = w1_1d(x_gen, x_real)
check(w1_after < w1_before / 5, "training moved G's samples onto the data: their W1 distance fell at least 5x",
      f"W1(G(z), data) {w1_before:.3f} untrained -> {w1_after:.3f} after {STEPS} steps")

xg = np.linspace(-4, 4, 2001)
cdf = np.cumsum(mixture_pdf(xg))
cdf /= cdf[-1]
zg = np.linspace(-3, 3, 200)


def quantile_map(z: np.ndarray, direction: int) -> np.ndarray:
    """F^-1(Φ(±z)): the increasing (direction +1) or decreasing (-1) map from N(0, 1) to the mixture."""
    phi = np.array([0.5 * (1 + math.erf(direction * v / math.sqrt(2))) for v in z])
    return np.interp(phi, cdf, xg)


z_np = z_test.numpy()[:, 0]
direction = 1 if np.corrcoef(z_np, x_gen)[0, 1] > 0 else -1
err = {d: float(np.abs(x_gen - quantile_map(z_np, d)).mean()) for d in (1, -1)}
which = "F^-1(Φ(z)), increasing" if direction == 1 else "F^-1(Φ(-z)), decreasing"
print(f"G learned the map {which}: mean |G(z) - F^-1(Φ(z))| {err[1]:.3f}, "
      f"mean |G(z) - F^-1(Φ(-z))| {err[-1]:.3f}, over {N} z ~ N(0, 1)")
check(err[direction] < 0.25 and err[-direction] > 1.0,
      "G is close to one of the two monotone maps F^-1(Φ(±z)) and far from the other",
      f"mean |G(z) - map| {err[direction]:.3f} for the one it learned, {err[-direction]:.3f} for the mirror")
with minigan.no_grad():
    g_curve = G(minigan.tensor(zg.reshape(-1, 1).astype(np.float32))).numpy()[:, 0]

fig = Figure(figsize=(12, 3.8), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
a1, a2, a3 = fig.subplots(1, 3)
a1.hist(x_gen, bins=80, range=(-4, 4), density=True, alpha=0.6, color="tab:purple", label="G(z), z ~ N(0,1)")
a1.plot(xg, mixture_pdf(xg), color="tab:green", lw=2, label="p_data")
a1.set_title("samples of the trained G")
a1.legend(fontsize=8)
a2.plot(zg, quantile_map(zg, direction), color="tab:green", lw=3, alpha=0.6,
        label="F^-1(Φ(z))" if direction == 1 else "F^-1(Φ(-z)) (the mirror map)")
a2.plot(zg, quantile_map(zg, -direction), color="tab:green", lw=1, ls=":", alpha=0.8, label="the other monotone map")
a2.plot(zg, g_curve, color="tab:purple", lw=1.5, label="G(z) learned")
a2.set_xlabel("z")
a2.set_title("the map from noise to data")
a2.legend(fontsize=8, loc="upper left" if direction == 1 else "upper right")  # the empty corner
a3.plot(losses_seen, lw=0.8)
a3.set_yscale("log")
a3.set_xlabel("step")
a3.set_title("mean (sort G(z) - sort x)^2")
path = OUT / "learned_map.png"
show(fig, path)

# %% [markdown]
# **Question 3.1.** Two students train the same G with different seeds; one gets an increasing map, the other a
# decreasing one. Whose G is better, and why can the loss not decide?
#
# BEGIN ANSWER
# Neither: both push N(0, 1) to the same distribution. z ~ N(0, 1) and -z ~ N(0, 1) have the same law, so
# G(z) and G(-z) have the same law for any G, and the loss, which sorts the batches, sees only the law of G(z):
# it compares the sorted fakes with the sorted data, never which z made which fake. (Far more maps than these two
# have zero expected loss, e.g. any rearrangement of F^-1(Φ(z)) that preserves N(0, 1).) A GAN's loss is the same:
# D judges only the samples, so which z gives which x is never pinned down, and two runs need not agree.
# END ANSWER
#
# **Question 3.2.** Between the two modes, near x = -0.5, the data has almost no mass. Look at G's curve in
# the middle panel where it crosses that gap. Why can a continuous G not jump over it, and what does it do?
#
# BEGIN ANSWER
# A continuous G maps the connected line of z's to a connected set: to reach both modes it must pass through
# every x in between, so some interval of z lands in the gap. The best G makes that interval as short as it
# can, a steep stretch of the curve near Φ(z) = 0.3 (z ≈ -0.52, or +0.52 for the mirror map), and a few samples
# still fall in the gap. An MLP of tanh units can be steep but not infinitely so. Generators of images face
# the same problem between distinct modes (digits, say): they leave a thin bridge of implausible samples.
# END ANSWER

# %%
done("a generator is a learned function from easy noise to hard data.")
