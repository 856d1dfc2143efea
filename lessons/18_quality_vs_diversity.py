GOALS = """After this lesson you can:
- say what precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020)
  measure, from the k-nearest-neighbour balls of metrics.knn_radii, and compute them with metrics.prdc;
- compute KID (metrics.kid), the unbiased kernel distance, with its standard error, and say why it suits
  small sample sets better than the Fréchet distance;
- score a vanilla GAN on grid25, its Jacobian-truncated samples, a PacGAN and real data on one table and
  read the trade between quality and diversity off it;
- build a 10-image collapse of MNIST that has a perfect class histogram and see which numbers expose it.
"""

# %% [markdown]
# # Lesson 18: quality versus diversity
#
# A GAN can fail in two ways: its samples do not look like the data (low *quality*), or they look
# like only part of it (low *diversity*: mode dropping, collapse). One number such as the Fréchet
# distance (FD) mixes both. This lesson measures them apart, with the measures that
# `python -m minigan.evaluate` prints beside the FD.
#
# Take a real set R and a generated set F in some features (raw coordinates for 2-D points). Around
# every point put a ball whose radius is the distance to its k-th nearest neighbour in its own set
# (k = 5); the union of a set's balls is its *manifold*.
#
# - **precision**: the share of F inside R's manifold (are the samples realistic?);
# - **recall**: the share of R inside F's manifold (is all of the data produced?);
# - **density**: per sample, how many real balls hold it, divided by k and averaged: about 1 for a
#   sample of the data itself;
# - **coverage**: the share of real points whose own ball holds a sample. Recall can be fooled by one
#   far-off sample with a huge ball; coverage uses the real balls only.
# - **KID**: the squared maximum mean discrepancy with the kernel (x·y/d + 1)³, unbiased, on
#   disjoint blocks, with its standard error. Two samples of one distribution score 0 on average,
#   whatever their size; the FD of two such samples is positive and grows as they shrink.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.figure import Figure

import minigan
from minigan import data, optim
from minigan.gan import GAN, models
from minigan.gan.truncation import n_to_draw, truncate
from minigan.measure import metrics

args = lesson_setup(18, "Quality versus diversity", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(18)
TOY_STEPS = 600 if args.quick else 6000
IMAGE_STEPS = 40 if args.quick else 3000
N = 2000  # samples per set; the reference has as many, so that coverage means the same in every row
rng = np.random.default_rng(args.seed)

# %% [markdown]
# ## The measures on cases whose answer is known
#
# Before trusting them on a GAN: two samples of one 2-D Gaussian, a collapsed sample (10 points
# repeated), and two sets far apart.

# %%
a, b = rng.standard_normal((N, 2)), rng.standard_normal((N, 2))
same, col, apart = metrics.prdc(a, b), metrics.prdc(a, np.resize(b[:10], (N, 2))), metrics.prdc(a, b + 20)
for name, r in (("same distribution", same), ("10 points repeated", col), ("20 standard deviations apart", apart)):
    print(f"{name:30s} " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()))
check(min(same.values()) > 0.9 and abs(same["density"] - 1) < 0.1,
      "two samples of one distribution: precision, recall, density and coverage near 1",
      ", ".join(f"{k} {v:.3f}" for k, v in same.items()))
check(col["precision"] > 0.9 and col["recall"] < 0.05 and col["coverage"] < 0.05,
      "a collapsed sample: precision high, recall and coverage near 0",
      ", ".join(f"{k} {v:.3f}" for k, v in col.items()))
check(max(apart.values()) == 0, "disjoint sets: all four 0", ", ".join(f"{k} {v:.3f}" for k, v in apart.items()))
small = [metrics.kid(rng.standard_normal((40, 8)), rng.standard_normal((40, 8)), blocks=2, rng=rng)["kid"]
         for _ in range(100)]
fd_small = [metrics.frechet_distance(rng.standard_normal((40, 8)), rng.standard_normal((40, 8))) for _ in range(100)]
se = np.std(small) / np.sqrt(len(small))
print(f"100 pairs of 40-point samples of one 8-D Gaussian: mean KID {np.mean(small):+.4f} (standard error {se:.4f}), "
      f"mean FD {np.mean(fd_small):.3f}")
check(abs(np.mean(small)) < 3 * se and min(fd_small) > 0,
      "on small samples of one distribution KID averages to 0; the FD is positive every time (its bias)",
      f"mean KID {np.mean(small):+.4f} ± {se:.4f}, FD from {min(fd_small):.3f}")
pause()

# %% [markdown]
# ## grid25: a vanilla GAN, its truncated samples, a PacGAN, and a collapse
#
# Two GANs with lesson 09's MLP pair and Adam (lr 1e-3, β₁ = 0.5): a vanilla one, and the same with
# PacGAN's packing (D judges 4 samples at once, `models.mlp(..., pack=4)`). Then the vanilla G's
# *Jacobian-truncated* samples (`gan.truncation`: keep the 80% of z where G stretches least, which
# drops samples on the bridges between modes), the data itself, and a collapse: 10 data points
# repeated. All scored against a fresh sample of the data, in raw coordinates.

# %%
def train_toy(pack: int) -> GAN:
    minigan.manual_seed(args.seed)
    g_rng = np.random.default_rng([args.seed, pack])
    G, D = models.mlp((2,), z_dim=2, hidden=128, pack=pack)
    gan = GAN(G, D, optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
              optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)))

    def batches():
        while True:
            yield data.sample("grid25", 256, g_rng)

    it = batches()
    for _ in range(TOY_STEPS):
        gan.train_step(it)
    return gan


vanilla, packed = train_toy(1), train_toy(4)
reference = data.sample("grid25", N, np.random.default_rng([args.seed, 8]))
radii = metrics.knn_radii(reference)
z = vanilla.sample_z(n_to_draw(N, 0.8))
kept = truncate(vanilla.G, z, N)
real = data.sample("grid25", N, rng)
toy_sets = {
    "vanilla": vanilla.generate(vanilla.sample_z(N)).numpy(),
    "vanilla, truncated (80%)": vanilla.generate(z).numpy()[kept],
    "PacGAN (pack 4)": packed.generate(packed.sample_z(N)).numpy(),
    "real data": real,
    "collapse (10 points)": np.resize(real[:10], (N, 2)),
}


def toy_row(x: np.ndarray) -> dict:
    return {**metrics.toy_quality(x, "grid25"), **metrics.prdc(reference, x, real_radii=radii),
            **metrics.kid(reference, x, rng=np.random.default_rng(args.seed))}


toy = {name: toy_row(x) for name, x in toy_sets.items()}
print(f"grid25, {TOY_STEPS} training steps, {N} samples per set against {N} fresh data points")
print(f"{'set':26s} {'modes':>6s} {'HQ':>6s} {'precision':>9s} {'recall':>7s} {'density':>7s} {'coverage':>8s} "
      f"{'KID':>14s}")
for name, r in toy.items():
    print(f"{name:26s} {r['modes_covered']:3d}/25 {100 * r['high_quality']:5.1f}% {100 * r['precision']:8.1f}% "
          f"{100 * r['recall']:6.1f}% {r['density']:7.3f} {100 * r['coverage']:7.1f}% "
          f"{r['kid']:7.3g} ± {r['kid_se']:.2g}")
v, t, c, rd = toy["vanilla"], toy["vanilla, truncated (80%)"], toy["collapse (10 points)"], toy["real data"]
check(t["precision"] > v["precision"] and t["recall"] < v["recall"],
      "truncation trades diversity for quality: precision up, recall down", f"precision {100 * v['precision']:.1f}% "
      f"→ {100 * t['precision']:.1f}%, recall {100 * v['recall']:.1f}% → {100 * t['recall']:.1f}%", full_only=True)
check(c["high_quality"] > 0.9 and c["precision"] > 0.9 and c["recall"] < 0.05 and c["coverage"] < 0.05,
      "the collapse is all quality and no diversity: HQ and precision high, recall and coverage near 0",
      f"HQ {100 * c['high_quality']:.1f}%, precision {100 * c['precision']:.1f}%, recall {100 * c['recall']:.1f}%, "
      f"coverage {100 * c['coverage']:.1f}%")
check(v["recall"] - v["coverage"] > 0.3, "recall is generous to a GAN that smears between modes: its samples' "
      "balls are wide and swallow real points, while coverage, which uses only the real balls, stays low",
      f"vanilla: recall {100 * v['recall']:.1f}%, coverage {100 * v['coverage']:.1f}%")
gan_cov = max(toy[n]["coverage"] for n in ("vanilla", "vanilla, truncated (80%)", "PacGAN (pack 4)"))
check(rd["coverage"] > gan_cov, "real data covers more of the data than any of the GANs",
      f"real {100 * rd['coverage']:.1f}%, best GAN row {100 * gan_cov:.1f}%")
pause()

# %% [markdown]
# ## MNIST: a collapse with a perfect class histogram
#
# On images the features matter. Here they are lesson 10's top 20 principal components of the
# pixels, plus one more coordinate: the distance of the image from the plane of those 20 (without
# it, noise, whose energy is spread over all 784 directions, projects onto the mean image and looks
# "realistic"). The evaluator, `python -m minigan.evaluate`, uses its classifier's features instead.
# A nearest-class-mean reader says which digit an image is. The sets, each of 2,000 images,
# against 2,000 real reference images:
#
# - real images not in the reference;
# - a **collapse**: 10 real images, one per digit, each read correctly by the reader, repeated
#   200 times: its class histogram is perfectly uniform;
# - **blends**: the pixel average of two random real images (between the data's modes);
# - the samples of lesson 10's MLP GAN after a short run;
# - uniform noise.

# %%
x, y = data.load("mnist", "test", progress=False)
order = rng.permutation(len(x))
ref_i, real_i, pool = order[:N], order[N:2 * N], order[2 * N:]
flat = x.reshape(len(x), -1).astype(np.float64)
mean_px = flat[ref_i].mean(0)
_, _, vt = np.linalg.svd(flat[ref_i] - mean_px, full_matrices=False)
pcs = vt[:20].T
class_means = np.stack([flat[ref_i][y[ref_i] == k].mean(0) for k in range(10)])


def features(images: np.ndarray) -> np.ndarray:
    """The top 20 principal components, and a 21st coordinate: how far the image lies off their plane."""
    centred = images.reshape(len(images), -1).astype(np.float64) - mean_px
    coords = centred @ pcs
    off_plane = np.linalg.norm(centred - coords @ pcs.T, axis=1)
    return np.column_stack([coords, off_plane])


def read(images: np.ndarray) -> np.ndarray:
    f = images.reshape(len(images), -1).astype(np.float64)
    return ((f ** 2).sum(1)[:, None] - 2 * f @ class_means.T + (class_means ** 2).sum(1)[None]).argmin(1)


ref_feats = features(x[ref_i])
ref_radii = metrics.knn_radii(ref_feats)
pick = []
for k in range(10):  # the first image of each digit that the reader reads correctly
    cands = pool[y[pool] == k][:100]
    pick.append(cands[read(x[cands]) == k][0])

minigan.manual_seed(args.seed)
G, D = models.mlp((1, 28, 28))
img_gan = GAN(G, D, optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
              optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))
loader = data.DataLoader(x[pool], batch_size=64, generator=np.random.default_rng(args.seed))


def image_batches():
    while True:
        yield from loader


it = image_batches()
for _ in range(IMAGE_STEPS):
    img_gan.train_step(it)
i1, i2 = rng.choice(pool, N), rng.choice(pool, N)
image_sets = {
    "real images": x[real_i],
    f"MLP GAN, {IMAGE_STEPS} steps": img_gan.generate(img_gan.sample_z(N)).numpy(),
    "blends of two real images": (x[i1] + x[i2]) / 2,
    "collapse (10 images)": np.resize(x[pick], (N, 1, 28, 28)),
    "uniform noise": rng.uniform(-1, 1, size=(N, 1, 28, 28)).astype(np.float32),
}


def image_row(images: np.ndarray) -> dict:
    f = features(images)
    hist = np.bincount(read(images), minlength=10)
    return {"fd": metrics.frechet_distance(f, ref_feats), "class_kl": metrics.kl_to_uniform(hist),
            **metrics.prdc(ref_feats, f, real_radii=ref_radii),
            **metrics.kid(ref_feats, f, rng=np.random.default_rng(args.seed))}


img = {name: image_row(s) for name, s in image_sets.items()}
print(f"MNIST test split, top-20 principal components and the distance off their plane; {N} images per set "
      f"against {N} reference images")
print(f"{'set':28s} {'FD':>7s} {'class KL':>8s} {'precision':>9s} {'recall':>7s} {'density':>7s} {'coverage':>8s} "
      f"{'KID':>16s}")
for name, r in img.items():
    print(f"{name:28s} {r['fd']:7.1f} {r['class_kl']:8.3f} {100 * r['precision']:8.1f}% {100 * r['recall']:6.1f}% "
          f"{r['density']:7.3f} {100 * r['coverage']:7.1f}% {r['kid']:8.3g} ± {r['kid_se']:.2g}")
c, rr = img["collapse (10 images)"], img["real images"]
check(c["class_kl"] == 0.0 and c["precision"] >= 0.8,
      "the 10-image collapse has a perfect class histogram (KL 0) and a high precision (each image that lies in "
      "the real manifold adds 10%)",
      f"class KL {c['class_kl']:.3f}, precision {100 * c['precision']:.1f}% (real {100 * rr['precision']:.1f}%)")
check(c["recall"] < 0.05 and c["coverage"] < 0.05 and c["kid"] > 10 * c["kid_se"],
      "... while recall, coverage and KID expose it", f"recall {100 * c['recall']:.1f}%, coverage "
      f"{100 * c['coverage']:.1f}%, KID {c['kid']:.3g} ± {c['kid_se']:.2g}")
others = [n for n in img if n != "real images"]
check(all(rr["coverage"] > img[n]["coverage"] for n in others) and abs(rr["kid"]) < 3 * rr["kid_se"],
      "real images cover the reference best, and their KID is within 3 standard errors of 0",
      f"coverage {100 * rr['coverage']:.1f}%, KID {rr['kid']:.3g} ± {rr['kid_se']:.2g}")
check(img["uniform noise"]["precision"] < 0.1, "uniform noise is not realistic in these features: precision near 0 "
      "(its distance from the components' plane sets it apart)",
      f"precision {100 * img['uniform noise']['precision']:.1f}%")
pause()

# %% [markdown]
# ## One figure
#
# Top: the grid25 sets. Bottom: a few images of three MNIST sets, and every set of both datasets on
# the precision–recall and density–coverage planes. Real data sits at the top right; a collapse in
# the top left corner (realistic, not diverse); a GAN that smears between modes lower down.

# %%
fig = Figure(figsize=(16, 7.5))
for i, (name, pts) in enumerate(toy_sets.items()):
    ax = fig.add_subplot(2, 5, i + 1)
    ax.scatter(reference[:, 0], reference[:, 1], s=2, c="0.8")
    ax.scatter(pts[:, 0], pts[:, 1], s=2, c="tab:blue")
    r = toy[name]
    ax.set(xlim=(-5, 5), ylim=(-5, 5), xticks=[], yticks=[],
           title=f"{name}\nP {100 * r['precision']:.0f}%  R {100 * r['recall']:.0f}%  C {100 * r['coverage']:.0f}%")
for i, name in enumerate([f"MLP GAN, {IMAGE_STEPS} steps", "blends of two real images", "collapse (10 images)"]):
    ax = fig.add_subplot(2, 5, 6 + i)
    tiles = image_sets[name][:16, 0]
    ax.imshow(np.block([[tiles[4 * r + c] for c in range(4)] for r in range(4)]), cmap="gray", vmin=-1, vmax=1)
    ax.set(xticks=[], yticks=[], title=f"MNIST: {name}")
for j, (xk, yk, label) in enumerate((("recall", "precision", "recall → diversity"),
                                     ("coverage", "density", "coverage → diversity"))):
    ax = fig.add_subplot(2, 5, 9 + j)
    for rows, marker in ((toy, "o"), (img, "s")):
        for name, r in rows.items():
            ax.plot(r[xk], r[yk], marker, ms=7, label=("grid25: " if rows is toy else "MNIST: ") + name)
    ax.set(xlabel=label, ylabel=yk + " → quality", xlim=(-0.05, 1.05))
    if j == 1:
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0))
fig.tight_layout()
show(fig, OUT / "quality_vs_diversity.png")
pause()

# %% [markdown]
# **Question 18.1.** The collapse of 10 real MNIST images scores a perfect class histogram and the
# precision of real data. Which of the evaluator's numbers would a student who reads only the class
# histogram and the classifier score miss it with, and which one catches it?
#
# BEGIN ANSWER
# The class histogram, its KL to uniform and the classes covered are perfect, and the classifier
# score is high (confident, evenly spread predictions): all of them look at one sample at a time.
# Recall and coverage ask whether the *data* is reproduced: 10 repeated images have balls of radius 0
# (a duplicate is its own nearest neighbour), so no real image falls in them, and only the real
# images nearest the 10 have a sample in their own ball. KID and the FD see it too, as a
# mismatch of spread, but as one number that does not say which way the samples fail.
# END ANSWER
#
# **Question 18.2.** Truncation raises precision and lowers recall. Why is a GAN's "best" setting a
# choice, not a measurement?
#
# BEGIN ANSWER
# Because the two pull against each other: dropping the z where G stretches most removes the
# bridge samples (precision up) but also the rarer parts of the data G does reach (recall down).
# Which point on that curve is best depends on the use: a dataset augmenter needs recall, a demo
# needs precision. Reporting both, as the evaluator does, leaves the choice visible.
# END ANSWER

# %%
done("precision and density measure quality, recall and coverage diversity; a collapse with a perfect class "
     "histogram is caught by the second pair and by KID.")
