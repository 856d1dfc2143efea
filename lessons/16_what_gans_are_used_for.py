GOALS = """After this lesson you can:
- say for pix2pix, CycleGAN, SRGAN, text-to-image GANs, ProGAN and StyleGAN what each changes in G,
  in D or in the loss, and cite the paper (authors, year, title);
- write a pix2pix-style paired translation with minigan: a G that reads an image instead of noise, a
  PatchGAN D that scores (input, output) pairs patch by patch, and G's loss adversarial + λ L1;
- train it for 7x super-resolution of MNIST digits (4 x 4 -> 28 x 28) next to the same G trained on L1
  alone, and measure what the adversarial term buys (sharper strokes) and what it does not (pixel error);
- apply the truncation trick, z -> ψ z, to two trained toy Gs and measure what it does to spread and
  typicality: it helps where the data have a typical middle and hurts where they do not.
"""

# %% [markdown]
# # Lesson 16: what GANs are used for
#
# Lessons 04-14 built GANs that turn noise (in lesson 12, noise and a label) into a sample, with D
# judging that sample (and its label). Most uses of GANs change one of three things: what G reads
# (an image, a text, a label, as well as or instead of noise), what D judges (pairs, patches,
# several scales) and what is added to the adversarial loss (a reconstruction term that ties the
# output to the input). Six well-known designs:
#
# **Image-to-image translation: pix2pix.** Isola, Zhu, Zhou & Efros (2017), "Image-to-Image
# Translation with Conditional Adversarial Networks" (CVPR). Training data are *pairs* (x, y):
# edges and photo, map and aerial view, label map and street scene.
# - G: an encoder-decoder with skip connections (a U-Net) that reads the input image x; no
#   explicit z (the authors found G ignored it; dropout is the only randomness).
# - D: a *PatchGAN* that sees the pair (x, y) or (x, G(x)), stacked as channels, and outputs a
#   map of logits, one per 70 x 70 patch; the loss averages over patches. It judges local texture
#   and sharpness and leaves the global layout to the L1 term.
# - loss: the conditional GAN loss + λ ‖y - G(x)‖₁ (λ = 100). L1 alone gives the per-pixel median
#   of the plausible outputs: blurry where the input leaves the answer open; the adversarial
#   term makes G commit to one sharp answer.
#
# **Unpaired translation: CycleGAN.** Zhu, Park, Isola & Efros (2017), "Unpaired Image-to-Image
# Translation using Cycle-Consistent Adversarial Networks" (ICCV). Two unpaired sets X, Y (horses,
# zebras).
# - G: two generators, G: X -> Y and F: Y -> X; D: two discriminators, D_Y on Y and D_X on X
#   (70 x 70 PatchGANs), each an ordinary unconditional D: there are no pairs to show it.
# - loss: the two adversarial losses (least squares, as in LSGAN) + λ (‖F(G(x)) - x‖₁ +
#   ‖G(F(y)) - y‖₁), the *cycle-consistency* loss (λ = 10): a translation must be invertible,
#   which stops G from mapping every x to the same good-looking y.
#
# **Super-resolution: SRGAN.** Ledig et al. (2017), "Photo-Realistic Single Image Super-Resolution
# Using a Generative Adversarial Network" (CVPR).
# - G: a deep residual network on the low-resolution image, upsampling 4x with sub-pixel
#   convolutions; D: a VGG-style image classifier, high-resolution real vs super-resolved.
# - loss: the *perceptual* loss = a content loss, the squared distance between VGG-19 feature maps
#   of G's output and of the true image (instead of pixels), + 10⁻³ x the adversarial loss. Pixel
#   losses reach the best PSNR with smooth textures; the feature loss and D bring back texture
#   at a cost in PSNR.
#
# **Text to image.** Reed, Akata, Yan, Logeswaran, Schiele & Lee (2016), "Generative Adversarial
# Text to Image Synthesis" (ICML).
# - G: z ⊕ a compressed embedding φ(t) of the caption, from a pretrained text encoder (lesson 12's
#   conditioning, with a sentence in place of a class); D: the same embedding replicated over the
#   spatial positions of its feature map and concatenated there.
# - loss: the conditional GAN loss with a third kind of pair, a *real image with a mismatched
#   caption*, labelled fake (the matching-aware D, GAN-CLS), so that D checks that image and
#   text agree, not only that the image is real. Followed by StackGAN (Zhang et al. 2017) and
#   AttnGAN (Xu et al. 2018).
#
# **Progressive growing: ProGAN.** Karras, Aila, Laine & Lehtinen (2018), "Progressive Growing of
# GANs for Improved Quality, Stability, and Variation" (ICLR).
# - G and D: both start at 4 x 4; layers are added in mirror image to both, doubling the
#   resolution up to 1024 x 1024, each new layer faded in with a weight α rising from 0 to 1.
#   The coarse structure is learnt first, where the task is easy, the details later.
# - also: a minibatch standard-deviation feature in D (against mode collapse), an equalised
#   learning rate, pixelwise feature normalisation in G; the loss is WGAN-GP (lesson 13).
#
# **Style-based generators: StyleGAN.** Karras, Laine & Aila (2019), "A Style-Based Generator
# Architecture for Generative Adversarial Networks" (CVPR).
# - G: z does not enter the convolutions. A *mapping network* (an 8-layer MLP) maps z to w; the
#   synthesis network starts from a learnt constant, and at every layer an affine map of w sets
#   a per-channel scale and bias of the normalised features (AdaIN: *style modulation*); per-pixel
#   noise adds stochastic detail. Coarse layers' styles set pose and shape, fine layers' colour
#   and texture; mixing two w's between layers shows it. D: ProGAN's.
# - sampling: the *truncation trick* in W, w' = w̄ + ψ (w - w̄) with w̄ the mean of w and
#   ψ < 1: samples nearer the average look better and vary less. BigGAN (Brock, Donahue &
#   Simonyan 2019, "Large Scale GAN Training for High Fidelity Natural Image Synthesis") does
#   the same in z by redrawing large components. StyleGAN2 (Karras et al. 2020, "Analyzing and
#   Improving the Image Quality of StyleGAN") replaced AdaIN by weight demodulation.
#
# Below, two of these ideas on a CPU: pix2pix's recipe (image in, PatchGAN on pairs, adversarial
# + L1) for super-resolution of digits, then the truncation trick.

# %%
import time

import numpy as np
from _common import check, done, lesson_setup, out_dir, pause, show
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import minigan
from minigan import autograd as ops
from minigan import data, nn, optim
from minigan.gan import GAN, losses, models, plots
from minigan.measure import metrics

args = lesson_setup(16, "What GANs are used for", GOALS,
                    exercises=["sigmoid", "linear-backward", "adam", "im2col", "conv-transpose", "d-step", "g-step"])
OUT = out_dir(16)
SR_STEPS = 150 if args.quick else 2000  # updates of each super-resolution G
BATCH = 64
LAMBDA = 1.0  # weight of L1 next to the adversarial loss (pix2pix: 100; see the note below)
FACTOR = 7  # 28 x 28 digits seen as 4 x 4 blocks of 7 x 7 pixels
N_HELD_OUT = 1000
TOY_STEPS = 1000 if args.quick else 3000  # GAN steps of each toy G for the truncation trick

# %% [markdown]
# ## Paired data: a digit and its 4 x 4 thumbnail
#
# The input x is the digit averaged over 7 x 7 blocks (4 x 4 values), shown at 28 x 28 by repeating
# each value over its block, so that input and output have the same shape and can be stacked as
# the two channels of D's input, as in pix2pix. The target y is the digit itself. Many digits
# share a thumbnail (a 4 x 4 blob can be a 3, a 5 or an 8): the answer is not unique, which is
# where a per-pixel loss goes soft.

# %%
try:  # the training split if it is on disk; this lesson never downloads 60,000 images for a demo
    images, _ = data.load("mnist", "train", progress=False, download=False)
    split = "train"
except data.DataError:
    images, _ = data.load("mnist", "test", progress=False)
    split = "test"
    print("The MNIST training files are not available: using the test split (10,000 images) instead.")
images = images.astype(np.float32)


def thumbnail(y: np.ndarray) -> np.ndarray:
    """(N, 1, 28, 28) in [-1, 1] -> the same shape: means over FACTOR x FACTOR blocks, each repeated over its block."""
    n, m = y.shape[0], 28 // FACTOR
    low = y.reshape(n, 1, m, FACTOR, m, FACTOR).mean(axis=(3, 5))
    return np.repeat(np.repeat(low, FACTOR, axis=2), FACTOR, axis=3)


inputs = thumbnail(images)
train_x, train_y = inputs[:-N_HELD_OUT], images[:-N_HELD_OUT]
test_x, test_y = inputs[-N_HELD_OUT:], images[-N_HELD_OUT:]
print(f"mnist {split}: {len(train_y)} training pairs, {len(test_y)} held out; input and target {train_x.shape[1:]}")
pause()

# %% [markdown]
# ## G, a PatchGAN D and the two steps
#
# - G reads the input image instead of noise: an MLP 784 -> 256 -> 256 -> 784 with tanh (pix2pix's
#   U-Net would be the choice for real images; an MLP is what a CPU trains in seconds).
# - D is a PatchGAN: `Conv2d(2, 32, 8, stride=4, padding=2)`, LeakyReLU, `Conv2d(32, 1, 1)` maps the
#   stacked pair (N, 2, 28, 28) to a 7 x 7 map of logits, each one judging an 8 x 8 patch of input
#   and output together. Because it sees the input too, D can reject an output that is sharp but
#   does not fit its thumbnail.
# - D's step is lesson 06's three steps on pairs: (1) G(x) without a graph; (2) D's loss,
#   H(1, D(x, y)) + H(0, D(x, G(x))) averaged over every patch of the batch; (3) backprop into D
#   only and update D.
# - G's step is lesson 07's six: (1) there is no z, G's input is x; (2) G(x); (3) D(x, G(x)) inside
#   `nn.frozen(D)`; (4) G's loss, the non-saturating -mean log σ(D(x, G(x))) + λ mean |y - G(x)|;
#   (5) backprop through D into G; (6) update only G. With `adversarial=False` step (3)'s term is
#   dropped and D is never trained: the same G on L1 alone.
#
# λ = 1 here, not pix2pix's 100, so that the adversarial term weighs as much as L1 within a short
# run (change `LAMBDA` to compare); L1 still ties the output to its input (see the pixel errors below).

# %%


def make_G() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.LeakyReLU(0.2), nn.Linear(256, 256), nn.LeakyReLU(0.2),
                         nn.Linear(256, 784), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))


def make_D() -> nn.Module:
    return nn.Sequential(nn.Conv2d(2, 32, 8, stride=4, padding=2), nn.LeakyReLU(0.2), nn.Conv2d(32, 1, 1))


def pair(x: minigan.Tensor, y: minigan.Tensor) -> minigan.Tensor:
    """(input, output) stacked as channels: (N, 1, 28, 28) twice -> (N, 2, 28, 28)."""
    return ops.concat([x, y], axis=1)


def train(adversarial: bool) -> tuple[nn.Module, dict]:
    """SR_STEPS updates of a fresh G (and, if adversarial, a fresh PatchGAN D) on the training pairs."""
    minigan.manual_seed(args.seed)  # both runs start from the same G and see the same batches
    G, D = make_G(), make_D()
    opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    batches = data.DataLoader(train_x, train_y, batch_size=BATCH).batches()
    hist = {"l1": [], "g_adv": [], "d_loss": []}
    t0 = time.perf_counter()
    for _ in range(SR_STEPS):
        x, y = (minigan.tensor(a) for a in next(batches))
        if adversarial:  # D's three steps, on pairs
            with minigan.no_grad():
                fake = G(x)
            d_loss = losses.d_loss(D(pair(x, y)), D(pair(x, fake)))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            hist["d_loss"].append(d_loss.item())
        with nn.frozen(D):  # G's six steps
            fake = G(x)
            l1 = ops.mean(ops.abs(fake - y))
            loss = LAMBDA * l1
            if adversarial:
                g_adv = losses.g_loss_nonsaturating(D(pair(x, fake)))
                loss = loss + g_adv
                hist["g_adv"].append(g_adv.item())
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        hist["l1"].append(l1.item())
    hist["seconds"] = time.perf_counter() - t0
    return G, hist


G_l1, hist_l1 = train(adversarial=False)
G_gan, hist_gan = train(adversarial=True)
for name, h in (("L1 alone", hist_l1), ("L1 + adversarial", hist_gan)):
    extra = f", last D loss {h['d_loss'][-1]:.3f}, last G adversarial loss {h['g_adv'][-1]:.3f}" if h["d_loss"] else ""
    print(f"{name}: {SR_STEPS} steps in {h['seconds']:.1f} s, last batch L1 {h['l1'][-1]:.3f}{extra}")
pause()

# %% [markdown]
# ## What the adversarial term buys, measured on held-out thumbnails
#
# - pixel error, mean |y - G(x)|, against two baselines that ignore the mapping: the mean training
#   digit, and the blocky input itself;
# - *sharpness*, the mean absolute difference between neighbouring pixels (horizontal and vertical):
#   a blurry image has soft edges and scores low. Real digits set the reference.

# %%


def sharpness(img: np.ndarray) -> float:
    """Mean |difference| between horizontally and vertically neighbouring pixels, summed: (N, 1, H, W) -> float."""
    return float(np.abs(np.diff(img, axis=3)).mean() + np.abs(np.diff(img, axis=2)).mean())


with minigan.no_grad():
    out_l1 = G_l1(minigan.tensor(test_x)).numpy()
    out_gan = G_gan(minigan.tensor(test_x)).numpy()
err = {"L1 alone": np.abs(out_l1 - test_y).mean(), "L1 + adversarial": np.abs(out_gan - test_y).mean(),
       "mean training digit": np.abs(train_y.mean(axis=0, keepdims=True) - test_y).mean(),
       "the blocky input": np.abs(test_x - test_y).mean()}
sharp = {"L1 alone": sharpness(out_l1), "L1 + adversarial": sharpness(out_gan), "real digits": sharpness(test_y)}
for name, e in err.items():
    print(f"pixel error mean |y - prediction|, {name:20s} {e:.4f}")
for name, s in sharp.items():
    print(f"sharpness, {name:20s} {s:.4f}")
check(err["L1 + adversarial"] < 0.9 * min(err["mean training digit"], err["the blocky input"]),
      "the L1 + adversarial G has learnt the mapping: its held-out pixel error is below the mean digit's "
      "and the blocky input's", f"{err['L1 + adversarial']:.3f} vs {err['mean training digit']:.3f} and "
      f"{err['the blocky input']:.3f}")
check(sharp["L1 + adversarial"] > sharp["L1 alone"] + 0.01,
      "the adversarial term makes the outputs sharper than L1 alone does",
      f"sharpness {sharp['L1 + adversarial']:.3f} vs {sharp['L1 alone']:.3f} (real digits {sharp['real digits']:.3f})")
check(abs(sharp["L1 + adversarial"] - sharp["real digits"]) < abs(sharp["L1 alone"] - sharp["real digits"]),
      "... and closer to the sharpness of real digits",
      f"|{sharp['L1 + adversarial']:.3f} - {sharp['real digits']:.3f}| < |{sharp['L1 alone']:.3f} - "
      f"{sharp['real digits']:.3f}|")
check(err["L1 alone"] <= err["L1 + adversarial"],
      "sharper is not closer pixel by pixel: L1 alone, which minimises exactly this error, has the lower one",
      f"{err['L1 alone']:.4f} vs {err['L1 + adversarial']:.4f} (L1 + adversarial)")

show_n = 12
rows = np.concatenate([test_x[:show_n], out_l1[:show_n], out_gan[:show_n], test_y[:show_n]])
path = plots.save_grid(rows, OUT / "super_resolution.png", nrow=show_n,
                       row_labels=["input (4 x 4)", "L1 alone", "L1 + adversarial", "real digit"])
show(path)

# %% [markdown]
# Read the grid column by column: where the thumbnail leaves the digit open, L1 alone draws soft,
# smeared strokes, a compromise between the digits that share the thumbnail; with the PatchGAN's
# opinion G draws crisper strokes. Sharper is not the same as right: a crisp guess can be the
# wrong digit, and the pixel error (the last check) does not reward the GAN for its sharpness.
# That is SRGAN's observation too: adversarial training lowers PSNR a little and raises what
# people rate as realistic.
pause()

# %% [markdown]
# ## The truncation trick on two 2-D toys
#
# StyleGAN and BigGAN sample with ψ < 1: w' = w̄ + ψ (w - w̄), or z' = ψ z for z ~ N(0, I) (whose
# mean is 0). The trick assumes that the middle of the latent space is where G draws its most
# typical samples, and trades variety for typicality. Two MLP GANs, the same recipe, two data sets:
#
# - *blob*: one Gaussian, N(0, 0.3² I): it has a typical middle;
# - *ring8*: eight Gaussians on the unit circle (std 0.01): its middle is the empty centre.
#
# For ψ = 1, 0.75, 0.5, 0.25 and the same 2,500 z: the samples' *spread* (their standard deviation,
# averaged over x and y: diversity) and their *typicality*, the median distance to the nearest
# mode in units of the data's standard deviation (lower: more typical; a perfect sampler of the
# data scores sqrt(2 log 2) = 1.18). For ring8 also `metrics.toy_quality`'s modes covered and HQ share.

# %%
BLOB_STD = 0.3
toys = {"blob": (np.zeros((1, 2)), BLOB_STD), "ring8": data.modes("ring8")}
psis = [1.0, 0.75, 0.5, 0.25]


def toy_sample(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if name == "blob":
        return (BLOB_STD * rng.standard_normal((n, 2))).astype(np.float32)
    return data.sample(name, n, rng)


def typicality(points: np.ndarray, centers: np.ndarray, std: float) -> float:
    """Median distance to the nearest mode, in units of the data's std: (N, 2) -> float."""
    d = np.sqrt(((points[:, None, :] - centers[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return float(np.median(d) / std)


trunc = {}
for name, (centers, std) in toys.items():
    minigan.manual_seed(args.seed)
    toy_rng = np.random.default_rng(args.seed)
    G_toy, D_toy = models.mlp((2,), z_dim=2, hidden=64)
    toy = GAN(G_toy, D_toy, optim.Adam(G_toy.parameters(), lr=1e-3, betas=(0.5, 0.999)),
              optim.Adam(D_toy.parameters(), lr=1e-3, betas=(0.5, 0.999)))
    t0 = time.perf_counter()
    for _ in range(TOY_STEPS):
        toy.d_step(toy_sample(name, 128, toy_rng))
        toy.g_step(128)
    print(f"{name}: {TOY_STEPS} GAN steps in {time.perf_counter() - t0:.1f} s")
    z = toy.sample_z(2500)
    for psi in psis:
        pts = toy.generate(z * psi).numpy()
        r = {"points": pts, "spread": float(pts.std(axis=0).mean()), "typical": typicality(pts, centers, std)}
        line = f"  ψ = {psi:4.2f}: spread {r['spread']:.3f}, median distance to the nearest mode {r['typical']:.2f} std"
        if name == "ring8":
            r.update(metrics.toy_quality(pts, "ring8"))
            line += f", {r['modes_covered']}/8 modes covered, {100 * r['high_quality']:.1f}% high quality"
        trunc[name, psi] = r
        print(line)
lo, hi = psis[-1], psis[0]
for name in toys:
    check(trunc[name, lo]["spread"] < 0.98 * trunc[name, hi]["spread"],
          f"{name}: truncation lowers the samples' spread (ψ = {lo} vs 1)",
          f"{trunc[name, lo]['spread']:.3f} vs {trunc[name, hi]['spread']:.3f}")
check(trunc["blob", lo]["typical"] < trunc["blob", hi]["typical"],
      f"blob, a typical middle: with ψ = {lo} the samples lie nearer the mode than with ψ = 1",
      f"median distance {trunc['blob', lo]['typical']:.2f} vs {trunc['blob', hi]['typical']:.2f} std")
check(trunc["ring8", lo]["typical"] > trunc["ring8", hi]["typical"],
      f"ring8, an empty middle: with ψ = {lo} the samples lie farther from the modes than with ψ = 1",
      f"median distance {trunc['ring8', lo]['typical']:.1f} vs {trunc['ring8', hi]['typical']:.1f} std")

real_pts = {name: toy_sample(name, 1000, np.random.default_rng(args.seed + 1)) for name in toys}
fig = Figure(figsize=(3.6 * len(psis), 7.6), dpi=100, layout="constrained")
FigureCanvasAgg(fig)
axes = fig.subplots(2, len(psis))
for row, (name, (centers, _)) in zip(axes, toys.items()):
    lim = 1.6 if name == "ring8" else 1.2
    for ax, psi in zip(row, psis):
        r = trunc[name, psi]
        pts = r["points"][:1000]
        ax.scatter(real_pts[name][:, 0], real_pts[name][:, 1], s=4, alpha=0.35, color=plots.REAL_COLOR, label="data")
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.5, color=plots.FAKE_COLOR, label="G(ψ z)")
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=50, color="black", label="mode")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        extra = f", {100 * r['high_quality']:.0f}% HQ" if name == "ring8" else ""
        ax.set_title(f"{name}, ψ = {psi}\nspread {r['spread']:.2f}, median dist {r['typical']:.1f} std{extra}",
                     fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
show(fig, OUT / "truncation.png")

# %% [markdown]
# The blob is what the trick assumes: the middle of z maps to the middle of the data, so ψ < 1
# gives samples nearer the mode and less spread. On ring8 the middle of z has to go somewhere,
# and G sends it across the hole in the ring, where no data lie: shrinking z moves samples off the
# modes. The average face is a face, which is why the trick works for faces (and StyleGAN's
# mapping network gives W an average worth pulling towards); for data whose modes are apart,
# `minigan.gan.truncation` implements a selection by the size of G's Jacobian instead (Tanielian et
# al. 2020), which drops the z that G stretches across a gap.
#
# **Question 16.1.** Why does pix2pix's D see the input image as well as the output? What would a
# G trained against a D that sees only the output be free to do?
#
# BEGIN ANSWER
# A D on outputs alone asks "is this a real digit (photo, map)?", not "is this the right one for
# this input?". G could then ignore its input and draw any realistic image, the same one every
# time if it liked, and D would have no complaint; only the L1 term would tie the output to the
# input. Seeing the pair, D learns which outputs go with which inputs and rejects a sharp output
# that contradicts its thumbnail. (CycleGAN has no pairs, so its Ds see outputs alone, and the
# cycle-consistency loss takes over the job of tying output to input.)
# END ANSWER
#
# **Question 16.2.** The L1-only G has the lower pixel error, yet its outputs look worse. Which
# output minimises the expected L1 error when several digits fit a thumbnail, and why is that
# blurry?
#
# BEGIN ANSWER
# For each pixel, the median of that pixel over the digits that fit the thumbnail (L2 would give the
# mean). The median is taken pixel by pixel, so it need not be any one of the digits: where the
# candidates' strokes disagree the result is a soft compromise, thinner or smeared, that no real
# digit looks like, and it still wins on pixel error because it hedges. The adversarial loss
# penalises outputs that are not realistic, so G commits to one plausible digit, crisp but
# sometimes wrong, which costs pixel error whenever the guess is wrong.
# END ANSWER

# %%
done("pix2pix's recipe (an image in, a PatchGAN on pairs, adversarial + L1) sharpens what L1 alone blurs; "
     "truncation shrinks the spread, and makes samples more typical only where the data have a typical middle.")
