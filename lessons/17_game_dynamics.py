GOALS = """After this lesson you can:
- write the Dirac-GAN (Mescheder, Geiger & Nowozin 2018): data at 0, G(z) = θ, D(x) = ψ·x, and compute the
  gradient field (θ', ψ') of each of the library's losses with minigan's autograd, the trainer's loss
  functions and penalties themselves;
- draw the field as streamlines with simultaneous and alternating gradient steps on top, and check that
  the alternating steps are exactly `GAN.train_step` with SGD;
- compute the game's Jacobian at the equilibrium with `minigan.grad(..., create_graph=True)`, check it
  against its closed form and against central differences, and read its eigenvalues: purely imaginary
  → circling, negative real parts → convergence;
- predict from the eigenvalues of the one-step maps (I + ηJ, and the alternating product) whether a
  step size or k D steps can help, and measure what R1, WGAN-GP, instance noise, a smaller step and
  k D steps each do to the trajectory.
"""

# %% [markdown]
# # Lesson 17: the game's dynamics
#
# Lesson 09 showed gradient play circling the saddle of f(x, y) = x·y. Is that a toy's quirk, or
# does the GAN game itself do it? The smallest GAN there is answers: the **Dirac-GAN** of Mescheder,
# Geiger & Nowozin (2018, "Which training methods for GANs actually converge?").
#
# - The data is one point, x = 0.
# - G has one parameter θ and ignores its noise: G(z) = θ.
# - D has one parameter ψ and is linear: D(x) = ψ·x (its logit, for the losses that read one).
#
# The equilibrium is θ = 0 (G produces the data) and ψ = 0 (D cannot tell them apart and says
# so). Everything here is the library's own code: the losses of `GAN` (`trainer.LOSSES`), its
# `gradient_penalty` and `r1_penalty`, `minigan.grad`, and in one check `GAN.train_step` itself.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.figure import Figure

import minigan
from minigan import optim
from minigan.gan import GAN, gradient_penalty, r1_penalty
from minigan.gan.trainer import LOSSES
from minigan.module import Module, Parameter

args = lesson_setup(17, "The game's dynamics", GOALS,
                    exercises=["sigmoid", "sum-to", "d-step", "g-step", "gradient-penalty"])
OUT = out_dir(17)
F64 = np.float64
ETA = 0.1  # the step of every trajectory below but the "smaller step" one
FIELD_STEPS = 200 if args.quick else 600  # the six fields' trajectories: enough to go round at least once
STEPS = 400 if args.quick else 2000  # the convergence runs
START = (1.0, 1.0)  # (θ, ψ)
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The game and its gradient field
#
# Each player descends its own loss: G's on θ, D's on ψ. The *gradient field* is the pair of
# descent directions
#
#     v(θ, ψ) = ( −∂L_G/∂θ , −∂L_D/∂ψ ),
#
# and simultaneous gradient steps are (θ, ψ) ← (θ, ψ) + η v(θ, ψ). The function below computes
# v with `minigan.grad` for many games at once: P values of θ and ψ, each a row of a (P, 1)
# tensor. The library's losses average over their batch, so each game's loss is P times its share
# of the mean (the games never touch each other's parameters).

# %%


class DiracG(Module):
    """G(z) = θ for every z: one parameter (or P of them, one per game, shape (P, 1))."""

    def __init__(self, theta) -> None:
        super().__init__()
        self.theta = Parameter(minigan.tensor(np.asarray(theta, F64).reshape(-1, 1)).data)  # on the backend

    def forward(self, z):
        return minigan.zeros(z.shape[0], 1, dtype=F64) + self.theta


class DiracD(Module):
    """D(x) = ψ·x: its logit (or critic value) is linear in x."""

    def __init__(self, psi) -> None:
        super().__init__()
        self.psi = Parameter(minigan.tensor(np.asarray(psi, F64).reshape(-1, 1)).data)

    def forward(self, x):
        return x * self.psi


def field(loss, theta, psi, r1=0.0, gp=0.0, noise=None, create_graph=False):
    """v = (−∂L_G/∂θ, −∂L_D/∂ψ) of P games: theta, psi are (P,) arrays or (P, 1) leaf tensors.

    r1: γ of the R1 penalty; gp: λ of WGAN-GP's penalty (both added to D's loss, as the trainer does);
    noise: (ε_real, ε_fake), instance noise: D sees 0 + ε_real and θ + ε_fake, one column per draw.
    """
    th = theta if isinstance(theta, minigan.Tensor) else minigan.tensor(np.asarray(theta, F64).reshape(-1, 1),
                                                                         requires_grad=True)
    D = DiracD(np.zeros(th.shape[0]) if isinstance(psi, minigan.Tensor) else psi)
    if isinstance(psi, minigan.Tensor):
        D.psi = psi
    p = th.shape[0]
    real, fake = minigan.zeros(p, 1, dtype=F64), th
    if noise is not None:
        real = real + minigan.tensor(noise[0][None, :])
        fake = fake + minigan.tensor(noise[1][None, :])
    rule = LOSSES[loss]
    l_d = rule.d(D(real), D(fake)) * p
    if r1:
        l_d = l_d + r1_penalty(D, real, gamma=r1) * p
    if gp:
        l_d = l_d + gradient_penalty(D, real, fake) * (gp * p)
    l_g = rule.g(D(fake)) * p
    (g_psi,) = minigan.grad(l_d, [D.psi], create_graph=create_graph)
    (g_theta,) = minigan.grad(l_g, [th], create_graph=create_graph)
    return -g_theta, -g_psi


def trajectory(loss, steps=STEPS, eta=ETA, start=START, alternating=True, k=1, **kw):
    """(steps + 1, 2) points (θ, ψ). Alternating: k D steps, then one G step against the new D
    (what GAN.train_step does); simultaneous: both players step from the same point."""
    t, p = start
    path = [(t, p)]
    for _ in range(steps):
        if alternating:
            for _ in range(k):
                p = p + eta * field(loss, [t], [p], **kw)[1].item()
            t = t + eta * field(loss, [t], [p], **kw)[0].item()
        else:
            vt, vp = field(loss, [t], [p], **kw)
            t, p = t + eta * vt.item(), p + eta * vp.item()
        path.append((t, p))
    return np.array(path)


def distance(path):
    return np.hypot(path[:, 0], path[:, 1])


GP_LAMBDA = 1.0
PLAIN = {name: {"gp": GP_LAMBDA} if name == "wgan-gp" else {} for name in LOSSES}
print("the library's losses:", ", ".join(PLAIN))
print(f"trajectories: {STEPS} steps of eta = {ETA} from (theta, psi) = {START}; WGAN-GP with lambda = {GP_LAMBDA}")

# %% [markdown]
# First, that the alternating steps of `trajectory` are the trainer's: a `GAN` of `DiracG` and
# `DiracD` with SGD (no momentum) and one real sample, x = 0, takes the same path.

# %%
G, D = DiracG(START[0]), DiracD(START[1])
gan = GAN(G, D, optim.SGD(G.parameters(), lr=ETA), optim.SGD(D.parameters(), lr=ETA), loss="minimax", z_dim=1)
n_check = 50
mine = trajectory("minimax", steps=n_check)
theirs = [START]
for _ in range(n_check):
    gan.train_step(iter([np.zeros((1, 1), dtype=F64)]))
    theirs.append((G.theta.item(), D.psi.item()))
gap = np.abs(mine - np.array(theirs)).max()
print(f"{n_check} alternating steps by hand and by GAN.train_step (minimax, SGD, eta = {ETA}): largest gap {gap:.2e}")
check(gap < 1e-12, "the lesson's alternating steps are GAN.train_step's (d_step, then g_step against the new D)",
      f"largest gap over {n_check} steps {gap:.1e}")
pause()

# %% [markdown]
# ## Six losses, six fields
#
# Streamlines follow v; the red line is simultaneous steps, the blue one alternating steps, both
# from (θ, ψ) = (1, 1). Watch for circling around the equilibrium (0, 0) instead of flowing into it.
# The table after the figure gives each path's distance to (0, 0) at its end. The losses differ
# away from the equilibrium (the non-saturating G loss is not minus D's, so its field is not a pure
# rotation there; LSGAN's D stops learning when θ = 0); the next section looks at them near it.

# %%
grid = np.linspace(-2.0, 2.0, 41)
T, P = np.meshgrid(grid, grid)
paths = {}
fig = Figure(figsize=(13, 8.6))
for i, (name, kw) in enumerate(PLAIN.items()):
    vt, vp = field(name, T.ravel(), P.ravel(), **kw)
    ax = fig.add_subplot(2, 3, i + 1)
    ax.streamplot(T, P, vt.numpy().reshape(T.shape), vp.numpy().reshape(T.shape), color="0.6", density=1.1,
                  linewidth=0.7, arrowsize=0.8)
    paths[name] = {mode: trajectory(name, steps=FIELD_STEPS, alternating=mode == "alternating", **kw)
                   for mode in ("simultaneous", "alternating")}
    for mode, color in (("simultaneous", "tab:red"), ("alternating", "tab:blue")):
        ax.plot(*paths[name][mode].T, color=color, lw=1.1, label=mode)
    ax.plot(0, 0, "k*", ms=10)
    ax.set(xlim=(-2, 2), ylim=(-2, 2), xlabel="θ (G)", ylabel="ψ (D)",
           title=name + (f", λ = {GP_LAMBDA:g}" if kw else ""))
    if i == 0:
        ax.legend(loc="lower left", fontsize=8)
fig.suptitle(f"Dirac-GAN gradient fields; {FIELD_STEPS} steps of η = {ETA} from (1, 1); ★ the equilibrium")
fig.tight_layout()
show(fig, OUT / "fields.png")
print(f"{'loss':14s} {'distance to (0, 0) at the start':>32s} {'simultaneous, end':>18s} {'alternating, end':>17s}")
for name in PLAIN:
    print(f"{name:14s} {distance(paths[name]['simultaneous'])[0]:32.3f} "
          f"{distance(paths[name]['simultaneous'])[-1]:18.3g} {distance(paths[name]['alternating'])[-1]:17.3g}")
pause()

# %% [markdown]
# ## The Jacobian at the equilibrium
#
# Near (0, 0) the field is linear, v ≈ J·(θ, ψ), with J the Jacobian of v. Its eigenvalues λ say
# what the flow dθ/dt = v does: a negative real part pulls in, a positive one pushes out, a purely
# imaginary pair turns round and round. `minigan.grad(..., create_graph=True)` returns v with a
# graph of its own, so differentiating v once more gives J: the second derivatives of the losses.
#
# By hand, with σ the sigmoid and L_D, L_G the library's formulas at x = 0, fake = θ:
#
# - minimax and non-saturating: L_D = softplus(0) + softplus(ψθ), so ψ' = −θσ(ψθ) and θ' = ψσ(∓ψθ):
#   J = [[0, ½], [−½, 0]], eigenvalues ±i/2;
# - WGAN (without its clipping) and hinge (|ψθ| < 1): L_D = ψθ, L_G = −ψθ: J = [[0, 1], [−1, 0]], ±i;
# - LSGAN: L_D = ½ + ½ψ²θ², L_G = ½(ψθ − 1)²: J = [[0, 1], [0, 0]], both eigenvalues 0;
# - with R1 (γ/2 · (∂D/∂x)² = γψ²/2 on the real point) D's row gains −γ: J = [[0, ½], [−½, −γ]];
# - with instance noise (D sees x + ε, E ε² = s²) D's row gains −s²/2: J = [[0, ½], [−½, −s²/2]];
# - WGAN-GP's penalty λ(|ψ| − 1)² has a kink at ψ = 0: there is no Jacobian at the equilibrium
#   (the library's 1e-12 under the square root turns the kink into a slope of about 2λ/10⁻⁶).
#   Its Jacobian is checked at (0, ½) instead, where it is J = [[0, 1], [−1, −2λ]].
#
# The check: autograd's J against this closed form and against central differences of v
# (float64, h = 1e-6).

# %%
R1_GAMMA = 1.0
NOISE_STD = 1.0
eps = rng.standard_normal(64)
eps = np.concatenate([eps, -eps])
eps *= NOISE_STD / np.sqrt((eps ** 2).mean())  # E ε² = s² exactly for this set of draws
NOISE = {"noise": (eps, rng.permutation(eps))}


def jacobian(loss, at=(0.0, 0.0), **kw):
    th = minigan.tensor(np.array([[at[0]]], F64), requires_grad=True)
    ps = Parameter(minigan.tensor(np.array([[at[1]]], F64)).data)
    vt, vp = field(loss, th, ps, create_graph=True, **kw)
    rows = [minigan.grad(minigan.sum(v), [th, ps]) for v in (vt, vp)]
    return np.array([[0.0 if g is None else g.item() for g in row] for row in rows])


def jacobian_numeric(loss, at=(0.0, 0.0), h=1e-6, **kw):
    J = np.zeros((2, 2))
    for j in range(2):
        up, dn = list(at), list(at)
        up[j] += h
        dn[j] -= h
        vu, vd = field(loss, [up[0]], [up[1]], **kw), field(loss, [dn[0]], [dn[1]], **kw)
        J[:, j] = [(vu[i].item() - vd[i].item()) / (2 * h) for i in range(2)]
    return J


CASES = {  # name: (loss, where, the field's extra terms, the closed form)
    "minimax": ("minimax", (0, 0), {}, [[0, 0.5], [-0.5, 0]]),
    "nonsaturating": ("nonsaturating", (0, 0), {}, [[0, 0.5], [-0.5, 0]]),
    "wgan": ("wgan", (0, 0), {}, [[0, 1], [-1, 0]]),
    "hinge": ("hinge", (0, 0), {}, [[0, 1], [-1, 0]]),
    "lsgan": ("lsgan", (0, 0), {}, [[0, 1], [0, 0]]),
    f"minimax + R1 (γ = {R1_GAMMA:g})": ("minimax", (0, 0), {"r1": R1_GAMMA}, [[0, 0.5], [-0.5, -R1_GAMMA]]),
    f"minimax + instance noise (s = {NOISE_STD:g})": ("minimax", (0, 0), NOISE,
                                                      [[0, 0.5], [-0.5, -NOISE_STD ** 2 / 2]]),
    f"wgan-gp (λ = {GP_LAMBDA:g}) at (0, ½)": ("wgan-gp", (0, 0.5), {"gp": GP_LAMBDA},
                                              [[0, 1], [-1, -2 * GP_LAMBDA]]),
}
jac, worst_closed, worst_numeric = {}, 0.0, 0.0
for name, (loss, at, kw, closed) in CASES.items():
    J = jac[name] = jacobian(loss, at, **kw)
    Jn = jacobian_numeric(loss, at, **kw)
    worst_closed = max(worst_closed, np.abs(J - np.array(closed)).max())
    worst_numeric = max(worst_numeric, np.abs(J - Jn).max())
    lam = np.linalg.eigvals(J)
    print(f"{name:36s} J = [[{J[0, 0]:+.3f}, {J[0, 1]:+.3f}], [{J[1, 0]:+.3f}, {J[1, 1]:+.3f}]]   eigenvalues "
          + ", ".join(f"{z.real:+.3f}{z.imag:+.3f}i" for z in lam)
          + f"   (central differences: gap {np.abs(J - Jn).max():.1e})")
# (WGAN-GP's entries sit about 1e-11 off the closed form: the library's 1e-12 under the square root.)
check(worst_closed < 1e-9, "autograd's Jacobian (minigan.grad with create_graph=True) equals the closed form "
      "for all eight cases", f"largest gap {worst_closed:.1e}")
check(worst_numeric < 1e-7, "... and central differences of the field (float64, h = 1e-6)",
      f"largest gap {worst_numeric:.1e}")
J_gp0 = jacobian("wgan-gp", (0, 0), gp=GP_LAMBDA)
print(f"wgan-gp at (0, 0), through the library's smoothed square root: J[1, 1] = {J_gp0[1, 1]:.4g} "
      "(the kink, smoothed: no equilibrium to linearise about)")
imag = [n for n in ("minimax", "nonsaturating", "wgan", "hinge")
        if np.abs(np.linalg.eigvals(jac[n]).real).max() < 1e-12 and np.abs(np.linalg.eigvals(jac[n]).imag).min() > 0]
check(len(imag) == 4, "minimax, non-saturating, WGAN and hinge have purely imaginary eigenvalues at the "
      "equilibrium: their flow circles it", ", ".join(imag))
stable = [n for n in jac if "R1" in n or "noise" in n if np.linalg.eigvals(jac[n]).real.max() < 0]
check(len(stable) == 2, "R1 and instance noise move both eigenvalues into the left half-plane: the flow "
      "converges", "; ".join(f"{n}: max Re λ = {np.linalg.eigvals(jac[n]).real.max():+.3f}" for n in stable))
pause()

# %% [markdown]
# ## From the flow to the steps
#
# The trainer does not follow the flow; it takes steps. Near the equilibrium one simultaneous step
# multiplies (θ, ψ) by M = I + ηJ, whose eigenvalues are 1 + ηλ: for λ = ±iω their modulus is
# √(1 + η²ω²) > 1, for *every* η > 0. A smaller step spirals out more slowly; it never spirals in.
# Alternating steps (D first, then G against the new D) multiply by M_G·M_D, with
# M_D = I + η·(D's row of J) and M_G = I + η·(G's row). k D steps: M_G·M_D^k.

# %%


def step_maps(J, eta, k=1):
    M_D = np.eye(2) + eta * np.array([[0, 0], J[1]])
    M_G = np.eye(2) + eta * np.array([J[0], [0, 0]])
    return {"simultaneous": np.eye(2) + eta * J, "alternating": M_G @ np.linalg.matrix_power(M_D, k)}


K_D = 5
J_mm = jac["minimax"]
maps = {f"η = {ETA}": step_maps(J_mm, ETA), f"η = {ETA / 10:g}": step_maps(J_mm, ETA / 10),
        f"{K_D} D steps": {"alternating": step_maps(J_mm, ETA, K_D)["alternating"]},
        f"R1 γ = {R1_GAMMA:g}": step_maps(jac[f"minimax + R1 (γ = {R1_GAMMA:g})"], ETA),
        f"noise s = {NOISE_STD:g}": step_maps(jac[f"minimax + instance noise (s = {NOISE_STD:g})"], ETA)}
radius = {}
for name, ms in maps.items():
    for mode, M in ms.items():
        radius[name, mode] = np.abs(np.linalg.eigvals(M)).max()
        print(f"minimax, {name:12s} {mode:12s}: |eigenvalues| of the step map {radius[name, mode]:.6f}, "
              f"det {np.linalg.det(M):.6f}")
sim_pred = np.sqrt(1 + (ETA * 0.5) ** 2)
check(abs(radius[f"η = {ETA}", "simultaneous"] - sim_pred) < 1e-12 and radius[f"η = {ETA / 10:g}", "simultaneous"] > 1,
      "simultaneous steps on the minimax game spiral out at any step size: |1 + ηλ| = √(1 + η²/4) > 1",
      f"η = {ETA}: {radius[f'η = {ETA}', 'simultaneous']:.6f} (predicted {sim_pred:.6f}); "
      f"η = {ETA / 10:g}: {radius[f'η = {ETA / 10:g}', 'simultaneous']:.6f}")
alt_keys = [key for key in radius if key[1] == "alternating" and key[0][0] in "η5"]
check(all(abs(radius[key] - 1) < 1e-12 for key in alt_keys),
      f"alternating steps, with 1 or {K_D} D steps, have a step map of determinant 1 and eigenvalues on the "
      "unit circle: they circle, neither in nor out", ", ".join(f"{a}: {radius[a, b]:.6f}" for a, b in alt_keys))

fig = Figure(figsize=(12, 5))
ax = fig.add_subplot(1, 2, 1)
# Several cases share eigenvalues (minimax and non-saturating; WGAN and hinge): rings of shrinking size
# keep each visible.
for i, (name, J) in enumerate((n, J) for n, J in jac.items() if "wgan-gp" not in n):
    lam = np.linalg.eigvals(J)
    ax.plot(lam.real, lam.imag, "o", ms=16 - 2 * i, mfc="none", mew=2, label=name)
ax.axvline(0, color="k", lw=0.8)
ax.axhline(0, color="k", lw=0.8)
ax.set(xlabel="Re λ", ylabel="Im λ", title="eigenvalues of the Jacobian J at (0, 0)\nleft of the line: converges")
ax.legend(fontsize=7, loc="lower left")
ax = fig.add_subplot(1, 2, 2)
circle = np.linspace(0, 2 * np.pi, 400)
ax.plot(np.cos(circle), np.sin(circle), "k-", lw=0.8)
i = 0
for name, ms in maps.items():
    for mode, M in ms.items():
        lam = np.linalg.eigvals(M)
        ax.plot(lam.real, lam.imag, "s" if mode == "simultaneous" else "o", ms=15 - 1.2 * i, mfc="none", mew=1.8,
                label=f"{name}, {mode}")
        i += 1
ax.set(xlim=(0.6, 1.1), ylim=(-0.25, 0.25), xlabel="Re", ylabel="Im",
       title="eigenvalues of one step's map (minimax game)\ninside the unit circle: converges")
ax.legend(fontsize=7, loc="lower left")
fig.tight_layout()
show(fig, OUT / "eigenvalues.png")
pause()

# %% [markdown]
# ## What makes it converge
#
# The same start, the minimax game of the decks (with the trainer's default, the non-saturating
# loss, the picture near the equilibrium is the same: its J is the same), and one change at a time.
# A trajectory has *converged* here when its distance to (0, 0) falls below 10⁻³.

# %%
variants = {
    "alternating, plain": dict(loss="minimax"),
    "simultaneous, plain": dict(loss="minimax", alternating=False),
    f"smaller step (η = {ETA / 10:g})": dict(loss="minimax", eta=ETA / 10),
    f"{K_D} D steps per G step": dict(loss="minimax", k=K_D),
    f"R1, γ = {R1_GAMMA:g}": dict(loss="minimax", r1=R1_GAMMA),
    f"instance noise, s = {NOISE_STD:g}": dict(loss="minimax", **NOISE),
    f"WGAN-GP, λ = {GP_LAMBDA:g}": dict(loss="wgan-gp", gp=GP_LAMBDA),
}
runs = {name: trajectory(**kw) for name, kw in variants.items()}
reached = {}
print(f"{'':34s} {'start':>7s} {'end':>10s} {'min':>10s}  first step below 1e-3")
for name, path in runs.items():
    r = distance(path)
    below = np.flatnonzero(r < 1e-3)
    reached[name] = int(below[0]) if len(below) else None
    first = reached[name] if reached[name] is not None else "-"
    print(f"{name:34s} {r[0]:7.3f} {r[-1]:10.3g} {r.min():10.3g}  {first}")

fig = Figure(figsize=(13, 5))
ax = fig.add_subplot(1, 2, 1)
for name, path in runs.items():
    ax.semilogy(distance(path), lw=1.2, label=name)
ax.axhline(1e-3, color="k", lw=0.8, ls=":")
ax.set(xlabel="step", ylabel="distance to the equilibrium (0, 0)", ylim=(1e-8, 10),
       title=f"η = {ETA} unless stated; from (1, 1); cut at 1e-8")
ax.legend(fontsize=8)
ax = fig.add_subplot(1, 2, 2)
vt, vp = field("minimax", T.ravel(), P.ravel())
ax.streamplot(T, P, vt.numpy().reshape(T.shape), vp.numpy().reshape(T.shape), color="0.75", density=1.0, linewidth=0.6)
for name, path in runs.items():
    ax.plot(*path.T, lw=1.1, label=name)
ax.plot(0, 0, "k*", ms=10)
ax.set(xlim=(-2, 2), ylim=(-2, 2), xlabel="θ (G)", ylabel="ψ (D)",
       title="the paths, on the minimax field (WGAN-GP's follows its own)")
fig.tight_layout()
show(fig, OUT / "what_converges.png")

r_plain = distance(runs["alternating, plain"])
check(reached[f"R1, γ = {R1_GAMMA:g}"] is not None and 0.5 < r_plain[-1] / r_plain[0] < 2,
      f"with R1, γ = {R1_GAMMA:g}, the trajectory reaches distance < 1e-3; without it, it stays near its start",
      f"R1: step {reached[f'R1, γ = {R1_GAMMA:g}']}; plain alternating after {STEPS} steps: "
      f"{r_plain[-1]:.3f} from {r_plain[0]:.3f}")
check(reached[f"instance noise, s = {NOISE_STD:g}"] is not None,
      f"instance noise (s = {NOISE_STD:g}) converges too", f"step {reached[f'instance noise, s = {NOISE_STD:g}']}")
no_help = [n for n in (f"smaller step (η = {ETA / 10:g})", f"{K_D} D steps per G step", f"WGAN-GP, λ = {GP_LAMBDA:g}")
           if reached[n] is None]
check(len(no_help) == 3, "a smaller step, k D steps and WGAN-GP's penalty do not bring it to the equilibrium",
      "; ".join(f"{n}: end {distance(runs[n])[-1]:.3g}" for n in no_help))
gp_end = runs[f"WGAN-GP, λ = {GP_LAMBDA:g}"][-1]
print(f"WGAN-GP ends at theta = {gp_end[0]:+.3f}, psi = {gp_end[1]:+.3f}: the penalty wants |psi| = 1 where "
      "G's gradient is psi, so G cannot stop there, and it cannot stop at psi = 0 either, where the kink "
      "pushes psi away")
pause()

# %% [markdown]
# ## What this says about real GANs
#
# The Dirac-GAN is one point and two numbers. Mescheder et al. (2018) argue that its lesson carries
# to real GANs near an equilibrium where D is indifferent; here it was computed: the plain game's
# Jacobian has imaginary eigenvalues, and gradient steps, of any size, with any number of D steps,
# go round the equilibrium. A penalty that makes D flat *on the data*
# (R1; instance noise does it by smoothing) adds damping to D's row and the spiral turns inward.
# WGAN-GP's penalty asks for slope 1 along the way between data and samples, which is not 0 at the
# equilibrium; in this game it leaves no point where both players can rest. The trainer has R1 as
# `--r1 GAMMA`; `benchmarks/QUALITY.md` measures it on grid25.
#
# **Question 17.1.** R1 penalises D's slope on the *real* data only. Why does that leave the
# equilibrium where it was (θ = 0, ψ = 0), when a penalty on D's slope everywhere would too, but
# WGAN-GP's penalty does not?
#
# BEGIN ANSWER
# At the equilibrium D is flat (ψ = 0), so the R1 term γψ²/2 and its gradient γψ are 0 there: the
# penalty changes the field only away from the equilibrium, where it pulls ψ back to 0. Any penalty
# that is 0 with a zero gradient at ψ = 0 keeps the equilibrium. WGAN-GP's λ(|ψ| − 1)² is λ at ψ = 0
# with a "gradient" of ∓2λ: it is smallest at |ψ| = 1, a D that is not indifferent, so a G at the
# data would still be pushed by D's slope (θ' = ψ ≠ 0).
# END ANSWER
#
# **Question 17.2.** Simultaneous steps multiply the distance by √(1 + η²ω²) per step near the
# equilibrium, alternating ones by 1. Which would you pick for a GAN without a penalty, and why is
# neither enough?
#
# BEGIN ANSWER
# Alternating: its step map has determinant 1 (each player's step is a shear), so near the
# equilibrium it circles on a closed curve instead of spiralling out; the trainer alternates for
# this reason. Neither converges, because both follow a field that rotates about the equilibrium
# rather than pointing at it; only a change of the field (damping from R1 or noise), not of the
# steps, turns the rotation into an inward spiral.
# END ANSWER

# %%
done("at the Dirac-GAN's equilibrium the plain game's Jacobian has no damping; R1 and instance noise add it, a "
     "smaller step, more D steps and WGAN-GP do not bring the minimax game to rest.")
