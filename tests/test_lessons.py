"""Every lesson runs in --quick mode and writes the figures it promises (non-empty PNGs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

EXPECTED = {
    "01_generative_vs_discriminative.py": ["generative_vs_discriminative.png", "one_label_many_samples.png"],
    "02_autograd_from_scratch.py": ["value_vs_numeric.png"],
    "03_sampling_by_transforming_noise.py": ["push_forward.png", "learned_map.png"],
    "04_discriminator_is_a_classifier.py": ["d_field_before.png", "d_outputs.png", "d_field_after.png"],
    "05_minimax_gradients.py": ["optimal_d.png", "g_gradients.png"],
    "06_training_d_with_g_frozen.py": ["d_field_before.png", "d_field_after.png"],
    "07_training_g_through_d.py": ["g_climbs_d.png", "d_field_after_g.png"],
    "08_alternating_game_2d.py": ["field_start.png", "field_early.png", "field_middle.png", "field_end.png",
                                  "losses.png", "d_outputs.png"],
    "09_mode_collapse.py": ["xy_game_trajectories.png", "grid25_samples.png"],
    "10_mlp_gan_mnist.py": ["samples_step00000.png", "samples_step00020.png", "samples_step00040.png",
                            "losses.png"],
    "11_dcgan.py": ["conv_transpose_stamp.png", "samples_step00000.png", "samples_step00010.png"],
    "12_conditional_gan.py": ["by_class_step00000.png", "by_class_step00040.png", "by_class_concatenation.png",
                              "obeys_y.png"],
    "13_wasserstein_gan.py": ["js_vs_w1.png", "critic_gradient_norms.png", "ring8_wgan_gp.png"],
    "14_unrolled_gan.py": ["ring8_vanilla.png", "ring8_unrolled_first_order.png", "ring8_unrolled_second_order.png",
                           "modes_over_steps.png"],
    "15_numpy_vs_cupy.py": ["timings.png"],
}
# Lessons that read MNIST; only the test files are needed (the lessons fall back to the test split).
# Lesson 11 prefers Fashion-MNIST (found in the cache or /usr/share/datasets) and falls back to MNIST's test split.
MNIST = Path(os.environ.get("MINIGAN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
NEEDS_MNIST = {"10_mlp_gan_mnist.py", "11_dcgan.py", "12_conditional_gan.py"}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_lesson_runs_quick_and_writes_figures(script: str, tmp_path: Path) -> None:
    out = LESSONS / "out" / script[:2]
    for name in EXPECTED[script]:
        (out / name).unlink(missing_ok=True)  # a stale figure from an earlier run must not pass the test
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MINIGAN_BACKEND="numpy")
    if script in NEEDS_MNIST:
        if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
            pytest.skip(f"the MNIST test files are not in {MNIST}")
        env["MINIGAN_DATA"] = str(MNIST)
    result = subprocess.run([sys.executable, str(LESSONS / script), "--quick"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Done:" in result.stdout
    for name in EXPECTED[script]:
        png = out / name
        assert png.is_file(), f"{script} did not write {png}"
        head = png.read_bytes()[:8]
        assert png.stat().st_size > 1000 and head == PNG_MAGIC, f"{png} is not a non-empty PNG"


def test_every_lesson_is_listed() -> None:
    scripts = {p.name for p in LESSONS.glob("[0-9][0-9]_*.py")}
    assert scripts == set(EXPECTED)
