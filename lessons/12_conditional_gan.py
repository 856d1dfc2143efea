GOALS = """After this lesson you can:
- make G conditional by concatenating a one-hot label to its input (z ⊕ one_hot(y)), and say why
  the same concatenation in D (x ⊕ one_hot(y)) hands D the label only as one bias vector per class
  in its first layer: usable, but a weak and slow path;
- give D the label by projection instead, D(x, y) = head(φ(x)) + ⟨embed(y), φ(x)⟩
  (models.mlp((1, 28, 28), n_classes=10, projection=True)), and check that formula by hand;
- train a conditional GAN with GAN(..., n_classes=10) on (x, y) batches from data.DataLoader(x, y, batch_size=...);
- measure whether G obeys y: the fraction of G(z, y) that a classifier reads as y (chance: 10%), and
  draw one row per class from fixed z (plots.save_grid(..., nrow=10, row_labels=...)).
"""

# %% [markdown]
# # Lesson 12: a conditional GAN, choosing the digit
#
# Lesson 10's G draws *some* digit; which one depends on z in a way nobody chose. A conditional GAN
# (Mirza & Osindero, 2014) hands the label to both players: G(z, y) must draw a y, and D(x, y)
# judges whether x is a real *y*. A 3 drawn when a 7 was asked for is now a fake D can catch, so G
# learns to obey y. Fix z and change y, and the same "handwriting" writes different digits.
#
# That is the theory. Whether it happens in a few thousand steps depends on how D gets the label,
# and this lesson measures it.

# %%
import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, functional
from minigan.gan import GAN, config, models, plots
from minigan.gan.run import build_gan
from minigan.measure import classifier

args = lesson_setup(12, "Conditional GAN: choose the digit", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "d-step", "g-step"])
OUT = out_dir(12)
STEPS = 40 if args.quick else 3000
BATCH = 64
N_CLASSES = 10
N_SNAPSHOTS = 2 if args.quick else 4
N_EVAL = 100 if args.quick else 300  # samples per measurement, N_EVAL / 10 per class

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
xb, yb = next(iter(data.DataLoader(x, y, batch_size=BATCH)))
print(f"one batch: x {tuple(xb.shape)}, y {tuple(yb.shape)}, first labels {[int(v) for v in yb[:8]]}")
pause()

# %% [markdown]
# ## One-hot concatenation
#
# A label enters a network as a one-hot vector: digit 3 is (0, 0, 0, 1, 0, 0, 0, 0, 0, 0). G's
# input is z ⊕ one_hot(y), 64 + 10 = 74 numbers, so its first Linear layer has a column of weights
# per class: a learned, class-specific shift of the first hidden layer. The obvious D does the
# same: the flattened image ⊕ one_hot(y), 784 + 10 = 794 numbers.

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
# ## Why concatenation makes D slow to hear y, and projection
#
# In D's first layer, W [x ⊕ one_hot(y)] = W_x x + W_y one_hot(y): one_hot(y) picks one column of
# W_y, so the label adds **one bias vector per class** to the pre-activations of the 256 hidden
# units that the 784 pixels already drive. In that layer the label only shifts; but after the first
# nonlinearity a shift changes which units fire for which x, and the later layers can mix those
# features into "does this x look like a y?". So the label is usable, and given time D learns to
# check it. It is a weak, slow path all the same: the class information lives in ten bias vectors
# at the very start of D, has to survive two nonlinearities to reach the verdict, and with Adam
# every weight moves about lr per step, so the 784 pixel weights per unit reshape D's features much
# faster than the one label weight does. D first learns "a real digit?" and hears y late.
#
# The projection discriminator (Miyato & Koyama, 2018) puts the label where D decides. With
# φ(x), D's last hidden features (256 numbers), and a learned vector embed(y) per class:
#
#     D(x, y) = head(φ(x)) + ⟨embed(y), φ(x)⟩
#
# The first term is the unconditional D ("a real digit?"), the second a per-class score ("a real
# *y*?"): an inner product of the label's vector with *every* final feature of x. Its gradient
# with respect to embed(y) is φ(x) itself, so from the first step each class learns a linear
# readout of D's best features, one layer from the verdict. The embeddings start at zero, so D
# starts as the unconditional D. G keeps z ⊕ one_hot(y). Check the formula against the model's forward:

# %%
G, D = models.mlp((1, 28, 28), n_classes=N_CLASSES, projection=True)
print(D)
xs = minigan.tensor(x[:4])
with minigan.no_grad():
    D.label.weight.data[...] = minigan.randn(N_CLASSES, 256).data  # pretend training moved the embeddings
    phi = D.body(xs)  # (4, 256)
    by_hand = D.head(phi).numpy()[:, 0] + (phi.numpy() * D.label.weight.numpy()[y[:4]]).sum(1)
    by_model = D(xs, y[:4]).numpy()[:, 0]
    print(f"D(x, y) by the formula: {np.round(by_hand, 4)}")
    print(f"D(x, y) by the model:   {np.round(by_model, 4)}")
    D.label.weight.data[...] = 0.0  # back to the start
formula_err = float(np.abs(by_hand - by_model).max())
check(formula_err < 1e-4 * max(1.0, float(np.abs(by_model).max())),
      "the projection D computes head(φ(x)) + ⟨embed(y), φ(x)⟩", f"max |formula - model| {formula_err:.1e} (float32)")
pause()

# %% [markdown]
# ## The measuring stick: does G(z, y) look like a y?
#
# A digit classifier reads each sample; "obeys y" is the fraction read as the requested digit.
# If minigan's CNN classifier is cached (`python -m minigan.evaluate --classifier mnist` trains it once, a
# few minutes, see `minigan.measure.classifier`), the lesson uses it; otherwise a nearest-class-mean
# classifier built from the real images here. Either way it is measured on real images first,
# so you know how far to trust it. Chance is 10%.

# %%
protocol = classifier.choose_protocol("mnist")
cached = classifier.cache_path("mnist", protocol)
if cached.exists():
    clf = classifier.Classifier.load(cached)
    judge_name = f"the CNN classifier ({clf.protocol}, {clf.accuracy:.1%} on its held-out real images)"

    def read_digit(images: np.ndarray) -> np.ndarray:
        return clf.probs(images).argmax(1)
else:
    means = np.stack([x[y == k].reshape(-1, 784).mean(0) for k in range(N_CLASSES)])  # (10, 784)

    def read_digit(images: np.ndarray) -> np.ndarray:
        flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
        return (((flat[:, None, :] - means[None]) ** 2).sum(-1)).argmin(1)

    judge_name = "a nearest-class-mean classifier (no cached CNN classifier)"
real_acc = float((read_digit(x[:1000]) == y[:1000]).mean())
print(f"judge: {judge_name}; it reads {real_acc:.1%} of 1,000 real images as their label")
check(real_acc > 0.7, "the judge reads most real digits right, so 'obeys y' measures G, not the judge",
      f"{real_acc:.1%} of 1,000 real images read as their label")
y_eval = np.repeat(np.arange(N_CLASSES), N_EVAL // N_CLASSES)


def obeys_y(gan: GAN, z_eval: minigan.Tensor) -> float:
    """The fraction of G(z, y) the judge reads as y, over N_EVAL samples (the same z every time)."""
    return float((read_digit(gan.generate(z_eval, y_eval).numpy()) == y_eval).mean())


pause()

# %% [markdown]
# ## Train both, and choose the digit
#
# Two conditional pairs, the same G design, the same game (`GAN(..., n_classes=10)` draws uniform
# labels for the fakes), built exactly as `python -m minigan.train --model mlp --conditional` builds
# them (`config.resolve`, then `build_gan`), so with the trainer's recipe for a conditional MLP: D
# reads x ⊕ one_hot(y) (`--condition concat`) or D is the projection discriminator (`--condition
# projection`, the trainer's default). The grid: 10 fixed z (columns) under every label 0..9 (rows),
# so each column keeps one z. If G obeys y, each row is one digit.
#
# The run prints "obeys y" at each snapshot and per digit at the end, and checks the comparison:
# with projection G obeys y sooner, and still more often after the same number of steps, while
# both designs get above chance. (`--quick` trains only a few dozen steps, too few for either: it
# prints the numbers without judging them.) Try a smaller learning rate, DCGAN's 2e-4, and watch
# which design suffers more.

# %%
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
row_labels = [str(k) for k in range(N_CLASSES)]
curves: dict[str, list[float]] = {}
start_spread: dict[str, float] = {}
for design in ("concatenation", "projection"):
    minigan.manual_seed(args.seed)  # both start from the same seed: the same G weights at step 0
    cfg = config.resolve({"dataset": "mnist", "model": "mlp", "conditional": True, "seed": args.seed,
                          "condition": "projection" if design == "projection" else "concat", "out": str(OUT)})
    gan = build_gan(cfg, (1, 28, 28), n_classes=N_CLASSES)  # what the trainer builds for this config
    G, D = gan.G, gan.D
    if design == "concatenation":
        print(f"the trainer's recipe: {'; '.join(cfg['recipes'])}")
        print(f"Adam(lr {cfg['lr']:g}, betas ({cfg['beta1']}, {cfg['beta2']})), {cfg['loss']} loss")
    z_cols = gan.sample_z(10).numpy()
    z_grid = minigan.tensor(np.tile(z_cols, (N_CLASSES, 1)))
    y_grid = np.repeat(np.arange(N_CLASSES), 10)
    z_eval = gan.sample_z(N_EVAL)
    batches = data.DataLoader(x, y, batch_size=BATCH).batches()
    curves[design] = []
    with minigan.no_grad():  # one image under all ten labels: does D's verdict depend on y at step 0?
        start_spread[design] = float(np.ptp(D(minigan.tensor(np.repeat(x[:1], N_CLASSES, 0)),
                                              np.arange(N_CLASSES)).numpy()))
    print(f"{design}: D is {type(D).__name__}, its first layer {D.body[1]}")
    for step in range(STEPS + 1):
        if step in snapshots:
            curves[design].append(obeys_y(gan, z_eval))
            print(f"  step {step:5d}: obeys y {curves[design][-1]:.1%}")
            if design == "projection" or step == STEPS:
                name = f"by_class_step{step:05d}.png" if design == "projection" else "by_class_concatenation.png"
                images = gan.generate(z_grid, y_grid).numpy()
                path = plots.save_grid(images, OUT / name, nrow=10, row_labels=row_labels,
                                       title=f"{design}: G(z, y) after {step} steps, row = y, column = z")
                show(path)
        if step == STEPS:
            break
        out = gan.train_step(batches)
        if step % max(1, STEPS // 3) == 0:
            print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
                  f"D(x, y) {out['d_real']:.3f}  D(G(z, y), y) {out['d_fake']:.3f}")
    final = read_digit(gan.generate(z_eval, y_eval).numpy())
    per_class = [(final[y_eval == k] == k).mean() for k in range(N_CLASSES)]
    print(f"  after {STEPS} steps, obeys y per digit 0..9: {' '.join(f'{v:.0%}' for v in per_class)}")
    pause()

# "Does not depend": equal up to float32 rounding (the ten rows of a batch may be summed in different orders).
check(start_spread["projection"] < 1e-5 and start_spread["concatenation"] > 1e-3,
      "at step 0 the projection D is the unconditional D (embeddings 0), the concatenation D already "
      "shifts with y", f"spread of D(x, y) over the 10 labels for one x: projection {start_spread['projection']:.1e}, "
      f"concatenation {start_spread['concatenation']:.1e}")
# A judge reading at random would hit y 10% of the time; over N_EVAL samples its rate scatters by
# √(0.1 · 0.9 / N_EVAL). Above chance means more than 3 of those above 10%.
above = 0.1 + 3 * np.sqrt(0.1 * 0.9 / N_EVAL)
check(curves["projection"][-1] > curves["concatenation"][-1],
      "after the same steps, G obeys y more often when D hears y by projection than by concatenation",
      f"obeys y after {STEPS} steps: projection {curves['projection'][-1]:.1%}, "
      f"concatenation {curves['concatenation'][-1]:.1%}", full_only=True)
# The slower path shows early: the first snapshot after step 0 (a third of the full run).
check(curves["projection"][1] > curves["concatenation"][1] + 0.2,
      "projection makes G obey y sooner: at the first snapshot it leads concatenation by over 20 points",
      f"obeys y after {snapshots[1]} steps: projection {curves['projection'][1]:.1%}, "
      f"concatenation {curves['concatenation'][1]:.1%}", full_only=True)
check(min(curves["projection"][-1], curves["concatenation"][-1]) > above,
      "with either design G obeys y above chance (10%): concatenation's label is weak, not useless",
      f"projection {curves['projection'][-1]:.1%}, concatenation {curves['concatenation'][-1]:.1%}; "
      f"chance + 3 standard errors = {above:.1%}", full_only=True)

fig = Figure(figsize=(6.5, 4), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
ax = fig.add_subplot()
for design, color in (("concatenation", "tab:red"), ("projection", "tab:blue")):
    ax.plot(snapshots, 100 * np.array(curves[design]), "o-", color=color, label=f"D by {design}")
ax.axhline(10, color="0.5", linestyle=":", label="chance (10%)")
ax.set_ylim(0, 100)
ax.set_xlabel("training step")
ax.set_ylabel("G(z, y) read as y (%)")
ax.set_title(f"Does G obey y? (judge: {'CNN' if cached.exists() else 'nearest class mean'})")
ax.legend(fontsize=8)
path = OUT / "obeys_y.png"
show(fig, path)

# %% [markdown]
# **Question 12.1.** Take a D with no hidden layer at all: D(x, y) = w · x + c_y + b, where c_y is the label's
# weight from the concatenated one_hot(y). Can this D judge "is x a real y"? What do D's hidden layers add?
#
# BEGIN ANSWER
# No. The label adds a constant c_y that does not depend on x: for every y the D ranks all images in the same
# order, w · x. The best it can learn is that some labels come more often with real images than with fakes
# (here both are uniform, so nothing); a 3 submitted as a 7 scores exactly what it scores as a 3. With a hidden
# layer h = act(W_x x + W_y one_hot(y)) the class bias moves each unit's threshold, so the units that fire, and
# therefore the features the next layer reads, depend on y and x together: D *can* check the label, but only
# through ten bias vectors in its first layer, which it learns slowly. Projection adds ⟨embed(y), φ(x)⟩ at the
# output: a per-class linear score of D's final features, whose gradient for embed(y) is φ(x) from the start.
# END ANSWER
#
# **Question 12.2.** Suppose D ignored y entirely. What would a conditional G learn to do with its label input,
# and what would "obeys y" read?
#
# BEGIN ANSWER
# Nothing in particular: G's loss depends on y only through D's verdict, so if D's verdict does not depend on y,
# no gradient asks G(z, y) to match the label. y becomes a few more inputs of noise: G may ignore it or use it
# to vary its digits arbitrarily, and its samples for every y come from the same label-free mixture. The judge
# then reads the requested digit about as often as chance, 10% (each digit is about a tenth of the mixture).
# A conditional G obeys y only as far as D checks y.
# END ANSWER

# %%
done(f"{STEPS} steps of two conditional MLP GANs on MNIST ({split}); G obeys y in "
      f"{curves['concatenation'][-1]:.0%} (D by concatenation) and {curves['projection'][-1]:.0%} "
      f"(D by projection) of its samples, chance 10%.")
