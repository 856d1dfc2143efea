GOALS = """After this lesson you can:
- write a convolution as im2col: a patch matrix built with NumPy strided slices times the flattened
  kernel, and check it against minigan.conv2d;
- draw a transposed convolution: one input pixel stamps the whole kernel onto a stride-2 output;
- show that conv_transpose2d is conv2d's input-gradient (with minigan.grad);
- train models.dcgan() on Fashion-MNIST with GAN.train_step and read G's and D's parameter counts.
"""

# %% [markdown]
# # Lesson 11: DCGAN
#
# Lesson 10's MLPs treat a 28 × 28 image as 784 unrelated numbers. A convolution slides one small
# kernel over the image, so the same edge detector is used everywhere. DCGAN (Radford et al., 2015)
# builds D from strided convolutions (the image shrinks 28 → 14 → 7) and G from strided
# *transposed* convolutions (7 → 14 → 28). First the two operations, then the GAN.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import data, models, optim, plots
from minigan.gan import GAN

args = lesson_setup(11, "DCGAN", GOALS)
OUT = out_dir(11)
STEPS = 10 if args.quick else 600
BATCH = 16 if args.quick else 64
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
print(f"max |difference| = {np.abs(by_im2col - by_minigan).max():.2e}")
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

fig = Figure(figsize=(11, 3.2), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
panels = [(one_hot_in[0, 0], "input 3 x 3 (one-hot)"), (k4[0, 0], "kernel 4 x 4"),
          (stamp[0, 0], "output 6 x 6: one stamp"), (overlap[0, 0], "two neighbouring inputs: stamps overlap")]
for ax, (a, title) in zip(fig.subplots(1, 4), panels):
    ax.imshow(a, cmap="viridis")
    for (r, c), v in np.ndenumerate(a):
        ax.text(c, r, f"{v:g}", ha="center", va="center", color="w", fontsize=7)
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
print(f"max |grad_x - conv_transpose2d(v, w)| = {np.abs(gx.numpy() - tx.numpy()).max():.2e}")
pause()

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
# Note how few D has compared with lesson 10's MLP D: a convolution shares its kernel everywhere.

# %%
G, D = models.dcgan(width=WIDTH)
print(G)
print(D)
opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")
z_fixed = gan.sample_z(64)
pause()

# %% [markdown]
# ## Train, with sample grids from a fixed z
#
# After 10 quick steps the samples are still noise. Measured in the full run (600 steps at width 64,
# seed 0): blurry, blocky silhouettes of tops, coats and a few trousers on a black background;
# shoes and bags are not yet recognisable. Longer runs sharpen them.

# %%
snapshots = sorted({int(s) for s in np.linspace(0, STEPS, N_SNAPSHOTS)})
batches = loader.batches()
for step in range(STEPS + 1):
    if step in snapshots:
        path = plots.save_grid(gan.generate(z_fixed).numpy(), OUT / f"samples_step{step:05d}.png", nrow=8,
                               title=f"DCGAN G(z) after {step} steps ({source})")
        show(path)
    if step == STEPS:
        break
    out = gan.train_step(batches)
    if step % max(1, STEPS // 10) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x) {out['d_real']:.3f}  D(G(z)) {out['d_fake']:.3f}")
done(f"im2col and transposed convolution checked; {STEPS} DCGAN steps on {source}; figures in {OUT}.")
