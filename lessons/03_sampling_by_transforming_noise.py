GOALS = """After this lesson you can:
- push simple noise (uniform, normal) through a function and predict the histogram that comes out;
- sample any 1-D distribution by its inverse CDF: x = F^-1(u), u ~ U(0, 1);
- learn the function instead: train a small MLP G so that G(z), z ~ N(0, 1), matches data,
  with the 1-D optimal-transport loss mean((sort G(z) - sort x)^2) and minigan's autograd.
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
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import nn, optim

args = lesson_setup(3, "Sampling by transforming noise", GOALS)
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
print(f"tanh(2z): {np.mean(np.abs(x_tanh) > 0.9):.0%} of samples beyond |0.9|")
print(f"z + 3 sign(z): mean {x_split.mean():+.3f}, {np.mean(np.abs(x_split) < 1):.1%} within |1|")

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


G = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
opt = optim.Adam(G.parameters(), lr=3e-3)
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
# The best monotone map from N(0, 1) to the mixture is its quantile function F^-1(Φ(z)) (the
# inverse-CDF trick again, composed with the normal CDF Φ). We plot G next to it, and the
# histogram of G(z) against the data's density.

# %%
with minigan.no_grad():
    z_test = minigan.randn(N, 1)
    x_gen = G(z_test).numpy()[:, 0]
x_real = sample_data(N)
print(f"data:   mean {x_real.mean():+.3f} std {x_real.std():.3f}  share below 0 {np.mean(x_real < 0):.3f}")
print(f"G(z):   mean {x_gen.mean():+.3f} std {x_gen.std():.3f}  share below 0 {np.mean(x_gen < 0):.3f}")

xg = np.linspace(-4, 4, 2001)
cdf = np.cumsum(mixture_pdf(xg))
cdf /= cdf[-1]
zg = np.linspace(-3, 3, 200)
phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in zg])
quantile_map = np.interp(phi, cdf, xg)
with minigan.no_grad():
    g_curve = G(minigan.tensor(zg.reshape(-1, 1).astype(np.float32))).numpy()[:, 0]

fig = Figure(figsize=(12, 3.8), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
a1, a2, a3 = fig.subplots(1, 3)
a1.hist(x_gen, bins=80, range=(-4, 4), density=True, alpha=0.6, color="tab:purple", label="G(z), z ~ N(0,1)")
a1.plot(xg, mixture_pdf(xg), color="tab:green", lw=2, label="p_data")
a1.set_title("samples of the trained G")
a1.legend(fontsize=8)
a2.plot(zg, quantile_map, color="tab:green", lw=3, alpha=0.6, label="F^-1(Φ(z)) (optimal)")
a2.plot(zg, g_curve, color="tab:purple", lw=1.5, label="G(z) learned")
a2.set_xlabel("z")
a2.set_title("the map from noise to data")
a2.legend(fontsize=8)
a3.plot(losses_seen, lw=0.8)
a3.set_yscale("log")
a3.set_xlabel("step")
a3.set_title("mean (sort G(z) - sort x)^2")
path = OUT / "learned_map.png"
show(fig, path)
done("a generator is a learned function from easy noise to hard data.")
