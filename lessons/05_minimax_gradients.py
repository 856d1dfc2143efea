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
# D(x) = σ(l(x)) is a probability, l the logit. D's half is exactly the binary cross-entropy of
# lesson 04 with a minus sign: maximising V over D = minimising `losses.d_loss`.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import losses, nn, optim

args = lesson_setup(5, "The minimax objective and its gradients by hand", GOALS)
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
for eps in (0.5, -0.5):
    for name, h in (("1", np.ones_like(xs)), ("x", xs), ("sin 3x", np.sin(3 * xs))):
        print(f"  V(σ(l* {eps:+.1f}·{name:6s})) = {value(1 / (1 + np.exp(-(logit_star + eps * h)))):+.5f}  < V(D*)")

D = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
opt = optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
for step in range(STEPS):
    real = minigan.tensor(rng.normal(MU_DATA, SD_DATA, (BATCH, 1)).astype(np.float32))
    fake = minigan.tensor(rng.normal(MU_G, SD_G, (BATCH, 1)).astype(np.float32))
    loss = losses.d_loss(D(real), D(fake))
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % (STEPS // 4) == 0 or step == STEPS - 1:
        print(f"  step {step:5d}  d_loss {loss.item():.4f}  (-V; its minimum is -V(D*) = {-value(d_star):.4f})")
with minigan.no_grad():
    d_trained = minigan.sigmoid(D(minigan.tensor(xs[:, None].astype(np.float32)))).numpy()[:, 0]
mass = (xs > -3) & (xs < 2.5)
print(f"max |σ(D(x)) - D*(x)| on [-3, 2.5], where the samples are: {np.abs(d_trained - d_star)[mass].max():.3f}")
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
# `minigan.losses` has each by hand as `<loss>_grad`; `minigan.grad` gives autograd's.

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
print(f"largest |by hand - autograd| over all four: {worst:.2e}")
assert worst < 1e-10, "the hand-derived gradients disagree with autograd"
pause()

# %% [markdown]
# ## Saturation: the gradient G gets, against D(G(z))
#
# G can only change f = D's logit on its fakes. Per sample (N = 1), with D = σ(f):
#
#     minimax:        ∂/∂f log(1 - σ(f))  = -σ(f)     = -D       → 0 as D(G(z)) → 0
#     non-saturating: ∂/∂f [-log σ(f)]    = σ(f) - 1  = D - 1    → -1 as D(G(z)) → 0
#
# Early in training D easily rejects the fakes, D(G(z)) ≈ 0: exactly there the minimax loss gives G
# almost no gradient, while the non-saturating loss gives it the most. Both vanish only where
# they should not matter (same fixed point, D = 1/2 is reached from both). We evaluate the
# by-hand gradients on a grid of D(G(z)) values in (0, 1).

# %%
d_vals = np.linspace(0.001, 0.999, 999)
f_vals = np.log(d_vals) - np.log1p(-d_vals)  # the logit that gives D(G(z)) = d
g_minimax = losses.g_loss_minimax_grad(f_vals) * f_vals.size  # undo the mean's 1/N: per-sample gradient
g_nonsat = losses.g_loss_nonsaturating_grad(f_vals) * f_vals.size
for d in (0.001, 0.01, 0.1, 0.5, 0.9):
    i = int(np.argmin(np.abs(d_vals - d)))
    print(f"  D(G(z)) = {d_vals[i]:.3f}: minimax ∂/∂f {g_minimax[i]:+.4f}   non-saturating ∂/∂f {g_nonsat[i]:+.4f}")

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
done("D* = p_data / (p_data + p_g); ∂L/∂l = σ(l) - y; use the non-saturating loss for G.")
