GOALS = """After this lesson you can:
- write the unrolled objective of Metz et al. (2017): G minimises its loss against D_K, the discriminator
  K of D's own steps ahead, f_K(θ_G, θ_D) = L_G(θ_G, θ_D^K(θ_G, θ_D)), while D trains as usual;
- split its gradient into the first-order part (D_K held fixed) and the second-order part (how D_K
  itself moves with G, through the K updates), compute both by hand with minigan.grad(..., create_graph=True),
  and say what each costs;
- run minigan.gan.unrolled.UnrolledGAN(..., unroll=K, second_order=False | True) and check that its G step
  leaves D and D's optimizer exactly as they were;
- make a vanilla GAN collapse and hop on ring8 (G learning 10x faster than D), and compare it with first-order
  unrolling (K = 10) and second-order unrolling (K = 5), counting modes with metrics.toy_quality.
"""

# %% [markdown]
# # Lesson 14: the unrolled GAN
#
# Lesson 09 ended on mode collapse: G answers today's D by moving its mass to the point D rates
# most real, D answers by rejecting that point, G hops to the next, and the two chase each other
# around the modes. Metz, Poole, Pfau & Sohl-Dickstein (2017) let G look ahead: G is scored not
# against D but against where D *will be* after K more of its own steps,
#
#     θ_D^0 = θ_D,   θ_D^(k+1) = θ_D^k − η ∂L_D(θ_G, θ_D^k)/∂θ_D      (K ordinary D steps)
#     f_K(θ_G, θ_D) = L_G(θ_G, θ_D^K(θ_G, θ_D))                           (G's unrolled loss)
#
# A hop to a mode D currently likes no longer pays: the D of K steps later has already caught up
# with it. D itself still trains on its ordinary loss; the K look-ahead steps are thrown away.

# %%
import time

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, optim
from minigan.gan import GAN, losses, models, plots
from minigan.gan.unrolled import UnrolledGAN
from minigan.measure import metrics
from minigan.module import substituted

args = lesson_setup(14, "The unrolled GAN", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(14)
STEPS = 200 if args.quick else 1500  # vanilla and first order
STEPS_2ND = 20 if args.quick else 400  # second order: many times slower per step than vanilla
EVERY = 20 if args.quick else 100  # a checkpoint every EVERY steps
UNROLL = {"unrolled, first order": 10, "unrolled, second order": 5}
BATCH = 256
N_EVAL = 2500

# %% [markdown]
# ## Two parts of G's gradient
#
# By the chain rule,
#
#     d f_K / d θ_G = ∂L_G/∂θ_G (θ_G, θ_D^K)  +  ∂L_G/∂θ_D^K · d θ_D^K / d θ_G
#                     └── first order ──────┘     └── second order ─────────┘
#
# - **First order** (`second_order=False`): really update D K times on G's current fakes, take G's
#   ordinary gradient against that D_K, then put D back. K extra D steps per G step, no extra memory.
# - **Second order** (`second_order=True`, the paper's method): also follow how each of the K updates
#   depends on G's fakes. Each D update θ − η·step(∇_θ L_D) is built with
#   `minigan.grad(..., create_graph=True)`, so the chain of K updates is one graph that the final loss
#   backpropagates through: Hessian-vector products, about K times the memory and a lot more time.
#
# Whichever way, the real D must not move in G's step. `UnrolledGAN.g_step` saves D's weights,
# buffers and optimizer state, looks ahead, and restores them. Check it, bit for bit:

# %%
rng = np.random.default_rng(args.seed)
centers, _ = data.modes("ring8")


def make(kind: str) -> GAN:
    """G and D for ring8, with G learning ten times faster than D (lr 1e-3 against 1e-4)."""
    minigan.manual_seed(args.seed)  # the same initial weights for every kind
    G, D = models.mlp((2,), z_dim=64, hidden=64)
    opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    if kind == "vanilla":
        return GAN(G, D, opt_g, opt_d, loss="nonsaturating")
    return UnrolledGAN(G, D, opt_g, opt_d, loss="nonsaturating", unroll=UNROLL[kind],
                       second_order=kind == "unrolled, second order")


KINDS = ("vanilla", "unrolled, first order", "unrolled, second order")
def opt_arrays(opt: optim.Optimizer) -> list[np.ndarray]:
    """Every array and step count in an optimizer's state, flattened into one list."""
    return [np.asarray(v) for state in opt.state_dict()["state"] for _, v in sorted(state.items())]


for kind in KINDS[1:]:
    gan = make(kind)
    gan.d_step(data.sample("ring8", BATCH, rng))
    d_before = {k: v.copy() for k, v in gan.D.state_dict().items()}
    g_before = {k: v.copy() for k, v in gan.G.state_dict().items()}
    opt_before = opt_arrays(gan.opt_d)
    gan.g_step(BATCH)
    d_moved = max(np.abs(gan.D.state_dict()[k] - v).max() for k, v in d_before.items())
    g_moved = max(np.abs(gan.G.state_dict()[k] - v).max() for k, v in g_before.items())
    d_same = all(np.array_equal(gan.D.state_dict()[k], v) for k, v in d_before.items())
    opt_same = all(np.array_equal(a, b) for a, b in zip(opt_before, opt_arrays(gan.opt_d)))
    print(f"{kind}: one G step with K = {UNROLL[kind]}: max |ΔD| = {d_moved:.1e} (restored), "
          f"max |ΔG| = {g_moved:.1e}")
    check(d_same and opt_same and g_moved > 0, f"{kind}: UnrolledGAN's G step leaves D and D's optimizer state "
          "bit-identical, and moves G", f"D equal: {d_same}, D's optimizer equal: {opt_same}, "
          f"max |ΔG| {g_moved:.1e}")
pause()

# %% [markdown]
# ## The second-order part, by hand
#
# Both parts of the gradient, on one real batch and one fixed z, with the plain gradient steps of
# the formula above (θ_D ← θ_D − η ∂L_D/∂θ_D; the library's look-ahead uses D's own optimizer,
# Adam here, whose step depends on the gradient differently). Each of the K updates is built with
# `minigan.grad(..., create_graph=True)` on D run with the updated weights in place of its own
# (`minigan.module.substituted`), from G's fakes *not* detached, so θ_D^K is a function of θ_G
# in the graph. Then G's loss against D_K is differentiated twice: through everything (the full
# gradient) and with θ_D^K detached (the first-order part). Their difference is the second-order
# part. One unrolled D step moves θ_D by η × a gradient, so that part is, to first order, K·η times
# a mixed second derivative: it grows in proportion to η, which the run checks.

# %%
def g_gradients(gan: GAN, real: minigan.Tensor, z: minigan.Tensor, k: int, eta: float) -> tuple[np.ndarray, ...]:
    """G's gradient against D unrolled k plain steps of size eta: (full, first-order part), flattened."""
    weights = list(gan.D.parameters())
    for _ in range(k):
        fake = gan.G(z)  # not detached: D's update depends on θ_G
        with substituted(gan.D, weights):
            loss_d = losses.d_loss(gan.D(real), gan.D(fake))
        grads = minigan.grad(loss_d, weights, create_graph=True)
        weights = [w - eta * g for w, g in zip(weights, grads)]
    g_params = list(gan.G.parameters())
    out = []
    for d_k in (weights, [w.detach() for w in weights]):  # through the unroll, then D_K held fixed
        with substituted(gan.D, d_k):
            loss_g = losses.g_loss_nonsaturating(gan.D(gan.G(z)))
        out.append(np.concatenate([g.numpy().ravel() for g in minigan.grad(loss_g, g_params)]))
    return tuple(out)


gan = make("vanilla")  # the lesson's G and D at their initial weights
real, z = minigan.tensor(data.sample("ring8", BATCH, rng)), gan.sample_z(BATCH)
K_HAND = UNROLL["unrolled, second order"]
ETAS = (1e-4, 1e-3, 1e-2)  # 1e-4 is D's learning rate here
share = {}
for eta in ETAS:
    full, first_order = g_gradients(gan, real, z, K_HAND, eta)
    share[eta] = float(np.linalg.norm(full - first_order) / np.linalg.norm(first_order))
    cos = float(full @ first_order / (np.linalg.norm(full) * np.linalg.norm(first_order)))
    print(f"K = {K_HAND}, η = {eta:.0e}: ||second-order part|| / ||first-order part|| = {share[eta]:.2e}, "
          f"cosine(full, first order) = {cos:.6f}")
check(share[ETAS[0]] > 1e-5, f"the second-order gradient differs from the first-order one, at η = {ETAS[0]:.0e} "
      "(relative difference above 1e-5, far above float32 rounding)", f"{share[ETAS[0]]:.2e}")
ratios = [share[b] / share[a] for a, b in zip(ETAS, ETAS[1:])]
check(all(5 < r < 20 for r in ratios), "the second-order part grows in proportion to η: tenfold η, about "
      "tenfold part (between 5x and 20x)", ", ".join(f"{r:.1f}x" for r in ratios))
pause()

# %% [markdown]
# ## A game that collapses, played three ways
#
# ring8 with a G that learns ten times faster than D (Adam 1e-3 for G, 1e-4 for D): G outruns D,
# piles its mass onto whatever point D rates most real, and D is too slow to push it off for
# long; the vanilla G sits on one mode or none and hops. All three runs start from the same weights
# and see the same real batches; every G step is preceded by one D step. First order looks K = 10
# D steps ahead in every G step. Second order looks K = 5 steps ahead and, being many times slower
# per step than vanilla, plays only the first STEPS_2ND = 400 steps (20 in --quick). We count modes
# and high-quality samples (within 3σ of a mode; σ = 0.01 here, so "high quality" is strict) with
# `metrics.toy_quality` every 100 steps (20 in --quick), and note which mode is nearest to most of
# G's samples.
#
# What to look for in the printout (the numbers depend on the seed and on the machine: a different
# BLAS rounds differently, and a GAN amplifies it): vanilla covers few modes and its densest mode
# keeps changing, the chase of lesson 09; first-order unrolling spreads over the ring and, given the
# full run's steps, covers all or nearly all of the modes and shares its good samples among them
# (a small reverse KL, against log 8 = 2.08 for all on one mode). "8/8" means G's ring has reached
# every mode, not yet that it is sharp on each: σ is tiny. Second order is weaker evidence: in its
# few hundred steps it may touch more modes than vanilla, but look at its picture before believing
# it has learnt the ring rather than spread a wide cloud whose stray samples touch several modes.
# It would need the thousands of steps first order gets. The run checks the comparisons and
# prints the time per step of each kind.
#
# Things to try: K = 5 for first order (`UNROLL`), and D ten times faster than G instead.

# %%
def densest_mode(fake: np.ndarray) -> int:
    """The mode nearest to most of G's samples (all of them, not only the high-quality ones)."""
    nearest = ((fake[:, None, :] - centers[None, :, :]) ** 2).sum(-1).argmin(1)
    return int(np.bincount(nearest, minlength=len(centers)).argmax())


def real_batches(data_rng: np.random.Generator):
    while True:
        yield data.sample("ring8", BATCH, data_rng)


results: dict[str, dict] = {}
for kind in KINDS:
    steps = STEPS_2ND if kind == "unrolled, second order" else STEPS
    gan = make(kind)
    z_eval = gan.sample_z(N_EVAL)
    history, where, checkpoints = [], [], []
    batches = real_batches(np.random.default_rng(args.seed + 1))  # the same real batches for every kind
    seconds = cpu_seconds = 0.0  # the training steps' own time, without the checkpoints' scoring
    for step in range(1, steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        gan.train_step(batches)
        seconds += time.perf_counter() - t0
        cpu_seconds += time.process_time() - c0  # CPU time: what a step costs even on a busy machine
        if step % EVERY == 0:
            fake = gan.generate(z_eval).numpy()
            history.append(metrics.toy_quality(fake, "ring8"))
            where.append(densest_mode(fake))
            checkpoints.append(step)
    results[kind] = {"history": history, "checkpoints": checkpoints, "where": where, "steps": steps,
                     "seconds": seconds, "cpu": cpu_seconds, "fake": gan.generate(z_eval).numpy()}
    q = history[-1]
    print(f"{kind} (K = {UNROLL.get(kind, 0)}), every {EVERY} steps to {steps}:\n"
          f"  modes covered: {[h['modes_covered'] for h in history]}\n"
          f"  high quality:  {[round(100 * h['high_quality'], 1) for h in history]} %\n"
          f"  densest mode:  {where}\n"
          f"  after {steps}: {q['modes_covered']}/8 modes, {q['high_quality']:.1%} high quality, "
          f"reverse KL {q['reverse_kl']:.3f}; {1000 * seconds / steps:.1f} ms per step "
          f"({1000 * cpu_seconds / steps:.1f} ms of CPU)")
pause()

# %% [markdown]
# ## Pictures and the counts
#
# One scatter per kind (real points in green, G's in purple) and the modes covered at every
# checkpoint. Judge the pictures as well as the counts: a mode is "covered" by a single
# high-quality sample, so the reverse KL (0 when the high-quality samples are spread evenly over
# the 8 modes, log 8 = 2.08 when they all sit on one) tells how the mass is shared.

# %%
real_show = data.sample("ring8", 500, rng)
for kind, r in results.items():
    q = r["history"][-1]
    name = "ring8_" + kind.replace("unrolled, ", "unrolled_").replace(" order", "_order") + ".png"
    k = f", K = {UNROLL[kind]}" if kind in UNROLL else ""
    path = plots.plot_samples_2d(real_show, r["fake"][:1000], OUT / name, modes=centers, extent=(-1.6, 1.6, -1.6, 1.6),
                                 title=f"{kind}{k}, {r['steps']} steps: {q['modes_covered']}/8 modes")
    show(path)

fig = Figure(figsize=(10, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax1, ax2 = fig.subplots(1, 2)
for (kind, r), color in zip(results.items(), ("tab:red", "tab:blue", "tab:green")):
    label = f"{kind}, K = {UNROLL[kind]}" if kind in UNROLL else kind
    ax1.plot(r["checkpoints"], [h["modes_covered"] for h in r["history"]], "o-", color=color, label=label)
    kl = [min(h["reverse_kl"], np.log(8)) for h in r["history"]]  # no high-quality sample at all: drawn at log 8
    ax2.plot(r["checkpoints"], kl, "o-", color=color, label=label)
ax1.set_ylim(-0.3, 8.5)
ax1.set_xlabel("G step")
ax1.set_ylabel("modes covered (of 8)")
ax1.set_title("ring8, G 10x faster than D")
ax1.legend(fontsize=8)
ax2.axhline(np.log(8), color="0.5", linestyle=":", label="log 8: all on one mode (or none)")
ax2.set_xlabel("G step")
ax2.set_ylabel("reverse KL of the high-quality samples")
ax2.set_title("how evenly G's good samples share the modes")
ax2.legend(fontsize=8)
path = OUT / "modes_over_steps.png"
show(fig, path)
final = {kind: (r["steps"], r["history"][-1]["modes_covered"]) for kind, r in results.items()}
van, so = results["vanilla"], results["unrolled, second order"]
modes = {kind: [h["modes_covered"] for h in r["history"]] for kind, r in results.items()}
hops = sum(a != b for a, b in zip(van["where"], van["where"][1:]))
check(modes["unrolled, first order"][-1] > modes["vanilla"][-1], f"first-order unrolling covers more modes than "
      f"vanilla after {STEPS} steps", f"{modes['unrolled, first order'][-1]}/8 against {modes['vanilla'][-1]}/8")
check(modes["unrolled, first order"][-1] > max(modes["vanilla"]), "first-order unrolling ends with more modes "
      "than vanilla held at any checkpoint", f"{modes['unrolled, first order'][-1]} against vanilla's best "
      f"{max(modes['vanilla'])}")
check(modes["unrolled, first order"][-1] >= 7, f"first-order unrolling covers at least 7 of the 8 modes after "
      f"{STEPS} steps", f"{modes['unrolled, first order'][-1]}/8", full_only=True)
check(hops >= (len(van["where"]) - 1) / 2, "vanilla hops: its densest mode changes at least at every other "
      "checkpoint", f"{hops} changes in {len(van['where']) - 1} intervals: {van['where']}")
at_2nd = van["checkpoints"].index(so["checkpoints"][-1])  # vanilla's checkpoint at second order's last step
check(modes["unrolled, second order"][-1] > modes["vanilla"][at_2nd], f"second-order unrolling covers more modes "
      f"than vanilla at step {STEPS_2ND} (look at its picture too)", f"{modes['unrolled, second order'][-1]}/8 "
      f"against {modes['vanilla'][at_2nd]}/8", full_only=True)
ms = {kind: 1000 * r["cpu"] / r["steps"] for kind, r in results.items()}
check(ms["vanilla"] < ms["unrolled, first order"] < ms["unrolled, second order"], "each step costs more: vanilla, "
      "then first order (K extra D steps), then second order (the graph through the K updates)",
      "CPU per step: " + ", ".join(f"{kind} {t:.1f} ms" for kind, t in ms.items()))

# %% [markdown]
# **Question 14.1.** `UnrolledGAN.g_step` restores D's optimizer state as well as D's weights.
# What would go wrong if it restored only the weights?
#
# BEGIN ANSWER
# The first-order look-ahead takes its K steps with D's own optimizer, so Adam's state (the moving
# averages of the gradient and of its square, and the step count that sets the bias correction)
# would keep the K look-ahead steps of every G step. D's next real update would then use moments
# built mostly from the gradients of look-ahead steps whose weights were thrown away (K of them per
# G step against one real step), and a step count K + 1 times too large: D would no longer be
# trained by the algorithm it is meant to follow, and the look-ahead would change D itself.
# Restoring weights, buffers and optimizer state makes the look-ahead a pure "what if" for G.
# END ANSWER
#
# **Question 14.2.** Why does a G scored against D_K, the D of K steps later, gain less by moving
# all its mass onto the mode D rates most real today?
#
# BEGIN ANSWER
# Against today's D, piling onto the point D rates most real lowers G's loss at once. But D's next
# steps are trained on those fakes: a few steps later D rates that crowded point as fake, and G's
# loss against D_K is high there. The unrolled loss scores where G's mass will stand after D
# reacts, so it favours placements D cannot quickly punish, which spread mass over the real
# modes. The first-order version sees this only through D_K's values at G's samples; the
# second-order part adds how D_K itself would change if G moved (the derivative of D's reaction).
# END ANSWER

# %%
done("modes covered on ring8: " + ", ".join(f"{kind} {m}/8 after {n} steps" for kind, (n, m) in final.items())
      + ".")
