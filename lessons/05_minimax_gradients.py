GOALS = """After this lesson you can:
- write the GAN value function V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))] and say who maximises, who minimises;
- derive the optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x)) and check it numerically on two 1-D
  Gaussians, against a D trained with losses.d_loss;
- derive ∂L/∂l = σ(l) - y for binary cross-entropy on a logit l, and check losses.d_loss_grad,
  g_loss_minimax_grad and g_loss_nonsaturating_grad against autograd (minigan.grad);
- explain why log(1 - D(G(z))) saturates when D rejects the fakes, and why -log D(G(z)) does not.
"""

# %% [markdown]
# # Lesson 05: the minimax objective and its gradients by hand
#
# The GAN game (Goodfellow et al. 2014) is one number that D pushes up and G pushes down:
#
#     min_G max_D V(D, G),   V(D, G) = E_x~p_data[log D(x)] + E_z~p_z[log(1 - D(G(z)))]
#
# D(x) = σ(l(x)) is a probability, l the logit. -V is exactly the discriminator's loss of lesson 04,
# lesson 01's binary cross-entropy H(y, p) with label 1 on real and 0 on fakes:
# -V = E_x[H(1, D(x))] + E_z[H(0, D(G(z)))], so maximising V over D = minimising `losses.d_loss`.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import nn, optim
from minigan.gan import losses

args = lesson_setup(5, "The minimax objective and its gradients by hand", GOALS,
                    exercises=["sigmoid", "minimax-grad", "linear-backward", "adam"])
OUT = out_dir(5)
STEPS = 400 if args.quick else 3000
BATCH = 256 if args.quick else 512
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The optimal discriminator, for a fixed G
#
# For fixed G, write V as one integral over x (p_g is the density of G(z)):
#
#     V = ∫ [ p_data(x) log D(x) + p_g(x) log(1 - D(x)) ] dx
#
# Maximise the integrand point by point: a log y + b log(1 - y) has its maximum at y = a / (a + b), so
#
#     D*(x) = p_data(x) / (p_data(x) + p_g(x)).
#
# Where only real data lives D* = 1, where only fakes live D* = 0, and where the two densities
# are equal D* = 1/2. Take p_data = N(1, 0.5²) and p_g = N(-1, 0.8²).

# %%
MU_DATA, SD_DATA, MU_G, SD_G = 1.0, 0.5, -1.0, 0.8


def normal_pdf(x: np.ndarray, mu: float, sd: float) -> np.ndarray:
    return np.exp(-0.5 * ((x - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))


xs = np.linspace(-4.0, 4.0, 401)
p_data, p_g = normal_pdf(xs, MU_DATA, SD_DATA), normal_pdf(xs, MU_G, SD_G)
d_star = p_data / (p_data + p_g)
for x0 in (-2.0, 0.0, 0.25, 1.0, 2.0):
    i = int(np.argmin(np.abs(xs - x0)))
    print(f"  x = {xs[i]:+.2f}: p_data {p_data[i]:.4f}  p_g {p_g[i]:.4f}  D*(x) {d_star[i]:.4f}")
pause()

# %% [markdown]
# ## Numerically: D* beats every other D, and a trained D finds it
#
# V(D) for D* against D* pushed off in logit space, l*(x) + ε·h(x): every perturbation lowers V.
# Then a small MLP D (1 → 32 → 32 → 1) trained with `losses.d_loss` on samples of the two
# Gaussians should land on the same curve, where there is data to learn from.

# %%
dx = xs[1] - xs[0]


def value(d: np.ndarray) -> float:
    """V(D) = ∫ p_data log D + p_g log(1 - D) dx on the grid."""
    d = np.clip(d, 1e-12, 1 - 1e-12)
    return float(np.sum(p_data * np.log(d) + p_g * np.log(1 - d)) * dx)


logit_star = np.log(p_data) - np.log(p_g)
mix = 0.5 * (p_data + p_g)
jsd = 0.5 * np.sum(p_data * np.log(p_data / mix) + p_g * np.log(p_g / mix)) * dx
print(f"V(D*) = {value(d_star):+.5f};  -log 4 + 2 JSD(p_data, p_g) = {-np.log(4) + 2 * jsd:+.5f}  "
      "(G's best reply makes JSD = 0: V = -log 4)")
# The two agree up to the grid: the sums over [-4, 4] miss the densities' tails (about 1e-4 of p_g's mass).
check(abs(value(d_star) - (-np.log(4) + 2 * jsd)) < 1e-3, "V(D*, G) = -log 4 + 2 JSD(p_data, p_g)",
      f"{value(d_star):+.5f} vs {-np.log(4) + 2 * jsd:+.5f}")
perturbed = {}
for eps in (0.5, -0.5):
    for name, h in (("1", np.ones_like(xs)), ("x", xs), ("sin 3x", np.sin(3 * xs))):
        perturbed[f"l* {eps:+.1f}·{name}"] = v = value(1 / (1 + np.exp(-(logit_star + eps * h))))
        print(f"  V(σ(l* {eps:+.1f}·{name:6s})) = {v:+.5f}")
drop = value(d_star) - max(perturbed.values())
check(drop > 0, "every perturbation of D* lowers V: D* is the best discriminator for this G",
      f"V(D*) {value(d_star):+.5f}; the best of {len(perturbed)} perturbed D's is lower by {drop:.5f}")

D = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
opt = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
print(f"d_loss on a batch estimates -V(D); its expectation is at least -V(D*) = {-value(d_star):.4f}, "
      "though one batch can dip below")
for step in range(STEPS):
    real = minigan.tensor(rng.normal(MU_DATA, SD_DATA, (BATCH, 1)).astype(np.float32))
    fake = minigan.tensor(rng.normal(MU_G, SD_G, (BATCH, 1)).astype(np.float32))
    loss = losses.d_loss(D(real), D(fake))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % (STEPS // 4) == 0 or step == STEPS - 1:
        print(f"  step {step:5d}  d_loss {loss.item():.4f}")
with minigan.no_grad():
    d_trained = minigan.sigmoid(D(minigan.tensor(xs[:, None].astype(np.float32)))).numpy()[:, 0]
mass = (xs > -3) & (xs < 2.5)
gap_d = np.abs(d_trained - d_star)[mass].max()
check(gap_d < 0.1, "an MLP trained with d_loss on samples lands on D*(x) = p_data / (p_data + p_g) where the "
      "samples are", f"max |σ(D(x)) - D*(x)| on [-3, 2.5] {gap_d:.3f} after {STEPS} steps, margin 0.1")
print("(far right, D* falls again: p_g's wider tail overtakes p_data's there; D never saw samples that far out)")

fig = Figure(figsize=(7.5, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
ax.plot(xs, p_data, color="tab:green", label=f"p_data = N({MU_DATA:g}, {SD_DATA:g}²)")
ax.plot(xs, p_g, color="tab:purple", label=f"p_g = N({MU_G:g}, {SD_G:g}²)")
ax.plot(xs, d_star, color="black", linewidth=2, label="D*(x) = p_data / (p_data + p_g)")
ax.plot(xs, d_trained, color="tab:orange", linestyle="--", label=f"σ(D(x)), MLP after {STEPS} steps of d_loss")
ax.axhline(0.5, color="0.6", linewidth=0.8, linestyle=":")
ax.set_xlabel("x")
ax.set_ylabel("density / probability")
ax.set_title("The optimal discriminator for a fixed G")
ax.legend(fontsize=8, loc="upper left")
path = OUT / "optimal_d.png"
show(fig, path)
pause()

# %% [markdown]
# ## ∂L/∂l = σ(l) - y, by hand
#
# Binary cross-entropy on one logit l with label y: L = -y log σ(l) - (1 - y) log(1 - σ(l)).
# Use σ'(l) = σ(l)(1 - σ(l)), so (log σ)' = 1 - σ and (log(1 - σ))' = -σ:
#
#     ∂L/∂l = -y (1 - σ(l)) + (1 - y) σ(l) = σ(l) - y.
#
# The same for every GAN loss on logits r = D(x) (real) and f = D(G(z)) (fake), each a mean over N:
#
#     d_loss = mean softplus(-r) + mean softplus(f)  →  ∂/∂r = (σ(r) - 1)/N_r,   ∂/∂f = σ(f)/N_f
#     g_loss_minimax = mean log(1 - σ(f))            →  ∂/∂f = -σ(f)/N
#     g_loss_nonsaturating = -mean log σ(f)          →  ∂/∂f = (σ(f) - 1)/N
#
# `minigan.gan.losses` has each by hand as `<loss>_grad`; `minigan.grad` gives autograd's.

# %%
r = minigan.tensor(rng.normal(1.0, 2.0, (6, 1)), requires_grad=True)
f = minigan.tensor(rng.normal(-1.0, 2.0, (6, 1)), requires_grad=True)
by_hand_r, by_hand_f = losses.d_loss_grad(r.numpy(), f.numpy())
auto_r, auto_f = minigan.grad(losses.d_loss(r, f), [r, f])
print("d_loss, ∂/∂r   by hand:", np.round(by_hand_r[:, 0], 6))
print("               autograd:", np.round(auto_r.numpy()[:, 0], 6))
print("d_loss, ∂/∂f   by hand:", np.round(by_hand_f[:, 0], 6))
print("               autograd:", np.round(auto_f.numpy()[:, 0], 6))
worst = max(np.abs(by_hand_r - auto_r.numpy()).max(), np.abs(by_hand_f - auto_f.numpy()).max())
for name, loss_fn, grad_fn in (("g_loss_minimax", losses.g_loss_minimax, losses.g_loss_minimax_grad),
                               ("g_loss_nonsaturating", losses.g_loss_nonsaturating,
                                losses.g_loss_nonsaturating_grad)):
    hand = grad_fn(f.numpy())
    (auto,) = minigan.grad(loss_fn(f), [f])
    print(f"{name}, ∂/∂f   by hand:", np.round(hand[:, 0], 6))
    print(" " * (len(name) + 8) + "autograd:", np.round(auto.numpy()[:, 0], 6))
    worst = max(worst, np.abs(hand - auto.numpy()).max())
check(worst < 1e-10, "the by-hand gradients σ(l) - y of d_loss (both halves), g_loss_minimax and "
      "g_loss_nonsaturating equal autograd's", f"largest |by hand - autograd| over all four: {worst:.1e} (float64)")
pause()

# %% [markdown]
# ## Saturation: the gradient G gets, against D(G(z))
#
# G reaches its loss only through f = D's logit on its fakes, so everything G learns passes through
# ∂loss/∂f (then ∂f/∂θ_G by the chain rule). Per sample (N = 1), with D = σ(f) = D(G(z)):
#
#     minimax:        ∂/∂f log(1 - σ(f))  = -σ(f)     = -D       → 0   as D(G(z)) → 0
#     non-saturating: ∂/∂f [-log σ(f)]    = σ(f) - 1  = D - 1    → -1  as D(G(z)) → 0
#
# Both are negative, so G, descending, pushes f up ("look more real") with either loss; they differ
# in how hard. Early in training G is bad and D rejects its fakes with confidence, D(G(z)) ≈ 0:
# that is where G most needs a signal, and there the minimax gradient -D *vanishes* (the loss
# log(1 - D) is flat near D = 0: it saturates), while the non-saturating gradient is at its largest,
# near -1. Their ratio is (1 - D) / D, which grows without bound as D(G(z)) → 0.
#
# The roles swap at the other end: as D(G(z)) → 1 (D fooled) the non-saturating gradient vanishes
# and the minimax one does not, but there G is already winning. At D = 1/2 the two agree (both
# -1/2), and p_g = p_data with D = 1/2 is a fixed point of both games. Below: the by-hand gradients
# on a grid of D(G(z)) values in (0, 1), then on real logits, this lesson's trained D on G's samples.

# %%
d_vals = np.linspace(0.001, 0.999, 999)
f_vals = np.log(d_vals) - np.log1p(-d_vals)  # the logit that gives D(G(z)) = d
g_minimax = losses.g_loss_minimax_grad(f_vals) * f_vals.size  # undo the mean's 1/N: per-sample gradient
g_nonsat = losses.g_loss_nonsaturating_grad(f_vals) * f_vals.size
for d in (0.001, 0.01, 0.1, 0.5, 0.9):
    i = int(np.argmin(np.abs(d_vals - d)))
    print(f"  D(G(z)) = {d_vals[i]:.3f}: minimax ∂/∂f {g_minimax[i]:+.4f}   non-saturating ∂/∂f {g_nonsat[i]:+.4f}")

# Where D confidently rejects the fakes: logits with D(G(z)) = 0.01 and 0.001, gradients by autograd.
f_low = minigan.tensor(np.log([[0.01], [0.001]]) - np.log1p(-np.array([[0.01], [0.001]])), requires_grad=True)
(mm_low,) = minigan.grad(losses.g_loss_minimax(f_low), [f_low])
(ns_low,) = minigan.grad(losses.g_loss_nonsaturating(f_low), [f_low])
ratio_low = np.abs(ns_low.numpy()[:, 0]) / np.abs(mm_low.numpy()[:, 0])
check(np.allclose(ratio_low, [99.0, 999.0], rtol=1e-6),
      "where D(G(z)) is tiny the minimax gradient vanishes: the non-saturating one is (1 - D)/D times larger",
      f"ratio {ratio_low[0]:.1f} at D(G(z)) = 0.01 (99), {ratio_low[1]:.1f} at 0.001 (999)")
# The same on this lesson's fakes: samples of p_g scored by the D trained above (≈ D*, which rejects most).
with minigan.no_grad():
    f_fake = D(minigan.tensor(rng.normal(MU_G, SD_G, (BATCH, 1)).astype(np.float32))).numpy().astype(np.float64)
f_fake = minigan.tensor(f_fake, requires_grad=True)
(mm_fake,) = minigan.grad(losses.g_loss_minimax(f_fake), [f_fake])
(ns_fake,) = minigan.grad(losses.g_loss_nonsaturating(f_fake), [f_fake])
mean_d_fake = float(minigan.sigmoid(f_fake).mean().item())
ratio_fake = float(np.abs(ns_fake.numpy()).sum() / np.abs(mm_fake.numpy()).sum())
check(ratio_fake > 5, "on G's samples, against the trained D, the non-saturating loss gives G a far larger "
      "gradient than the minimax loss", f"mean D(G(z)) {mean_d_fake:.3f}; total |∂/∂f| non-saturating / minimax "
      f"= {ratio_fake:.1f}, over {BATCH} fakes")

fig = Figure(figsize=(11, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(d_vals, np.log1p(-d_vals), color="tab:red", label="minimax: log(1 - D(G(z)))  (G minimises)")
ax1.plot(d_vals, -np.log(d_vals), color="tab:blue", label="non-saturating: -log D(G(z))  (G minimises)")
ax1.set_xlabel("D(G(z))")
ax1.set_ylabel("G's loss per sample")
ax1.set_title("The two generator losses")
ax1.legend(fontsize=8)
ax2.plot(d_vals, g_minimax, color="tab:red", label="minimax: -D(G(z))")
ax2.plot(d_vals, g_nonsat, color="tab:blue", label="non-saturating: D(G(z)) - 1")
ax2.axvspan(0.0, 0.1, color="0.9", label="early training: D rejects the fakes")
ax2.axhline(0.0, color="0.5", linewidth=0.8)
ax2.set_xlabel("D(G(z))")
ax2.set_ylabel("∂ loss / ∂ logit f (per sample)")
ax2.set_title("G's gradient: minimax saturates at D(G(z)) ≈ 0")
ax2.legend(fontsize=8, loc="lower center")
path = OUT / "g_gradients.png"
show(fig, path)

# %% [markdown]
# **Question 5.1.** Why does G's minimax gradient vanish early in training, and what does the non-saturating
# loss change?
#
# BEGIN ANSWER
# Early on G's samples are poor and D rejects them with confidence: f = D's logit on a fake is very negative,
# D(G(z)) = σ(f) ≈ 0. G's gradient reaches θ_G only through ∂loss/∂f, and for log(1 - σ(f)) that is -σ(f), which
# goes to 0 with D(G(z)): the loss is flat there (σ saturates), so the better D gets, the less G learns, exactly
# when G is worst. The non-saturating loss -log σ(f) has ∂/∂f = σ(f) - 1 ≈ -1 there: the largest signal where
# it is needed. It pushes f the same way (up), it is the BCE of the fakes with the label "real" (G asks D to
# call them real rather than asking D to be wrong), and p_g = p_data, D = 1/2 is still a fixed point. What it
# changes is the game: it is no longer zero-sum, and with D = D* G no longer minimises 2 JSD - log 4 but
# KL(p_g ‖ p_data) - 2 JSD (Arjovsky & Bottou, 2017), which punishes fakes off the data more than missed modes.
# END ANSWER
#
# **Question 5.2.** D*(x) needs both densities, but the MLP never saw a density, only samples. Why does it
# land on D* anyway, and where would you expect it not to?
#
# BEGIN ANSWER
# d_loss on batches is a sample estimate of -V(D) = -∫ p_data log D + p_g log(1 - D) dx. Its minimiser over all
# functions is D*, point by point, so a flexible enough D trained on enough samples approaches D* wherever the
# samples put weight on the integral. Where neither density puts mass, the loss does not constrain D at all
# and the MLP extrapolates: here beyond about x = 2.5, where D* turns down again (p_g's wider tail overtakes
# p_data's; D* crosses 1/2 at x ≈ 4.4) while σ(D(x)) stays near 1.
# END ANSWER

# %%
done("D* = p_data / (p_data + p_g); ∂L/∂l = σ(l) - y; use the non-saturating loss for G.")
