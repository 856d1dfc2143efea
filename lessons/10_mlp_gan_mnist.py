GOALS = """After this lesson you can:
- load MNIST with data.load (falling back to the test split when the training files are absent)
  and batch it with data.DataLoader;
- train the MLP pair models.mlp((1, 28, 28)) with GAN.train_step;
- follow training with sample grids from one fixed z (plots.save_grid) and a loss plot (plots.plot_losses).
"""

# %% [markdown]
# # Lesson 10: an MLP GAN on MNIST
#
# Everything from lessons 04-09, now on 28 × 28 images: G maps z (64 numbers) through an MLP
# to 784 pixels squashed into [-1, 1] by tanh; D maps 784 pixels to one logit. Nothing about the
# game changes, only the size of x.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show

from minigan import data, models, optim, plots
from minigan.gan import GAN

args = lesson_setup(10, "An MLP GAN on MNIST", GOALS)
OUT = out_dir(10)
STEPS = 40 if args.quick else 3000
BATCH = 64
N_SNAPSHOTS = 3 if args.quick else 5

# %% [markdown]
# ## The data
#
# `data.load` gives x of shape (N, 1, 28, 28), pixels scaled to [-1, 1] (G's tanh range), and the
# labels, which an unconditional GAN ignores. `DataLoader(x, batch_size=...)` shuffles and batches
# it; `.batches()` yields batches forever, epoch after epoch, which is what `train_step` wants.

# %%
try:  # --quick never downloads (60,000 images for a 40-step run would be silly); a full run may
    x, y = data.load("mnist", "train", progress=False, download=not args.quick)
    split = "train"
except data.DataError:
    x, y = data.load("mnist", "test", progress=False)
    split = "test"
    print("The MNIST training files are not available: using the test split (10,000 images) instead.")
print(f"mnist {split}: x {x.shape} {x.dtype} in [{x.min():.1f}, {x.max():.1f}], y {y.shape}")
loader = data.DataLoader(x, batch_size=BATCH)
print(f"DataLoader: {len(loader)} batches of {BATCH} per epoch")
pause()

# %% [markdown]
# ## The models and the game
#
# The same recipe as on the 2-D toys: Adam with lr 2e-4 and β₁ = 0.5 for both players, the
# non-saturating G loss, one D step per G step.

# %%
G, D = models.mlp((1, 28, 28))
opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")
n_g = sum(p.numpy().size for p in G.parameters())
n_d = sum(p.numpy().size for p in D.parameters())
print(f"G: {n_g:,} parameters, D: {n_d:,} parameters")
z_fixed = gan.sample_z(64)
print(f"fixed z for the sample grids: {tuple(z_fixed.shape)}")
pause()

# %% [markdown]
# ## Train, saving a grid of G(z_fixed) now and then
#
# The same 64 z every time, so the grids show one G changing, not new noise. After a few dozen
# steps (--quick) the grid is still grey noise with a faint blob in the middle; in the full run
# (3000 steps) rough, speckled digit shapes (0s, 1s, 6s, 7s) appear on a black background.

# %%
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
hist = {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
batches = loader.batches()
for step in range(STEPS + 1):
    if step in snapshots:
        images = gan.generate(z_fixed).numpy()
        path = plots.save_grid(images, OUT / f"samples_step{step:05d}.png", nrow=8,
                               title=f"G(z) after {step} steps")
        show(path)
    if step == STEPS:
        break
    out = gan.train_step(batches)
    for key in hist:
        hist[key].append(step if key == "step" else out[key])
    if step % max(1, STEPS // 10) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x) {out['d_real']:.3f}  D(G(z)) {out['d_fake']:.3f}")
pause()

# %% [markdown]
# ## The losses
#
# As in lesson 08 the losses do not fall to 0: each is measured against a moving opponent.
# The sample grids, not the loss curve, say whether G is learning digits.

# %%
h = {k: np.array(v) for k, v in hist.items()}
path = plots.plot_losses(h["step"], h["d_loss"], h["g_loss"], OUT / "losses.png",
                         title=f"MLP GAN on MNIST ({split} split)")
show(path)
tail = slice(len(h["step"]) * 3 // 4, None)
print(f"last quarter: mean d_loss {h['d_loss'][tail].mean():.3f}, mean g_loss {h['g_loss'][tail].mean():.3f}, "
      f"mean D(x) {h['d_real'][tail].mean():.3f}, mean D(G(z)) {h['d_fake'][tail].mean():.3f}")
done(f"{STEPS} steps of an MLP GAN on MNIST; sample grids at steps {snapshots} in {OUT}.")
