GOALS = """After this lesson you can:
- say what a discriminative model p(y|x) and a generative model p(x|y) each learn, and which one can draw samples;
- fit both on the same 1-D labelled data (a logistic classifier by gradient descent on the binary cross-entropy
  H(y, p) = -(y log p + (1 - y) log(1 - p)), a Gaussian per class by counting);
- turn a generative model into a posterior p(y|x) with Bayes' rule;
- write a generator x = G(z, y) that maps noise z (and a label y) to a sample: one label, many samples.
"""

# %% [markdown]
# # Lesson 01: generative vs discriminative models
#
# We have pairs (x, y): a measurement x and a label y in {0, 1}. Two questions can be asked of them.
#
# * **Discriminative**: given x, which label? A model of p(y | x). It draws a boundary; it cannot
#   produce an x.
# * **Generative**: given the label, what do the x's look like? A model of p(x | y) (and p(y)).
#   It describes the *whole distribution* of x's for each label, so it can *draw* new x's.
#
# A GAN is a generative model: its generator G takes random noise z (and, in a conditional GAN,
# a label y) and returns a sample x = G(z, y). Fixing y and drawing many z gives many different
# x's: a label names a distribution, not one image.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import losses, optim

args = lesson_setup(1, "Generative vs discriminative models", GOALS,
                    exercises=["sum-to", "sigmoid", "bce", "adam"])
OUT = out_dir(1)
N = 400 if args.quick else 4000
STEPS = 800 if args.quick else 1000  # w still grows after 200 steps; 800 are cheap on 400 points

# %% [markdown]
# ## The data: a class-conditional Gaussian mixture in 1-D
#
# p(y = 1) = 0.4; x | y=0 ~ N(-1.0, 0.8²) and x | y=1 ~ N(1.5, 0.5²). We know the truth here,
# so we can check what each model learns.

# %%
rng = np.random.default_rng(args.seed)
TRUE = {0: (-1.0, 0.8), 1: (1.5, 0.5)}
P1 = 0.4
y_np = (rng.random(N) < P1).astype(np.int64)
x_np = np.where(y_np == 1, rng.normal(TRUE[1][0], TRUE[1][1], N), rng.normal(TRUE[0][0], TRUE[0][1], N))
x_np = x_np.astype(np.float32)
print(f"x: {x_np.shape} {x_np.dtype}, y: {y_np.shape}; {int(y_np.sum())} of {N} have y = 1")
pause()

# %% [markdown]
# ## The discriminative model: logistic regression, p(y=1 | x) = σ(w x + b)
#
# Two numbers, w and b, fitted by minimising the **binary cross-entropy** (BCE) with minigan's
# autograd and Adam. The cross-entropy of a prediction q against a target distribution p is
# H(p, q) = -Σ_k p_k log q_k. With two classes the target is the label, (y, 1 - y), and the
# prediction is (p, 1 - p) with p = σ(l) the model's P(y = 1 | x), l = w x + b its logit:
#
#     H(y, p) = -(y log p + (1 - y) log(1 - p))
#
# It is -log of the probability the model gave the right label: small when p is near y, large when
# the model is confidently wrong. The BCE of a data set is its mean over the pairs, and minimising
# it is maximum likelihood for p(y | x). Every GAN loss in these lessons is this H, so later lessons
# refer back here. `losses.bce_with_logits(l, y)` computes mean(softplus(l) - l y), the same number
# written stably from the logit (no log of a σ that rounded to 0).

# %%
x_t = minigan.tensor(x_np.reshape(-1, 1))
y_t = minigan.tensor(y_np.reshape(-1, 1).astype(np.float32))
w = minigan.zeros(1, 1, requires_grad=True)
b = minigan.zeros(1, requires_grad=True)
opt = optim.Adam([w, b], lr=0.05)
for step in range(STEPS):
    logits = x_t @ w + b
    loss = losses.bce_with_logits(logits, y_t)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % (STEPS // 4) == 0 or step == STEPS - 1:
        print(f"  step {step:4d}  BCE {loss.item():.4f}  w {w.item():+.3f}  b {b.item():+.3f}")
w_fit, b_fit = w.item(), b.item()
print(f"logistic boundary p(y=1|x) = 1/2 at x = {-b_fit / w_fit:+.3f}")
pause()

# %% [markdown]
# ## The generative model: one Gaussian per class, fitted by counting
#
# The maximum-likelihood fit of N(μ_y, σ_y²) is the class's sample mean and standard deviation;
# p(y) is the class's share. Bayes' rule then gives the classifier for free:
#
#     p(y=1 | x) = p(x | 1) p(1) / (p(x | 0) p(0) + p(x | 1) p(1))

# %%
fit = {k: (float(x_np[y_np == k].mean()), float(x_np[y_np == k].std())) for k in (0, 1)}
prior1 = float(y_np.mean())
for k in (0, 1):
    print(f"  class {k}: true N({TRUE[k][0]:+.2f}, {TRUE[k][1]:.2f}²)  fitted N({fit[k][0]:+.3f}, {fit[k][1]:.3f}²)")
print(f"  p(y=1): true {P1}, fitted {prior1:.3f}")
# How far counting may land from the truth: 4 standard errors (mean σ/√n, std σ/√(2n), share √(p(1-p)/N)).
n_k = {k: int((y_np == k).sum()) for k in (0, 1)}
off = max(max(abs(fit[k][0] - TRUE[k][0]) / (TRUE[k][1] / np.sqrt(n_k[k])),
              abs(fit[k][1] - TRUE[k][1]) / (TRUE[k][1] / np.sqrt(2 * n_k[k]))) for k in (0, 1))
off = max(off, abs(prior1 - P1) / np.sqrt(P1 * (1 - P1) / N))
check(off < 4, "counting recovers the true class distributions: every fitted mean, std and p(y=1) within "
      "4 standard errors of the truth", f"largest error {off:.1f} standard errors, from {N} points")


def gauss(x: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


grid = np.linspace(-4, 4, 400)
joint0 = gauss(grid, *fit[0]) * (1 - prior1)
joint1 = gauss(grid, *fit[1]) * prior1
post_gen = joint1 / (joint0 + joint1)
post_disc = 1 / (1 + np.exp(-(w_fit * grid + b_fit)))


def posterior(x: np.ndarray, params: dict, p1: float) -> np.ndarray:
    """p(y=1 | x) by Bayes' rule from N(μ_y, σ_y²) per class and p(y=1) = p1."""
    j0, j1 = gauss(x, *params[0]) * (1 - p1), gauss(x, *params[1]) * p1
    return j1 / (j0 + j1)


# "Where the data is": averaged over the data's own x's, as the BCE averages.
gap_models = np.abs(posterior(x_np, fit, prior1) - 1 / (1 + np.exp(-(w_fit * x_np + b_fit)))).mean()
gap_true = np.abs(posterior(x_np, fit, prior1) - posterior(x_np, TRUE, P1)).mean()
print(f"|p_gen(y=1|x) - p_logistic(y=1|x)|: mean {gap_models:.4f} over the data's x's, "
      f"max {np.abs(post_gen - post_disc).max():.3f} on the grid [-4, 4]")
print("(the Gaussian model's unequal variances bend its posterior; σ(wx+b) cannot bend, and where the data is,"
      " it need not)")
check(gap_models < 0.02, "where the data is, Bayes on the generative model gives the same p(y=1|x) as the "
      "logistic classifier", f"mean gap {gap_models:.4f} over the {N} x's, margin 0.02")
check(gap_true < 0.02, "Bayes on the fitted Gaussians is close to the true posterior p(y=1|x) where the data is",
      f"mean gap {gap_true:.4f} over the {N} x's, margin 0.02")

fig = Figure(figsize=(11, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax1, ax2 = fig.subplots(1, 2)
for k, color in ((0, "tab:blue"), (1, "tab:orange")):
    ax1.hist(x_np[y_np == k], bins=40, density=True, alpha=0.4, color=color, label=f"data, y={k}")
    ax1.plot(grid, gauss(grid, *fit[k]), color=color, lw=2, label=f"fitted p(x|y={k})")
ax1.set_title("generative: p(x | y), one Gaussian per class")
ax1.set_xlabel("x")
ax1.legend(fontsize=8)
ax2.plot(grid, post_disc, lw=2, label="logistic σ(wx+b)  (discriminative)")
ax2.plot(grid, post_gen, lw=2, ls="--", label="Bayes on the Gaussians  (generative)")
ax2.scatter(x_np[:200], y_np[:200] + rng.normal(0, 0.02, min(N, 200)), s=5, c="gray", alpha=0.5, label="data (y)")
ax2.set_title("p(y=1 | x) from both models")
ax2.set_xlabel("x")
ax2.legend(fontsize=8)
path = OUT / "generative_vs_discriminative.png"
show(fig, path)
pause()

# %% [markdown]
# ## A generator: noise (+ label) in, sample out
#
# The fitted generative model is also a *sampler*: G(z, y) = μ_y + σ_y z with z ~ N(0, 1).
# The same label y with M different z's gives M different x's whose histogram is p(x | y).
# The logistic model has nothing to sample from: it only knows p(y | x).
# A GAN learns a G like this one, but with a neural network in place of μ_y + σ_y z, and without
# ever writing down a density.

# %%
M = 500 if args.quick else 5000


def G(z: minigan.Tensor, y: int) -> minigan.Tensor:
    mu, sd = fit[y]
    return mu + sd * z


fig = Figure(figsize=(6, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
for k, color in ((0, "tab:blue"), (1, "tab:orange")):
    z = minigan.randn(M)
    xs = G(z, k).numpy()
    print(f"  G(z, y={k}) for {M} draws of z: mean {xs.mean():+.3f}, std {xs.std():.3f}, "
          f"first five {np.round(xs[:5], 2)}")
    mu, sd = fit[k]
    # 4 standard errors again: the sample mean of M draws is off by σ/√M, the sample std by σ/√(2M).
    check(abs(xs.mean() - mu) < 4 * sd / np.sqrt(M) and abs(xs.std() - sd) < 4 * sd / np.sqrt(2 * M),
          f"G(z, y={k}) has the class's mean and std: one label, many different samples",
          f"mean {xs.mean():+.3f} vs μ_{k} {mu:+.3f}, std {xs.std():.3f} vs σ_{k} {sd:.3f}, {M} draws")
    ax.hist(xs, bins=50, density=True, alpha=0.5, color=color, label=f"G(z, y={k}), {M} z's")
    ax.plot(grid, gauss(grid, *TRUE[k]), color=color, lw=1.5, ls=":", label=f"true p(x|y={k})")
ax.set_title("one label, many samples: G(z, y) = μ_y + σ_y z")
ax.set_xlabel("x")
ax.legend(fontsize=8)
path = OUT / "one_label_many_samples.png"
show(fig, path)

# %% [markdown]
# **Question 1.1.** Near the data the two models give the same p(y=1 | x), but not far from it. Which
# one is right far out, and why does the logistic fit not care?
#
# BEGIN ANSWER
# With the true densities, log p(x|1)p(1) - log p(x|0)p(0) = -(x - μ_1)²/2σ_1² + (x - μ_0)²/2σ_0² + const is
# *quadratic* in x, because σ_0 ≠ σ_1; σ(w x + b) has a linear log-odds and cannot follow it. The Gaussian model
# has the right family here, so Bayes on it follows the truth, including that p(y=1 | x) turns back towards 0
# far to the right (class 0 is wider: its tail eventually wins; with the lesson's constants, beyond x ≈ 5.7).
# The logistic fit minimises the BCE *averaged over the data*, so a region with almost no x's costs almost
# nothing whatever it predicts there. The generative model is only as right as its family: had the classes not
# been Gaussian, its posterior could be confidently wrong where the logistic one is merely linear.
# END ANSWER
#
# **Question 1.2.** Bayes' rule turned p(x | y) into p(y | x). Could you go the other way, and sample x's
# from the logistic classifier?
#
# BEGIN ANSWER
# No. p(y | x) = p(x | y) p(y) / p(x) needs p(x), which the classifier never modelled: every p(x) (and so
# many different p(x | y)) gives the same posterior, e.g. moving the data's x's around without crossing the
# boundary changes nothing the classifier predicts. To sample x you need a model of x itself: p(x | y) and p(y)
# as here, or a generator G(z, y) as a GAN learns.
# END ANSWER

# %%
done("a discriminative model answers 'which y?', a generative one can also answer 'show me an x'.")
