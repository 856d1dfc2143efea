"""Every lesson runs in --quick mode, as a script and as a notebook, writes (and in a notebook shows)
the figures it promises, and every claim it checks holds in this run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.classroom.markers import lesson_exercises

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
TRACER = Path(__file__).resolve().parent / "trace_exercises.py"
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
                                  "bridges.png", "losses.png", "d_outputs.png"],
    "09_mode_collapse.py": ["xy_game_trajectories.png", "grid25_samples.png", "g_moves_second.png"],
    "10_mlp_gan_mnist.py": ["samples_step00000.png", "samples_step00020.png", "samples_step00040.png",
                            "losses.png"],
    "11_dcgan.py": ["conv_transpose_stamp.png", "samples_step00000.png", "samples_step00050.png"],
    "12_conditional_gan.py": ["by_class_step00000.png", "by_class_step00040.png", "by_class_concatenation.png",
                              "obeys_y.png"],
    "13_wasserstein_gan.py": ["js_vs_w1.png", "g_gradient_vs_distance.png", "critic_gradient_norms.png",
                              "ring8_wgan_gp.png"],
    "14_unrolled_gan.py": ["ring8_vanilla.png", "ring8_unrolled_first_order.png", "ring8_unrolled_second_order.png",
                           "modes_over_steps.png"],
    "15_numpy_vs_cupy.py": ["timings.png"],
    "16_what_gans_are_used_for.py": ["super_resolution.png", "truncation.png"],
    "17_game_dynamics.py": ["fields.png", "eigenvalues.png", "what_converges.png"],
    "18_quality_vs_diversity.py": ["quality_vs_diversity.png"],
}
# Lessons that read MNIST; only the test files are needed (the lessons fall back to the test split).
# Lesson 11 prefers Fashion-MNIST (found in the cache or /usr/share/datasets) and falls back to MNIST's test split.
MNIST = Path(os.environ.get("MINIGAN_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"))
NEEDS_MNIST = {"10_mlp_gan_mnist.py", "11_dcgan.py", "12_conditional_gan.py", "16_what_gans_are_used_for.py",
               "18_quality_vs_diversity.py"}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_lesson_runs_quick_and_writes_figures(script: str, tmp_path: Path) -> None:
    out = LESSONS / "out" / script[:2]
    for name in EXPECTED[script]:
        (out / name).unlink(missing_ok=True)  # a stale figure from an earlier run must not pass the test
    # A cache of its own: what a lesson runs must not depend on what this machine cached before
    # (lesson 12 uses a cached CNN judge, which runs the im2col exercise, where one exists).
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MINIGAN_BACKEND="numpy",
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    if script in NEEDS_MNIST:
        if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
            pytest.skip(f"the MNIST test files are not in {MNIST}")
        env["MINIGAN_DATA"] = str(MNIST)
    # The lesson runs as a script under a line tracer on the classroom kit's exercise regions, so the same
    # run proves that the exercises the lesson declares are exactly those its cells execute.
    result = subprocess.run([sys.executable, str(TRACER), str(LESSONS / script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Done:" in result.stdout
    assert_claims_hold(script, result.stdout)
    traced = result.stdout.strip().splitlines()[-1]
    assert traced.startswith("EXERCISES:"), traced
    assert sorted(traced.split()[1:]) == sorted(lesson_exercises(LESSONS / script)), (
        f"{script} runs the exercises {traced.split()[1:]}: declare exactly those in its lesson_setup(exercises=...)")
    for name in EXPECTED[script]:
        png = out / name
        assert png.is_file(), f"{script} did not write {png}"
        head = png.read_bytes()[:8]
        assert png.stat().st_size > 1000 and head == PNG_MAGIC, f"{png} is not a non-empty PNG"


def assert_claims_hold(script: str, output: str) -> None:
    """The lesson checked at least one claim, and none that quick mode is meant to show failed."""
    failed = [line.strip() for line in output.splitlines() if line.strip().startswith("NOT SHOWN")]
    assert not failed, f"{script}: a claim the lesson checks did not hold in this run:\n" + "\n".join(failed)
    assert "  PASS  " in output, f"{script} checked none of its claims"
    assert "Traceback" not in output


def _lesson_env(script: str, cache: Path) -> dict[str, str]:
    env = {"MINIGAN_QUICK": "1", "MINIGAN_BACKEND": "numpy", "OMP_NUM_THREADS": "1", "XDG_CACHE_HOME": str(cache)}
    if script in NEEDS_MNIST:
        if not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
            pytest.skip(f"the MNIST test files are not in {MNIST}")
        env["MINIGAN_DATA"] = str(MNIST)
    return env


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_lesson_runs_as_a_notebook(script: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """jupytext turns the lesson into a notebook; nbclient executes it headless in a fresh kernel from lessons/
    (as Jupyter would), with quick mode chosen by the environment, not by argv."""
    jupytext = pytest.importorskip("jupytext", reason="jupytext is in the dev extra: pip install -e '.[dev]'")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra: pip install -e '.[dev]'")
    for key, value in _lesson_env(script, tmp_path / "cache").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend, as in Jupyter
    out = LESSONS / "out" / script[:2]
    for name in EXPECTED[script]:
        (out / name).unlink(missing_ok=True)
    notebook = jupytext.read(LESSONS / script)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert "Done:" in text
    assert_claims_hold(script, text)
    assert "Lesson " + script[:2] in text and "quick mode" in text and "After this lesson you can" in text, \
        "the header and the goals come from the lesson (not from IPython's __doc__)"
    assert len(images) >= len(EXPECTED[script]), (f"{script}: {len(images)} inline images, "
                                                 f"but the lesson writes {len(EXPECTED[script])} figures")
    for name in EXPECTED[script]:
        assert (out / name).is_file(), f"{script} as a notebook did not write {out / name}"


def test_every_lesson_is_listed() -> None:
    scripts = {p.name for p in LESSONS.glob("[0-9][0-9]_*.py")}
    assert scripts == set(EXPECTED)
