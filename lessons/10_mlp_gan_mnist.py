GOALS = """After this lesson you can:
- load MNIST with data.load (falling back to the test split when the training files are absent)
  and batch it with data.DataLoader;
- train the MLP pair models.mlp((1, 28, 28)) with GAN.train_step;
- follow training with sample grids from one fixed z (plots.save_grid) and a loss plot (plots.plot_losses);
- measure progress without a classifier network: the Fréchet distance between G's samples and the data
  in the data's top principal components (metrics.frechet_distance), and which digits a
  nearest-class-mean reader sees in the samples.
"""

# %% [markdown]
# # Lesson 10: an MLP GAN on MNIST
#
# Everything from lessons 04-09, now on 28 × 28 images: G maps z (64 numbers) through an MLP
# to 784 pixels squashed into [-1, 1] by tanh; D maps 784 pixels to one logit. Nothing about the
# game changes, only the size of x.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show

from minigan import backend, data, optim
from minigan.gan import GAN, models, plots
from minigan.measure import metrics

args = lesson_setup(10, "An MLP GAN on MNIST", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
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
# A look at one batch from a loader of its own generator, so the training run's batches stay as they are.
peek = backend.to_numpy(next(iter(data.DataLoader(x, batch_size=BATCH, generator=np.random.default_rng(args.seed)))))
print(f"one batch: {peek.shape} {peek.dtype}, pixels in [{peek.min():.2f}, {peek.max():.2f}]")
check(peek.shape == (BATCH, 1, 28, 28) and peek.dtype == np.float32 and peek.min() >= -1 and peek.max() <= 1
      and len(loader) == len(x) // BATCH,
      "the loader yields float32 batches of shape (64, 1, 28, 28) with pixels in [-1, 1], N // 64 per epoch",
      f"batch {peek.shape} {peek.dtype} in [{peek.min():.2f}, {peek.max():.2f}], {len(loader)} = {len(x)} // {BATCH}")
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
z_eval = gan.sample_z(1000)  # more fixed noise: the 1,000 samples that the measurements below score
print(f"fixed z for the sample grids: {tuple(z_fixed.shape)}; for the measurements: {tuple(z_eval.shape)}")
pause()

# %% [markdown]
# ## Measuring G without a classifier
#
# The grids are for your eyes. Two numbers follow the same progress:
#
# - **Fréchet distance in pixel space.** Project the real images and G's samples onto the real
#   images' top 20 principal components, fit a Gaussian to each cloud and compute
#   FD = |μ₁ − μ₂|² + tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½) with `metrics.frechet_distance`. It is 0 for
#   identical Gaussians and grows when G's mean image, its spread or its correlations differ from the data's.
#   FID is the same formula on an Inception network's features; minigan's own version,
#   `metrics.image_quality`, uses a small CNN trained on the dataset (`python -m minigan.evaluate --classifier mnist`).
# - **Which digits?** A nearest-class-mean reader: the digit whose average real image is nearest to
#   a sample (in pixel distance). It is a crude reader of digits, but it tells a G that draws one
#   blob for every z from a G that draws many different shapes.
#
# 1,000 real images held out of the reference, scored the same way, give the floor: what real data scores.

# %%
order = np.random.default_rng(args.seed).permutation(len(x))
held_out, pick = order[:1000], order[1000:11_000]  # 1,000 real images to score; up to 10,000 as the reference
flat = x[pick].reshape(len(pick), -1).astype(np.float64)
pixel_mean = flat.mean(0)
_, _, vt = np.linalg.svd(flat[:3000] - pixel_mean, full_matrices=False)  # 3,000 images pin down the top PCs
pcs = vt[:20].T  # (784, 20): the real images' top 20 principal directions
ref_feats = (flat - pixel_mean) @ pcs
class_means = np.stack([flat[y[pick] == k].mean(0) for k in range(10)])


def measure(images: np.ndarray) -> dict:
    """FD to the data in the top 20 principal components, mean pixel, and the nearest-class-mean digits."""
    f = images.reshape(len(images), -1).astype(np.float64)
    d2 = (f ** 2).sum(1)[:, None] - 2 * f @ class_means.T + (class_means ** 2).sum(1)[None]
    hist = np.bincount(d2.argmin(1), minlength=10)
    return {"fd": metrics.frechet_distance((f - pixel_mean) @ pcs, ref_feats), "mean": float(f.mean()),
            "read": d2.argmin(1), "hist": hist, "covered": metrics.classes_covered(hist)}


floor = measure(x[held_out])
print(f"1,000 held-out real images: FD {floor['fd']:.1f}, mean pixel {floor['mean']:+.3f}, "
      f"digits read {floor['hist'].tolist()} ({floor['covered']} of 10 covered); the reader gets "
      f"{(floor['read'] == y[held_out]).mean():.0%} of their labels right")
pause()

# %% [markdown]
# ## Train, saving a grid of G(z_fixed) now and then
#
# The same 64 z every time, so the grids show one G changing, not new noise. At each grid the run
# also scores G(z_eval), 1,000 samples from fixed noise, as above: the lines starting with "scored".

# %%
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
hist = {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
scores = {}
batches = loader.batches()
for step in range(STEPS + 1):
    if step in snapshots:
        images = gan.generate(z_fixed).numpy()
        path = plots.save_grid(images, OUT / f"samples_step{step:05d}.png", nrow=8,
                               title=f"G(z) after {step} steps")
        show(path)
        scores[step] = m = measure(gan.generate(z_eval).numpy())
        print(f"  scored at step {step}: FD {m['fd']:.1f}, mean pixel {m['mean']:+.3f}, "
              f"digits read {m['hist'].tolist()} ({m['covered']} of 10 covered)")
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
# The sample grids and the scores, not the loss curve, say whether G is learning digits.

# %%
h = {k: np.array(v) for k, v in hist.items()}
path = plots.plot_losses(h["step"], h["d_loss"], h["g_loss"], OUT / "losses.png",
                         title=f"MLP GAN on MNIST ({split} split)")
show(path)
tail = slice(len(h["step"]) * 3 // 4, None)
print(f"last quarter: mean d_loss {h['d_loss'][tail].mean():.3f}, mean g_loss {h['g_loss'][tail].mean():.3f}, "
      f"mean D(x) {h['d_real'][tail].mean():.3f}, mean D(G(z)) {h['d_fake'][tail].mean():.3f}")
pause()

# %% [markdown]
# ## What this run showed
#
# D learns first: G's first samples are grey noise, easy to tell from digits on a black background.
# Then G follows D's gradient towards the data, and the untrained G's samples are the baseline to beat.

# %%
first, last = scores[0], scores[STEPS]
early = slice(0, 10)
gap = float((h["d_real"][early] - h["d_fake"][early]).mean())
check(gap > 0.05, "D pulls ahead first: over the first 10 steps D(x) exceeds D(G(z))",
      f"mean D(x) - D(G(z)) over steps 0-9: {gap:.3f}")
check(np.isfinite(h["d_loss"]).all() and np.isfinite(h["g_loss"]).all(), "training ran without NaN or inf",
      f"{STEPS} steps, losses finite")
check(last["fd"] < 0.85 * first["fd"], "G's samples move towards the data: the pixel-space FD falls by over 15%",
      f"FD {first['fd']:.1f} untrained -> {last['fd']:.1f} after {STEPS} steps; real images {floor['fd']:.1f}")
check(last["fd"] < 0.6 * first["fd"], "the full run takes the FD below 60% of the untrained G's",
      f"{last['fd'] / first['fd']:.0%} of it", full_only=True)
data_mean = float(flat.mean())
check(abs(last["mean"] - data_mean) < 0.8 * abs(first["mean"] - data_mean),
      "G darkens its background: the mean pixel moves towards the data's",
      f"mean pixel {first['mean']:+.3f} untrained -> {last['mean']:+.3f}; data {data_mean:+.3f}")
check(last["covered"] >= 4 and last["covered"] > first["covered"],
      "the full run's G draws several digits: the nearest-class-mean reader sees at least 4 of 10",
      f"{first['covered']} untrained -> {last['covered']} after {STEPS} steps", full_only=True)

# %% [markdown]
# **Question 10.1.** The printed FD is measured in the top 20 principal components of the pixels.
# What can it see, what can it not, and why do FID and `metrics.image_quality` use a classifier's
# features instead?
#
# BEGIN ANSWER
# It compares the mean and covariance of the samples' projections on the 20 directions along which
# real digits vary most: it falls when G gets the dark background, the average stroke layout and the
# main ways digits differ from each other right, and it rises when every z gives the same blob (the
# covariance is then too small). It sees nothing outside those 20 directions (thin strokes, sharp edges,
# speckle) and only two moments inside them: samples that are not digits but have the right mean and
# covariance score well, and a Gaussian fit says nothing about whether each sample is a plausible digit.
# A classifier's penultimate features encode what the classifier needs to tell digits apart (strokes,
# loops, their arrangement), so distances there track "looks like a digit, and which one" far better
# than distances between pixels do; the price is a network trained on the dataset.
# END ANSWER

# %% [markdown]
# **Question 10.2.** G ends with tanh and `data.load` scales pixels to [-1, 1]. What goes wrong if the
# data were left in [0, 255]? And in [0, 1]?
#
# BEGIN ANSWER
# In [0, 255] G cannot produce the data at all: its outputs never leave (-1, 1), so D separates real
# from fake by brightness alone, perfectly, and G's only way towards the data is to push tanh into
# saturation, where its gradient vanishes. In [0, 1] G can reach the data, but only half of tanh's range
# is of any use: the background 0 sits at tanh's steepest point, where the output moves most with the
# weights, full ink 1 needs an infinite pre-activation, and every negative output is a pixel no real image
# has, which D learns to spot at once, so G must also learn never to go below 0. Matching the data's range
# to G's output range removes these giveaways and lets D judge shapes, not ranges.
# END ANSWER

# %%
done(f"{STEPS} steps of an MLP GAN on MNIST; sample grids at steps {snapshots} in {OUT}.")
