"""The classroom kit end to end in temporary folders: release, grade, check, and the marker rules."""

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest

from minigan.classroom import __main__ as cli
from minigan.classroom import kit as classroom
from minigan.classroom import markers as exercises
from minigan.classroom.markers import KitError, parse_regions

SIGMOID = "minigan/autograd/elementwise.py"  # where the sigmoid exercise lives


@pytest.fixture(scope="module")
def kit():
    return exercises.registry()


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """A fresh student edition of every exercise (tests that change it work on a copy)."""
    out = tmp_path_factory.mktemp("kit") / "edition"
    classroom.release(out)
    return out


def fill_in(edition, path, exercise_id, code):
    """Do what a student does: replace the stub line of one region with ``code`` (lines, unindented)."""
    file = edition / path
    lines = file.read_text().splitlines(keepends=True)
    i = next(k for k, line in enumerate(lines) if f'NotImplementedError("Exercise {exercise_id}:' in line)
    indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    lines[i : i + 1] = [indent + c + "\n" for c in code]
    file.write_text("".join(lines))


def test_the_registry_comes_from_the_markers(kit):
    ids = [e.id for e in kit]
    assert len(ids) >= 10 and ids == list(exercises.EXERCISE_TESTS)  # every exercise has tests, in order
    assert sum(e.points for e in kit) == 100
    sigmoid = kit[ids.index("sigmoid")]
    assert (sigmoid.points, sigmoid.title) == (5, "the logistic sigmoid, forward and backward")
    assert sigmoid.where == "minigan/autograd/elementwise.py: Sigmoid.forward, Sigmoid.backward"
    assert kit[ids.index("linear-backward")].where == "minigan/functional.py: Linear.backward"


def test_release_stubs_every_region_keeps_the_hints_and_drops_the_solutions(edition, kit):
    for e in kit:
        for r in e.regions:
            text = (edition / r.path).read_text()
            stub = f'{r.indent}raise NotImplementedError("Exercise {e.id}: {e.title}")\n'
            begin = r.indent + f"# BEGIN EXERCISE {e.id} ({e.points} points): {e.title}\n"
            assert begin + "".join(r.hints) + stub + r.indent + "# END EXERCISE\n" in text
            released = [s for s in parse_regions(text, r.path) if s.id == e.id]
            solution = {line.strip() for line in r.body if line.strip() and not line.strip().startswith("#")}
            assert not solution & {line.strip() for s in released for line in s.body}
    for path in (edition / "minigan").rglob("*.py"):
        ast.parse(path.read_text())  # every file of the edition is valid Python
    assert not (edition / "minigan" / "classroom.py").exists() and not (edition / "minigan" / "exercises.py").exists()
    assert (edition / "tests" / "exercises" / "conftest.py").exists() and (edition / "setup.cfg").exists()
    manifest = json.loads((edition / "exercises.json").read_text())
    assert [x["id"] for x in manifest["exercises"]] == [e.id for e in kit]
    assert "| `gradient-penalty` | 10 |" in (edition / "README.md").read_text()


def test_the_edition_imports_and_a_stub_raises_its_exercise(edition):
    code = ("import minigan\n"
            "try:\n"
            "    minigan.tensor([0.0]).sigmoid()\n"
            "except NotImplementedError as e:\n"
            "    print(minigan.__file__, e)\n")
    env = {**os.environ, "PYTHONPATH": str(edition)}
    out = subprocess.run([sys.executable, "-c", code], cwd=edition, env=env, capture_output=True, text=True,
                         check=True).stdout
    message = "Exercise sigmoid: the logistic sigmoid, forward and backward"
    assert out == f"{edition / 'minigan' / '__init__.py'} {message}\n"


def test_release_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["release", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path} is not an empty folder, and release never overwrites: "
                   "choose a new folder or delete this one first.\n")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_release_only_some_exercises(tmp_path, capsys):
    out = tmp_path / "week1"
    assert cli.main(["release", "--out", str(out), "--only", "sigmoid,adam"]) == 0
    assert "2 exercises (15 points)" in capsys.readouterr().out
    assert "Exercise sigmoid:" in (out / "minigan/autograd/elementwise.py").read_text()
    assert "Exercise sum-to:" not in (out / "minigan/autograd/shapes.py").read_text()  # left solved
    assert [x["id"] for x in json.loads((out / "exercises.json").read_text())["exercises"]] == ["sigmoid", "adam"]
    assert cli.main(["release", "--out", str(tmp_path / "x"), "--only", "sigmoid,softmax"]) == 2
    assert "No exercise is called softmax: choose among adam, bce" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_grading_a_fresh_release_gives_nothing(edition, capsys):
    assert cli.main(["grade", str(edition), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["total"], report["possible"]) == (0, 100)
    assert len(report["exercises"]) == len(exercises.EXERCISE_TESTS)
    assert {x["status"] for x in report["exercises"]} == {"not attempted"}


def test_a_solved_exercise_earns_its_points_and_only_its_own(edition, tmp_path, capsys):
    mine = tmp_path / "alice"
    shutil.copytree(edition, mine)
    # A solution of her own, not the library's: split on the sign so that e^-|x| never overflows, and the
    # derivative from the output.
    fill_in(mine, SIGMOID, "sigmoid", ["xp = backend.get_array_module(x)", "e = xp.exp(-xp.abs(x))",
                                                "return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))"])
    fill_in(mine, SIGMOID, "sigmoid", ["s = self.output()", "return gy * s * (1.0 - s)"])
    assert cli.main(["grade", str(mine)]) == 0
    table = capsys.readouterr().out.splitlines()
    sigmoid = next(row for row in table if row.startswith("sigmoid "))
    assert sigmoid.split()[-3:] == ["5/5", "6/6", "passed"]  # points, tests, status
    assert table[-1].split() == ["total", "5/100"]


def test_the_naive_sigmoid_fails_its_tests(edition, tmp_path, capsys):
    carol = tmp_path / "carol"
    shutil.copytree(edition, carol)
    # Right values everywhere, but exp(-x) overflows for x << 0: numerically unsafe, so no points.
    fill_in(carol, SIGMOID, "sigmoid", ["xp = backend.get_array_module(x)", "return 1.0 / (1.0 + xp.exp(-x))"])
    fill_in(carol, SIGMOID, "sigmoid", ["s = self.output()", "return gy * s * (1.0 - s)"])
    assert cli.main(["grade", str(carol), "--only", "sigmoid"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("sigmoid "))
    assert "0/5     5/6    failed" in row, row  # points, tests passed, status
    assert "overflow encountered in exp" in row


def test_wrong_broken_and_unmarked_answers_earn_nothing(edition, tmp_path):
    bob = tmp_path / "bob"
    shutil.copytree(edition, bob)
    fill_in(bob, "minigan/autograd/shapes.py", "sum-to", ["return a"])  # runs, but sums nothing
    fill_in(bob, "minigan/optim.py", "adam", ["p.data -= self.lr * g +"])  # a syntax error
    losses = bob / "minigan/losses.py"  # the markers of one bce region deleted
    text = losses.read_text()
    begin = text.index("    # BEGIN EXERCISE bce")
    losses.write_text(text[:begin] + text[text.index("# END EXERCISE\n", begin) + len("# END EXERCISE\n"):])
    results = {r.id: r for r in classroom.grade(bob, only=["sum-to", "adam", "bce"])}
    assert results["sum-to"].status == "failed" and results["sum-to"].points == 0
    assert 0 <= results["sum-to"].tests_passed < results["sum-to"].tests_total == 10
    assert results["adam"].status == "syntax error" and "minigan/optim.py" in results["adam"].detail
    assert results["bce"].status == "markers missing"
    assert "has 3 region(s) of bce, the kit has 4" in results["bce"].detail


def test_grade_refuses_what_is_not_a_student_edition(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path} is not a student edition (no exercise markers")
    assert cli.main(["grade", str(tmp_path / "missing")]) == 2
    assert "is not a folder: pass the folder of a student edition." in capsys.readouterr().err


def test_check_proves_the_kit_sound(capsys):
    """Every exercise's tests all fail with it stubbed and all pass with it solved; ~25 s on one core."""
    assert cli.main(["check", "--jobs", "2"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "sound: 11 exercises, 100 points" in out
    assert out.count(" ok\n") == len(exercises.EXERCISE_TESTS)


@pytest.mark.parametrize("text,message", [
    ("x = 1\n    # END EXERCISE\n", "f.py:2: '# END EXERCISE' closes no region"),
    ("def f():\n    # BEGIN EXERCISE a (5 points): t\n    return 1\n", "f.py:2: this region is never closed"),
    ("def f():\n    # BEGIN EXERCISE a (5 points): t\n    # BEGIN EXERCISE b (5 points): t\n",
     "f.py:3: a BEGIN line inside the region opened on line 2"),
    ("def f():\n    # BEGIN EXERCISE Sigmoid (5 points): t\n", "f.py:2: a malformed marker"),
    ("def f():\n    # BEGIN EXERCISE a (5 points): t\n    return 1\n  # END EXERCISE\n",
     "f.py:4: indent '# END EXERCISE' like its BEGIN line 2"),
    ("def f():\n    # BEGIN EXERCISE a (5 points): t\n    # HINT: h\n    # END EXERCISE\n",
     "f.py:2: exercise a has no code between its markers"),
])
def test_marker_mistakes_are_named_with_their_line(text, message):
    with pytest.raises(KitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_regions(text, "f.py")


def test_hints_are_the_comment_lines_right_after_begin():
    text = ("def f(x):\n"
            "    # BEGIN EXERCISE double (5 points): twice x\n"
            "    # HINT: add x to itself,\n"
            "    #   or multiply it by 2.\n"
            "    # a comment of the solution\n"
            "    return x + x\n"
            "    # END EXERCISE\n")
    (r,) = parse_regions(text, "f.py")
    assert (r.id, r.points, r.title, r.function) == ("double", 5, "twice x", "f")
    assert r.hints == ("    # HINT: add x to itself,\n", "    #   or multiply it by 2.\n")
    assert r.body == ("    # a comment of the solution\n", "    return x + x\n")
    stubbed = exercises.rewrite(text, [r], lambda r: [*r.hints, r.stub])
    assert 'raise NotImplementedError("Exercise double: twice x")' in stubbed and "x + x" not in stubbed
    ast.parse(stubbed)
