GOALS = """After this lesson you can:
- write a convolution as im2col: a patch matrix built with NumPy strided slices times the flattened
  kernel, and check it against minigan.conv2d;
- draw a transposed convolution: one input pixel stamps the whole kernel onto a stride-2 output;
- show that conv_transpose2d is conv2d's input-gradient (with minigan.grad);
- count G's and D's parameters by hand and match the counts their repr prints;
- train models.dcgan() on Fashion-MNIST with GAN.train_step and measure its samples against the data.
"""

# %% [markdown]
# # Lesson 11: DCGAN
#
# Lesson 10's MLPs treat a 28 × 28 image as 784 unrelated numbers. A convolution slides one small
# kernel over the image, so the same edge detector is used everywhere. DCGAN (Radford et al., 2015)
# builds D from strided convolutions (the image shrinks 28 → 14 → 7) and G from strided
# *transposed* convolutions (7 → 14 → 28). First the two operations, then the GAN.

# %%
import re

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, optim
from minigan.gan import GAN, models, plots
from minigan.measure import metrics

args = lesson_setup(11, "DCGAN", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "im2col", "conv-transpose", "d-step", "g-step"])
OUT = out_dir(11)
STEPS = 50 if args.quick else 600
BATCH = 32 if args.quick else 64
WIDTH = 16 if args.quick else 64
N_SNAPSHOTS = 2 if args.quick else 4

# %% [markdown]
# ## Convolution as im2col
#
# A 2 × 2 kernel on a 4 × 4 image (stride 1, no padding) has 3 × 3 positions. im2col ("image to
# columns") writes the 4 pixels under the kernel at each position as one row of a patch matrix
# P (9 × 4). The convolution is then one matrix product, P @ w.ravel(), reshaped to 3 × 3.
# Column (i, j) of P is the image seen through kernel cell (i, j): the strided slice
# x[i:i+3, j:j+3]. (Like every deep-learning library, "convolution" here is cross-correlation:
# the kernel is not flipped.)

# %%
img = np.arange(16, dtype=np.float32).reshape(4, 4)
kernel = np.array([[1.0, 2.0], [-1.0, 0.5]], dtype=np.float32)
KH, KW = kernel.shape
OH, OW = img.shape[0] - KH + 1, img.shape[1] - KW + 1
patches = np.stack([img[i:i + OH, j:j + OW].ravel() for i in range(KH) for j in range(KW)], axis=1)
print("image x (1 x 4 x 4):\n", img)
print("kernel w (2 x 2):\n", kernel)
print(f"patch matrix P: {patches.shape} (one row per output position, one column per kernel cell)\n", patches)
by_im2col = (patches @ kernel.ravel()).reshape(OH, OW)
by_minigan = minigan.conv2d(minigan.tensor(img[None, None]), minigan.tensor(kernel[None, None])).numpy()[0, 0]
print("P @ w.ravel(), reshaped to 3 x 3:\n", by_im2col)
print("minigan.conv2d(x, w):\n", by_minigan)
err = np.abs(by_im2col - by_minigan).max()
check(err < 1e-5, "im2col (patch matrix @ flattened kernel) equals minigan.conv2d", f"max |difference| {err:.1e}")
pause()

# %% [markdown]
# ## Transposed convolution, drawn
#
# A transposed convolution runs the other way: each *input* pixel multiplies the whole kernel and
# adds it into the output, at a place that moves `stride` pixels per input pixel. With a 4 × 4
# kernel, stride 2 and padding 1 (DCGAN's choice) a 3 × 3 input becomes 6 × 6: the size doubles,
# and neighbouring stamps overlap by 2 pixels. A one-hot input shows one stamp alone.

# %%
one_hot_in = np.zeros((1, 1, 3, 3), dtype=np.float32)
one_hot_in[0, 0, 1, 1] = 1.0
k4 = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)  # (IC, OC, KH, KW)
stamp = minigan.conv_transpose2d(minigan.tensor(one_hot_in), minigan.tensor(k4), stride=2, padding=1).numpy()
two_hot = one_hot_in.copy()
two_hot[0, 0, 1, 2] = 1.0  # a neighbour one step right: its stamp lands 2 pixels right, overlapping
overlap = minigan.conv_transpose2d(minigan.tensor(two_hot), minigan.tensor(k4), stride=2, padding=1).numpy()
print(f"input {one_hot_in.shape} (a 1 at (1, 1)), kernel {k4.shape}, stride 2, padding 1 -> output {stamp.shape}")
print("output of the one-hot input: the kernel, placed at rows/cols 2*1-1 .. 2*1+2:\n", stamp[0, 0])
touched = np.argwhere(stamp[0, 0] != 0)
check(stamp.shape == (1, 1, 6, 6) and len(touched) == 16 and np.array_equal(stamp[0, 0, 1:5, 1:5], k4[0, 0]),
      "one input pixel touches one 4 x 4 patch of the 6 x 6 output, and writes the kernel there",
      f"{len(touched)} output pixels touched, rows {touched[:, 0].min()}-{touched[:, 0].max()}, "
      f"cols {touched[:, 1].min()}-{touched[:, 1].max()}")
neighbour = np.zeros_like(one_hot_in)
neighbour[0, 0, 1, 2] = 1.0
stamp_right = minigan.conv_transpose2d(minigan.tensor(neighbour), minigan.tensor(k4), stride=2, padding=1).numpy()
shared = int(((stamp != 0) & (stamp_right != 0)).sum())
check(shared == 8 and np.allclose(overlap, stamp + stamp_right),
      "a neighbour's stamp lands 2 pixels right: the two overlap on 4 x 2 pixels, where they add",
      f"{shared} pixels shared; two-hot output = sum of the two stamps: {np.allclose(overlap, stamp + stamp_right)}")

fig = Figure(figsize=(11, 3.2), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
panels = [(one_hot_in[0, 0], "input 3 x 3 (one-hot)"), (k4[0, 0], "kernel 4 x 4"),
          (stamp[0, 0], "output 6 x 6: one stamp"), (overlap[0, 0], "two neighbouring inputs: stamps overlap")]
for ax, (a, title) in zip(fig.subplots(1, 4), panels):
    ax.imshow(a, cmap="viridis")
    for (r, c), v in np.ndenumerate(a):
        ax.text(c, r, f"{v:g}", ha="center", va="center", color="k" if v > 0.6 * a.max() else "w", fontsize=7)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("conv_transpose2d, stride 2, padding 1: each input pixel spreads the kernel onto the output")
path = OUT / "conv_transpose_stamp.png"
show(fig, path)
pause()

# %% [markdown]
# ## conv_transpose2d is conv2d's input-gradient
#
# conv2d is linear in x: y = C x for a (big, sparse) matrix C. Its backward pass multiplies the
# incoming gradient v by Cᵀ, which is exactly the transposed convolution with the same weight
# (hence the name). Check: ∂/∂x Σ(v · conv2d(x, w)) = conv_transpose2d(v, w), same stride/padding.

# %%
rng = np.random.default_rng(args.seed)
x = minigan.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
w = minigan.tensor(rng.standard_normal((5, 3, 4, 4)).astype(np.float32))  # conv2d: (OC, IC, KH, KW)
y = minigan.conv2d(x, w, stride=2, padding=1)
v = minigan.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
(gx,) = minigan.grad((y * v).sum(), x)
tx = minigan.conv_transpose2d(v, w, stride=2, padding=1)  # the same w, read as (IC, OC, KH, KW)
print(f"x {tuple(x.shape)} --conv2d--> y {tuple(y.shape)};  v {tuple(v.shape)} --conv_transpose2d--> "
      f"{tuple(tx.shape)}")
err = np.abs(gx.numpy() - tx.numpy()).max()
check(tx.shape == x.shape and err < 1e-4, "conv_transpose2d(v, w) is conv2d's input-gradient, from minigan.grad",
      f"max |grad_x - conv_transpose2d(v, w)| = {err:.1e}, largest entry {np.abs(gx.numpy()).max():.1f}")
pause()

# %% [markdown]
# **Question 11.1.** DCGAN's G upsamples with 4 × 4 kernels at stride 2. Why does a 4 × 4 kernel
# avoid checkerboard artifacts better than a 3 × 3 one at the same stride?
#
# BEGIN ANSWER
# With stride 2 the stamps of neighbouring input pixels start 2 output pixels apart. A kernel of width 4
# (a multiple of the stride) makes every output pixel (away from the border) lie under exactly 2
# stamps per direction, 4 in 2-D: the overlap is even. A kernel of width 3 overlaps unevenly: along each
# direction the output pixels alternate between lying under 2 stamps and under 1, so in 2-D the number of
# contributions runs 4, 2, 2, 1 in a 2 x 2 pattern. Even a constant input then gives a checkerboard,
# and G must learn weights that cancel it. Try it: conv_transpose2d of a 4 x 4 map of ones with a kernel of
# ones, padding 1, gives 4 everywhere inside for a 4 x 4 kernel and the pattern 4, 2, 2, 1 for 3 x 3 (Odena et
# al. 2016, "Deconvolution and checkerboard artifacts"). An even overlap only removes the built-in
# unevenness: learned weights can still make the four interleaved sub-grids differ, so 4 x 4 kernels make
# checkerboards rarer, not impossible (resize-then-convolve removes them by construction).
# END ANSWER

# %% [markdown]
# ## The data: Fashion-MNIST
#
# Ten kinds of clothing as 28 × 28 grey images, a harder drop-in for MNIST. `data.load` looks in
# the cache and in system folders (Debian ships the files in /usr/share/datasets/fashion-mnist);
# --quick never downloads. Without Fashion-MNIST the lesson falls back to the MNIST test split.

# %%
try:
    x_data, _ = data.load("fashion-mnist", "train", progress=False, download=not args.quick)
    source = "fashion-mnist train"
except data.DataError:
    try:
        x_data, _ = data.load("fashion-mnist", "test", progress=False, download=False)
        source = "fashion-mnist test"
        print("The Fashion-MNIST training files are not available: using its test split instead.")
    except data.DataError:
        x_data, _ = data.load("mnist", "test", progress=False, download=False)
        source = "mnist test"
        print("Fashion-MNIST is not available: using the MNIST test split (10,000 digits) instead.")
print(f"{source}: x {x_data.shape} {x_data.dtype} in [{x_data.min():.1f}, {x_data.max():.1f}]")
loader = data.DataLoader(x_data, batch_size=BATCH)
pause()

# %% [markdown]
# ## The DCGAN pair
#
# G: z → Linear → 7 × 7 feature maps → ConvTranspose2d (14 × 14) → ConvTranspose2d (28 × 28) → tanh,
# with BatchNorm and ReLU between. D: Conv2d stride 2 (14 × 14) → Conv2d stride 2 (7 × 7) → Linear,
# with LeakyReLU. `width` sets the number of channels. Their repr shows every layer's parameters.
# D has fewer parameters than lesson 10's MLP D: a convolution shares its kernel everywhere.
#
# Counting by hand, with w = width, z = 64 numbers, one image channel: a Linear(a, b) has a·b + b
# parameters, a convolution with C_in → C_out channels and a k × k kernel C_in·C_out·k² + C_out, a BatchNorm over
# c channels 2c (a scale and a shift; its running statistics are not parameters).
#
#     G: Linear(64, 98w) + BatchNorm1d(98w) + ConvT(2w → w) + BatchNorm2d(w) + ConvT(w → 1)
#        = (64·98w + 98w) + 2·98w + (2w·w·16 + w) + 2w + (w·16 + 1)  = 32w² + 6585w + 1
#     D: Conv(1 → w) + Conv(w → 2w) + BatchNorm2d(2w) + Linear(98w, 1)
#        = (16w + w) + (w·2w·16 + 2w) + 4w + (98w + 1)               = 32w² + 121w + 1

# %%
G, D = models.dcgan(width=WIDTH)
print(G)
print(D)
by_hand = {"G": 32 * WIDTH ** 2 + 6585 * WIDTH + 1, "D": 32 * WIDTH ** 2 + 121 * WIDTH + 1}
counted = {"G": sum(p.numpy().size for p in G.parameters()), "D": sum(p.numpy().size for p in D.parameters())}
# The repr's last line ends with "# N parameters", the module's total.
printed = {name: int(re.findall(r"# ([\d,]+) parameters", repr(net))[-1].replace(",", ""))
           for name, net in (("G", G), ("D", D))}
check(by_hand == counted == printed, f"G's and D's parameter counts at width {WIDTH} match the count by hand",
      f"G {by_hand['G']:,}, D {by_hand['D']:,} by hand; summed {counted['G']:,}, {counted['D']:,}; "
      f"repr {printed['G']:,}, {printed['D']:,}")
_, mlp_d = models.mlp((1, 28, 28))
n_mlp_d = sum(p.numpy().size for p in mlp_d.parameters())
check(counted["D"] < n_mlp_d, "the convolutional D has fewer parameters than lesson 10's MLP D",
      f"{counted['D']:,} vs {n_mlp_d:,}")
opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")
z_fixed = gan.sample_z(64)
z_eval = gan.sample_z(500)  # fixed noise for the measurements below
pause()

# %% [markdown]
# ## Train, with sample grids from a fixed z
#
# The grids are for your eyes; the numbers measure the same progress as in lesson 10: the Fréchet
# distance (`metrics.frechet_distance`) between G(z_eval), 500 samples from fixed noise, and the real
# images, both projected onto the real images' top 20 principal components; and the mean pixel (the
# data's background is black, an untrained G's grey). Both are scored at the first and the last grid.

# %%
order = np.random.default_rng(args.seed).permutation(len(x_data))
held_out, pick = order[:500], order[500:10_500]  # 500 real images to score; up to 10,000 as the reference
flat = x_data[pick].reshape(len(pick), -1).astype(np.float64)
pixel_mean = flat.mean(0)
_, _, vt = np.linalg.svd(flat[:3000] - pixel_mean, full_matrices=False)
pcs = vt[:20].T  # (784, 20)
ref_feats = (flat - pixel_mean) @ pcs


def measure(images: np.ndarray) -> tuple[float, float]:
    """(FD to the reference in the top 20 principal components, mean pixel) of images (N, 1, 28, 28)."""
    f = images.reshape(len(images), -1).astype(np.float64)
    return metrics.frechet_distance((f - pixel_mean) @ pcs, ref_feats), float(f.mean())


fd_real, mean_real = measure(x_data[held_out])
print(f"500 held-out real images: FD {fd_real:.1f}, mean pixel {mean_real:+.3f}")
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
scores, d_real, d_fake, losses = {}, [], [], []
batches = loader.batches()
for step in range(STEPS + 1):
    if step in snapshots:
        path = plots.save_grid(gan.generate(z_fixed).numpy(), OUT / f"samples_step{step:05d}.png", nrow=8,
                               title=f"DCGAN G(z) after {step} steps ({source})")
        show(path)
    if step in (0, STEPS):
        scores[step] = measure(gan.generate(z_eval).numpy())
        print(f"  scored at step {step}: FD {scores[step][0]:.1f}, mean pixel {scores[step][1]:+.3f}")
    if step == STEPS:
        break
    out = gan.train_step(batches)
    d_real.append(out["d_real"])
    d_fake.append(out["d_fake"])
    losses += [out["d_loss"], out["g_loss"]]
    if step % max(1, STEPS // 10) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x) {out['d_real']:.3f}  D(G(z)) {out['d_fake']:.3f}")
pause()

# %% [markdown]
# ## What this run showed

# %%
(fd0, m0), (fd1, m1) = scores[0], scores[STEPS]
samples = gan.generate(z_eval).numpy()
check(np.isfinite(losses).all() and np.isfinite(samples).all(), "training ran without NaN or inf",
      f"{STEPS} steps: every loss and all {samples.size:,} sample pixels finite")
gap = float(np.mean(np.array(d_real[:10]) - np.array(d_fake[:10])))
check(gap > 0.05, "D pulls ahead first: over the first 10 steps D(x) exceeds D(G(z))",
      f"mean D(x) - D(G(z)) over steps 0-9: {gap:.3f}")
check(fd1 < 0.95 * fd0 and abs(m1 - mean_real) < abs(m0 - mean_real),
      "G's samples move towards the data: the FD falls and the mean pixel approaches the data's",
      f"FD {fd0:.1f} -> {fd1:.1f} (real images {fd_real:.1f}); "
      f"mean pixel {m0:+.3f} -> {m1:+.3f} (data {mean_real:+.3f})")
check(fd1 < 0.25 * fd0, "the full run takes the FD below a quarter of the untrained G's", f"{fd1 / fd0:.0%} of it",
      full_only=True)

# %% [markdown]
# **Question 11.2.** D's first layer, Conv2d(1, w, 4, stride 2, padding 1), maps a 28 × 28 image to
# w × 14 × 14 with 17w parameters. How many would a Linear layer need for the same map, and what does
# the convolution assume about images that the Linear layer does not?
#
# BEGIN ANSWER
# A Linear(784, 196w) has 784 · 196w + 196w = 153,860w parameters (about 9.8 million at w = 64), some
# 9,000 times as many. The convolution assumes locality (each output looks at a 4 × 4 neighbourhood only,
# the Linear's weights to all other pixels are fixed at 0) and translation equivariance (the same
# kernel at every position: a stroke detector useful in one place is useful everywhere, and a shifted
# image gives shifted features). Both hold well for natural images and digits, which is why the
# convolutional D learns from far fewer parameters, and why G built from transposed convolutions draws
# local textures and edges more readily than lesson 10's MLP.
# END ANSWER

# %%
done(f"im2col and transposed convolution checked; {STEPS} DCGAN steps on {source}; figures in {OUT}.")
