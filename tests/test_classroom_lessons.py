"""The lessons in the student edition: they ship, each stops with one sentence naming the stubs it
needs, runs on the reference solutions under MINIGAN_REFERENCE=1, and gives away no solution or answer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from minigan.classroom import kit as classroom
from minigan.classroom.markers import KitError, lesson_exercises, lesson_files, parse_cuts, registry

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.name for p in lesson_files(ROOT))
MNIST = Path(os.environ.get("MINIGAN_DATA", ROOT.parent / "shared" / "data" / "mnist"))
NEEDS_MNIST = {"10_mlp_gan_mnist.py", "11_dcgan.py", "12_conditional_gan.py", "16_what_gans_are_used_for.py"}
SENTENCE = re.compile(r"^Lesson (\d\d) needs exercises? (.+): solve (it|them)(, or run with MINIGAN_REFERENCE=1 "
                      r"to use the reference solutions| \(this edition ships no reference solutions\))\.$")


@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lessons") / "edition"
    classroom.release(out, with_reference=True)
    return out


def run_lesson(folder: Path, name: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", MINIGAN_BACKEND="numpy", **env)
    full.pop("PYTHONPATH", None)
    full["MINIGAN_DATA"] = str(MNIST)
    return subprocess.run([sys.executable, str(folder / "lessons" / name), "--quick"], cwd=folder, env=full,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)


def test_the_release_ships_every_lesson_with_its_answers_cut(edition):
    shipped = sorted(p.name for p in lesson_files(edition))
    assert shipped == LESSONS
    answers = sum(1 for name in LESSONS for c in parse_cuts((ROOT / "lessons" / name).read_text(), name)
                  if c.kind == "answer")
    assert answers >= len(LESSONS), "every lesson asks at least one written question"
    for name in LESSONS:
        text = (edition / "lessons" / name).read_text()
        assert "BEGIN ANSWER" not in text and "BEGIN SOLUTION" not in text
    assert not (edition / "lessons" / "out").exists()


@pytest.mark.parametrize("name", LESSONS)
def test_in_a_fresh_release_each_lesson_names_its_stubs_in_one_sentence(edition, name):
    result = run_lesson(edition, name)
    needed = lesson_exercises(ROOT / "lessons" / name)
    if not needed:
        assert result.returncode == 0 and "Done:" in result.stdout
        return
    assert result.returncode == 3, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stdout + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    m = SENTENCE.match(last)
    assert m, f"not the one sentence: {last!r}"
    assert m[1] == name[:2]
    named = re.findall(r"([a-z0-9-]+) \((minigan/[a-z0-9_/]+\.py), line (\d+)\)", m[2])
    assert [n for n, _, _ in named] == needed
    for ex_id, path, line in named:  # the line it names is that exercise's stub
        stub = (edition / path).read_text().splitlines()[int(line) - 1]
        assert f'raise NotImplementedError("Exercise {ex_id}:' in stub


@pytest.mark.parametrize("name", LESSONS)
def test_with_the_reference_solutions_every_lesson_runs(edition, name):
    if name in NEEDS_MNIST and not (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the MNIST test files are not in {MNIST}")
    result = run_lesson(edition, name, MINIGAN_REFERENCE="1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Done:" in result.stdout and "NOT SHOWN" not in result.stdout
    assert (edition / "lessons" / "out" / name[:2]).is_dir()


def test_a_partial_release_names_only_the_exercises_still_stubbed(tmp_path):
    classroom.release(tmp_path / "ed", only=["adam"])
    result = run_lesson(tmp_path / "ed", "04_discriminator_is_a_classifier.py")
    assert result.returncode == 3
    assert result.stdout.strip().splitlines()[-1].startswith("Lesson 04 needs exercise adam (minigan/optim.py, line ")
    assert result.stdout.strip().endswith("solve it (this edition ships no reference solutions).")
    result = run_lesson(tmp_path / "ed", "02_autograd_from_scratch.py")  # needs sum-to only, which is solved
    assert result.returncode == 0 and "Done:" in result.stdout
    result = run_lesson(tmp_path / "ed", "02_autograd_from_scratch.py", MINIGAN_REFERENCE="1")
    assert result.returncode == 2 and "has none" in result.stdout and "Traceback" not in result.stderr


def test_a_lesson_declares_only_exercises_the_kit_has():
    known = {e.id for e in registry(ROOT)}
    for name in LESSONS:
        assert set(lesson_exercises(ROOT / "lessons" / name)) <= known, name


def test_the_guide_holds_the_generated_lesson_table():
    guide = (ROOT / "docs" / "classroom.md").read_text()
    assert classroom.lessons_table(ROOT) in guide, "regenerate it: python -m minigan.classroom lessons"


def test_the_answer_key_has_every_question_and_the_release_none(edition):
    key = classroom.answers(ROOT)
    count = key.count("**Answer.**")
    assert count == sum(1 for name in LESSONS for c in parse_cuts((ROOT / "lessons" / name).read_text(), name)
                        if c.kind == "answer")
    assert "**Question" in key
    assert "BEGIN ANSWER" not in key and "END ANSWER" not in key, "each question is cut at the answer before it"
    assert classroom.answers(edition).count("**Answer.**") == 0


def test_a_solution_line_left_in_a_lesson_is_refused(tmp_path):
    import shutil
    root = tmp_path / "kit"
    shutil.copytree(ROOT / "minigan", root / "minigan", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests" / "exercises", root / "tests" / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (root / "lessons").mkdir()
    shutil.copy2(ROOT / "lessons" / "_common.py", root / "lessons" / "_common.py")
    # the BCE-on-logits solution line, copied into a lesson: the release must refuse it
    line = next(s.strip() for e in registry(ROOT) if e.id == "bce" for r in e.regions for s in r.body
                if "softplus" in s and "return" in s)
    (root / "lessons" / "01_x.py").write_text(f'GOALS = "After this lesson you can: x"\n\ndef f(logits, y):\n'
                                              f'    {line}\n', encoding="utf-8")
    with pytest.raises(KitError, match="still holds a solution line of exercise bce"):
        classroom.release(tmp_path / "ed", root=root)
