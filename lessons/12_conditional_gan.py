"""After this lesson you can:
- make G and D conditional by concatenating a one-hot label to their inputs (z ⊕ one_hot(y), x ⊕ one_hot(y));
- build the pair models.mlp((1, 28, 28), n_classes=10) and GAN(..., n_classes=10), and feed
  train_step (x, y) batches from data.DataLoader(x, y, batch_size=...);
- choose the digit: draw a grid with one row per class from fixed z and fixed labels
  (plots.save_grid(..., nrow=10, row_labels=...)).
"""

# %% [markdown]
# # Lesson 12: a conditional GAN, choosing the digit
#
# Lesson 10's G draws *some* digit; which one depends on z in a way nobody chose. A conditional GAN
# (Mirza & Osindero, 2014) hands the label to both players: G(z, y) must draw a y, and D(x, y)
# judges whether x is a real *y*. A 3 drawn when a 7 was asked for is now a fake D can catch, so G
# learns to obey y. Fix z and change y, and the same "handwriting" writes different digits.

# %%
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import lesson_setup, out_dir, pause  # noqa: E402

import minigan  # noqa: E402
from minigan import data, functional, models, optim, plots  # noqa: E402
from minigan.gan import GAN  # noqa: E402

args = lesson_setup(12, "Conditional GAN: choose the digit", __doc__)
OUT = out_dir(12)
STEPS = 40 if args.quick else 3000
BATCH = 64
N_CLASSES = 10
N_SNAPSHOTS = 2 if args.quick else 4

# %% [markdown]
# ## The data, now with its labels
#
# The same loading as lesson 10, but y is no longer ignored: `DataLoader(x, y, batch_size=...)`
# shuffles both arrays together and yields (x, y) tuples, which is what `train_step` of a
# conditional GAN expects.

# %%
try:  # --quick never downloads
    x, y = data.load("mnist", "train", progress=False, download=not args.quick)
    split = "train"
except data.DataError:
    x, y = data.load("mnist", "test", progress=False)
    split = "test"
    print("The MNIST training files are not available: using the test split (10,000 images) instead.")
print(f"mnist {split}: x {x.shape} {x.dtype}, y {y.shape} {y.dtype}, counts per digit {np.bincount(y).tolist()}")
loader = data.DataLoader(x, y, batch_size=BATCH)
xb, yb = next(iter(loader))
print(f"one batch: x {tuple(xb.shape)}, y {tuple(yb.shape)}, first labels {[int(v) for v in yb[:8]]}")
pause()

# %% [markdown]
# ## One-hot concatenation
#
# A label enters a network as a one-hot vector: digit 3 is (0, 0, 0, 1, 0, 0, 0, 0, 0, 0). G's
# input is z ⊕ one_hot(y), 64 + 10 = 74 numbers, so its first Linear layer has a column of weights
# per class: a learned, class-specific shift of the first hidden layer. D gets the flattened image
# ⊕ one_hot(y), 784 + 10 = 794 numbers. Nothing else changes.

# %%
labels = np.array([0, 3, 7, 9])
z = minigan.randn(len(labels), 64)
oh = functional.one_hot(labels, N_CLASSES)
zy = minigan.concat([z, oh], axis=1)
print(f"z {tuple(z.shape)}  ⊕  one_hot(y) {tuple(oh.shape)}  =  G's input {tuple(zy.shape)}")
print(f"one_hot({labels.tolist()}) =\n{oh.numpy()}")
x_flat = minigan.tensor(x[:4].reshape(4, -1))
xy = minigan.concat([x_flat, oh], axis=1)
print(f"x flattened {tuple(x_flat.shape)}  ⊕  one_hot(y) {tuple(oh.shape)}  =  D's input {tuple(xy.shape)}")
pause()

# %% [markdown]
# ## The conditional pair and the game
#
# `models.mlp(..., n_classes=10)` does the concatenation inside G and D (see the first Linear:
# in_features=74 for G). `GAN(..., n_classes=10)` draws uniform labels for the fakes in each step.

# %%
G, D = models.mlp((1, 28, 28), n_classes=N_CLASSES)
print(G)
print(D)
opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating", n_classes=N_CLASSES)
# The grid: 10 fixed z (columns) under every label 0..9 (rows), so each column keeps one z.
z_cols = gan.sample_z(10).numpy()
z_grid = minigan.tensor(np.tile(z_cols, (N_CLASSES, 1)))
y_grid = np.repeat(np.arange(N_CLASSES), 10)
print(f"grid inputs: z {tuple(z_grid.shape)} (10 z repeated per row), y {y_grid.shape}: {y_grid[::10].tolist()}")
pause()

# %% [markdown]
# ## Train, and choose the digit
#
# After a few dozen quick steps every row is still grey noise. Measured (seed 0, MNIST test split):
# after the full run's 3000 steps the columns are rough digit shapes but the rows are still almost
# identical: z, not y, decides the digit so far. The label is a 10-number input next to 784 pixels,
# and D only starts to punish "wrong digit for y" once the images look like digits at all; G
# learns to obey y later. Seeing the rows differ takes a longer run (more steps), the lesson's
# exercise; compare the grids of successive snapshots to watch for it.

# %%
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
row_labels = [str(k) for k in range(N_CLASSES)]
batches = loader.batches()
for step in range(STEPS + 1):
    if step in snapshots:
        images = gan.generate(z_grid, y_grid).numpy()
        path = plots.save_grid(images, OUT / f"by_class_step{step:05d}.png", nrow=10, row_labels=row_labels,
                               title=f"G(z, y) after {step} steps: row = y, column = z")
        print(f"wrote {path}")
    if step == STEPS:
        break
    out = gan.train_step(batches)
    if step % max(1, STEPS // 10) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x, y) {out['d_real']:.3f}  D(G(z, y), y) {out['d_fake']:.3f}")
print(f"Done: {STEPS} steps of a conditional MLP GAN on MNIST ({split}); class grids at steps {snapshots} in {OUT}.")
