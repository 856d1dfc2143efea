GOALS = """After this lesson you can:
- run the full alternating game (GAN.train_step: a D step, then a G step) on ring8;
- read GAN Lab's picture: D's heatmap with real and generated points, frame by frame
  (plots.field_frame, plots.save_gif);
- explain why the losses do not show convergence, and watch D(x) and D(G(z)) tend to 1/2 instead (plots.plot_d_outputs).
"""

# %% [markdown]
# # Lesson 08: the alternating game on 2-D data
#
# Lessons 06 and 07 were the two halves; `GAN.train_step` plays them in turn, forever:
# D learns where G's points are, G moves them to where D says "real", D learns again. At the
# game's equilibrium p_g = p_data, D* = 1/2 everywhere (lesson 05) and neither can improve.

# %%
import numpy as np
from _common import done, lesson_setup, out_dir, pause, show

import minigan
from minigan import data, models, optim, plots
from minigan.gan import GAN

args = lesson_setup(8, "The alternating game on 2-D data", GOALS)
OUT = out_dir(8)
STEPS = 400 if args.quick else 4000
BATCH = 128 if args.quick else 256
RES = 60 if args.quick else 150
N_FRAMES = 8 if args.quick else 20
rng = np.random.default_rng(args.seed)

# %%
centers, _ = data.modes("ring8")
G, D = models.mlp((2,), z_dim=2, hidden=64)
opt_g = optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
gan = GAN(G, D, opt_g, opt_d, loss="nonsaturating")


def real_batches():
    while True:
        yield data.sample("ring8", BATCH, rng)


def d_fn(points: np.ndarray) -> np.ndarray:
    return gan.d_probability(minigan.tensor(points)).numpy().ravel()


extent = (-1.8, 1.8, -1.8, 1.8)
z_fixed = gan.sample_z(400)
real_show = data.sample("ring8", 400, rng)
print(f"{STEPS} steps of train_step, batch {BATCH}, {N_FRAMES} frames")
pause()

# %% [markdown]
# ## Play the game, taking a picture now and then
#
# The same z for every frame, so a point's motion is G's doing. Frames are collected with
# `plots.field_frame` into a GIF; a few are also saved as PNGs.

# %%
frame_steps = sorted({int(s) for s in np.linspace(0, STEPS, N_FRAMES)})
png_steps = {frame_steps[0]: "start", frame_steps[len(frame_steps) // 3]: "early",
             frame_steps[2 * len(frame_steps) // 3]: "middle", STEPS: "end"}
frames, hist = [], {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
batches = real_batches()
for step in range(STEPS + 1):
    if step in frame_steps:
        fake = gan.generate(z_fixed).numpy()
        frames.append(plots.field_frame(real_show, fake, d_fn, step=step, extent=extent, resolution=RES,
                                        modes=centers))
        if step in png_steps:
            path = plots.plot_2d_field(real_show, fake, d_fn, OUT / f"field_{png_steps[step]}.png", step=step,
                                       extent=extent, resolution=RES, modes=centers)
            show(path)
    if step == STEPS:
        break
    out = gan.train_step(batches)
    for key in hist:
        hist[key].append(step if key == "step" else out[key])
    if step % (STEPS // 5) == 0:
        print(f"  step {step:5d}  d_loss {out['d_loss']:.3f}  g_loss {out['g_loss']:.3f}  "
              f"D(x) {out['d_real']:.3f}  D(G(z)) {out['d_fake']:.3f}")
path = plots.save_gif(frames, OUT / "game.gif", fps=3)
print(f"wrote {path} ({len(frames)} frames)")
pause()

# %% [markdown]
# ## Why the losses do not show convergence
#
# In ordinary training the loss goes down. Here each loss is measured against the *other* player,
# who keeps changing: when G improves, D's loss goes up; when D improves, G's loss goes up. At the
# equilibrium they do not reach 0 but d_loss = 2 log 2 ≈ 1.386 and g_loss = log 2 ≈ 0.693, and
# a loss near those values can equally mean "both are bad". What does tend to a known value is
# D's output: D(x) and D(G(z)) both → 1/2 when D can no longer tell the two apart.

# %%
h = {k: np.array(v) for k, v in hist.items()}
tail = slice(len(h["step"]) * 3 // 4, None)
print(f"last quarter: mean d_loss {h['d_loss'][tail].mean():.3f} (equilibrium 2 log 2 = {2 * np.log(2):.3f}), "
      f"mean g_loss {h['g_loss'][tail].mean():.3f} (log 2 = {np.log(2):.3f})")
print(f"last quarter: mean D(x) {h['d_real'][tail].mean():.3f}, "
      f"mean D(G(z)) {h['d_fake'][tail].mean():.3f} (both → 0.5)")
print("Note: the losses oscillate rather than fall, because each is measured against a moving opponent; "
      "judge the game by D(x), D(G(z)) and the pictures, not by a loss going down.")
path = plots.plot_losses(h["step"], h["d_loss"], h["g_loss"], OUT / "losses.png")
show(path)
path = plots.plot_d_outputs(h["step"], h["d_real"], h["d_fake"], OUT / "d_outputs.png",
                            title="D(x) and D(G(z)) tend to 1/2")
show(path)
done("the alternating game moves G's points onto the data; D's outputs drift to 1/2.")
