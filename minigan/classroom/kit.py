"""The classroom kit: the library with holes for students, and a grader.

    python -m minigan.classroom list                  the exercises, their points and tests
    python -m minigan.classroom release --out DIR     the student edition: every exercise a stub, the lessons
                      [--only IDS] [--with-reference]  (--with-reference: a solved copy for MINIGAN_REFERENCE=1)
    python -m minigan.classroom lessons               which exercises each lesson runs (docs/classroom.md's table)
    python -m minigan.classroom answers               the instructor's answers to the lessons' written questions
    python -m minigan.classroom grade DIR [--json]    points per exercise for a student's DIR
    python -m minigan.classroom check                 is the kit sound?

The exercises are regions of the library's own source between ``# BEGIN EXERCISE`` and
``# END EXERCISE`` markers (see ``minigan.classroom.markers``). The student edition is the package
with every region's solution replaced by a stub that raises ``NotImplementedError``, the
hints kept, plus the exercise tests, the lessons (the solutions they state and the answers to
their written questions cut) and what ``pip install -e .`` needs. A lesson whose exercises are
still stubs says so in one sentence and stops; ``--with-reference`` adds ``reference/``, a solved
copy of the package, so that ``MINIGAN_REFERENCE=1`` runs any lesson before everything is solved.

Grading is per exercise and in isolation: a fresh copy of the full library gets only that
exercise's regions from the student's DIR, and the exercise's tests (the kit's, never the
student's copy) run on it in a fresh interpreter. So an exercise is graded on its own, whatever
the student did elsewhere. It earns all its points when all its tests pass, else none; the
table still shows how many passed. The instructor's guide is docs/classroom.md.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from minigan.classroom.markers import (
    EXERCISE_TESTS,
    KIT_DIR,
    LESSONS_DIR,
    PACKAGE,
    ROOT,
    TESTS_DIR,
    Exercise,
    KitError,
    Region,
    cut,
    lesson_exercises,
    lesson_files,
    parse_cuts,
    parse_regions,
    registry,
    rewrite,
    scan,
    select,
    solution_lines,
    source_files,
)

__all__ = ["Result", "release", "grade", "solve", "check", "lessons_table", "answers", "grade_report", "table"]

PROJECT_FILES = ("setup.cfg", "pyproject.toml")  # so that a student can `pip install -e .`
MANIFEST = "exercises.json"  # the edition's exercises, written by release, read by grade
REFERENCE_DIR = "reference"  # release --with-reference: a solved copy of the package, for MINIGAN_REFERENCE=1


# --------------------------------------------------------------------------- release


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))


def _copy_package(root: Path, dst: Path) -> None:
    _copy_tree(root / PACKAGE, dst / PACKAGE)
    shutil.rmtree(dst / KIT_DIR, ignore_errors=True)


def release(out: Path, only: Sequence[str] | None = None, root: Path = ROOT,
            with_reference: bool = False) -> list[Exercise]:
    """Write the student edition into the empty or new folder ``out``; returns the exercises stubbed.

    ``only``: stub these exercises and leave the others solved (a partial hand-out).
    ``with_reference``: also write ``reference/minigan``, the solved package, which the lessons
    import under ``MINIGAN_REFERENCE=1`` (the instructor's choice: it shows every solution).
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KitError(f"{out} is not an empty folder, and release never overwrites: "
                       "choose a new folder or delete this one first.")
    chosen = select(registry(root), only)
    tests = root / TESTS_DIR
    if not tests.is_dir():
        raise KitError(f"The exercise tests are not at {tests}: run the kit from a minigan source checkout.")
    out.mkdir(parents=True, exist_ok=True)
    _copy_package(root, out)
    _copy_tree(tests, out / TESTS_DIR)
    for name in PROJECT_FILES:
        if (root / name).exists():
            shutil.copy2(root / name, out / name)
    stubbed = {r for e in chosen for r in e.regions}  # Regions compare by value: a rescan finds them
    for path, regions in scan(root).items():
        if not stubbed.intersection(regions):
            continue
        text = rewrite((root / path).read_text(encoding="utf-8"), regions,
                       lambda r: [*r.hints, r.stub] if r in stubbed else None)
        try:
            ast.parse(text)
        except SyntaxError as e:
            raise KitError(f"{path}: the student edition does not parse at line {e.lineno} ({e.msg}): "
                           "make every region enclose whole statements.") from None
        (out / path).write_text(text, encoding="utf-8")
    cuts = _release_lessons(root, out, {e.id for e in chosen})
    if with_reference:
        _copy_package(root, out / REFERENCE_DIR)
    _verify_release(out, chosen)
    _verify_no_leaks(out, chosen, cuts)
    (out / MANIFEST).write_text(json.dumps({"exercises": [
        {"id": e.id, "points": e.points, "title": e.title, "where": e.where, "tests": list(e.tests)}
        for e in chosen]}, indent=2) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_student_readme(chosen, with_reference), encoding="utf-8")
    return chosen


def _release_lessons(root: Path, out: Path, stubbed: set[str]) -> list:
    """Copy lessons/ into the edition, cutting every answer and the solutions of the stubbed exercises.
    Returns the cuts made (their lines must not survive anywhere in the edition)."""
    src = root / LESSONS_DIR
    if not src.is_dir():
        return []
    shutil.copytree(src, out / LESSONS_DIR,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "out", "*.ipynb", ".ipynb_checkpoints"))
    made = []
    where = {e.id: e.where for e in registry(root)}
    for lesson in lesson_files(root):
        rel = lesson.relative_to(root).as_posix()
        text = lesson.read_text(encoding="utf-8")
        cuts = [c for c in parse_cuts(text, rel) if c.kind == "answer" or c.id in stubbed]
        unknown = [c for c in cuts if c.kind == "solution" and c.id not in where]
        if unknown:
            raise KitError(f"{rel}:{unknown[0].begin + 1}: no exercise is called {unknown[0].id}: "
                           "name an exercise of the kit after BEGIN SOLUTION.")
        if cuts:
            new = cut(text, cuts, where)
            try:
                ast.parse(new)
            except SyntaxError as e:
                raise KitError(f"{rel}: the student edition of this lesson does not parse at line {e.lineno} "
                               f"({e.msg}): make every BEGIN SOLUTION span enclose whole statements.") from None
            (out / rel).write_text(new, encoding="utf-8")
        made += cuts
    return made


def _verify_no_leaks(out: Path, chosen: list[Exercise], cuts: list) -> None:
    """No solution line of MIN_LEAK+ characters (a stubbed region's body, a cut lesson span) is
    anywhere in the edition, outside the reference copy: not in another module, a docstring, a test,
    a lesson or a README."""
    solutions = solution_lines(chosen, cuts)
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if not path.is_file() or rel.parts[0] == REFERENCE_DIR or path.suffix not in (".py", ".md", ".txt", ".cfg"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            text = " ".join(line.split())
            hit = solutions.get(text) or solutions.get(" ".join(text.lstrip("#").split()))
            if hit:
                raise KitError(f"{rel.as_posix()}:{n}: the student edition still holds a solution line of {hit}, "
                               f"{text!r}: cut it (a SOLUTION or ANSWER span, or move it inside the region).")


def _verify_release(out: Path, chosen: list[Exercise]) -> None:
    """Every chosen region is a stub in ``out``, and none of its solution lines is left in it."""
    released = scan(out)
    for e in chosen:
        for r in e.regions:
            mine = [s for s in released.get(r.path, []) if s.id == e.id]
            index = [s for s in e.regions if s.path == r.path].index(r)
            if index >= len(mine) or not mine[index].is_stub:
                raise KitError(f"{r.path}:{r.begin + 1}: exercise {e.id} did not become a stub: report this bug.")
            code = {s.strip() for s in r.body if s.strip() and not s.strip().startswith("#")}
            left = code & {s.strip() for s in mine[index].hints + mine[index].body}
            if left:
                raise KitError(f"{r.path}:{r.begin + 1}: the student edition still holds the solution line "
                               f"{sorted(left)[0]!r}: take it out of the hints.")


def _student_readme(exercises: list[Exercise], with_reference: bool = False) -> str:
    rows = "\n".join(f"| `{e.id}` | {e.points} | {e.title} | `{e.where}` | `{' '.join(e.tests)}` |"
                     for e in exercises)
    total = sum(e.points for e in exercises)
    reference = (" This edition ships the reference solutions in `reference/`: `MINIGAN_REFERENCE=1 python "
                 "lessons/...` runs a lesson on them before you have solved its exercises." if with_reference else "")
    return f"""# minigan: student edition

This is the minigan library with holes. Each exercise is a region of the library's source
between `# BEGIN EXERCISE <id> ...` and `# END EXERCISE`, with hints (`# HINT:` lines),
where the code now raises `NotImplementedError`. Replace that `raise` line with your code.

    pip install -e .
    python -m pytest tests/exercises/test_sum_to.py     # the tests of one exercise
    python -m pytest                                     # all of them

| exercise | points | title | where | tests |
|---|---|---|---|---|
{rows}

{total} points in all. Work top to bottom: later exercises use earlier ones (every backward
pass goes through `sum-to`), so their tests fail until those are solved.

The lessons are in `lessons/` (`python lessons/04_discriminator_is_a_classifier.py --quick`). A lesson
runs the exercises it needs; while one of them is still a stub it names it, with its file and line,
and stops.{reference}

Grading: each exercise is graded on its own, with only the code between its markers copied
into the reference library, and earns its points when all its tests pass. So keep the marker
lines, and put everything your solution needs (imports, helper functions) between them.
"""


# --------------------------------------------------------------------------- grade


@dataclass
class Result:
    """One exercise's grade. ``status``: passed, failed, not attempted, markers missing,
    markers broken, syntax error, timed out. ``tests_*`` are None where the tests were not run."""

    id: str
    title: str
    points: int
    possible: int
    tests_passed: int | None
    tests_total: int | None
    status: str
    detail: str = ""


def _student_regions(student: Path) -> dict[str, list[Region] | str]:
    """path -> the student's regions in that file, or the reason they cannot be read."""
    found: dict[str, list[Region] | str] = {}
    for p in source_files(student):
        rel = p.relative_to(student).as_posix()
        text = p.read_text(encoding="utf-8", errors="replace")
        if "EXERCISE" in text:
            try:
                found[rel] = parse_regions(text, rel, strict=False)
            except KitError as e:
                found[rel] = str(e)
    return found


def _matching(e: Exercise, student: dict[str, list[Region] | str]) -> list[Region] | tuple[str, str]:
    """The student's regions of exercise ``e``, one per kit region, or (status, why) they cannot be matched."""
    matched = []
    for path in dict.fromkeys(r.path for r in e.regions):
        theirs = student.get(path, [])
        if isinstance(theirs, str):
            return "markers broken", theirs
        ours = [r for r in e.regions if r.path == path]
        theirs = [r for r in theirs if r.id == e.id]
        if len(theirs) != len(ours):
            return "markers missing", (f"{path} has {len(theirs)} region(s) of {e.id}, the kit has {len(ours)}: "
                                       "put back the marker lines from the release.")
        matched += theirs
    return matched


def _build(root: Path, dst: Path, exercises: list[Exercise], inner: dict[Region, Sequence[str]]) -> str | None:
    """The full library in ``dst`` with the regions in ``inner`` (kit region -> lines) swapped in.
    Returns the reason the result cannot be run (a syntax error), or None."""
    _copy_package(root, dst)
    _copy_tree(root / TESTS_DIR, dst / TESTS_DIR)
    (dst / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    paths = dict.fromkeys(r.path for e in exercises for r in e.regions if r in inner)
    for path in paths:
        regions = [r for e in exercises for r in e.regions if r.path == path]
        regions.sort(key=lambda r: r.begin)
        text = rewrite((root / path).read_text(encoding="utf-8"), regions, lambda r: inner.get(r))
        try:
            ast.parse(text)
        except SyntaxError as err:
            return f"{path}: {err.msg} at line {err.lineno}"
        (dst / path).write_text(text, encoding="utf-8")
    return None


def _run_tests(copy: Path, tests: Sequence[str], timeout: float) -> tuple[int, int, str]:
    """Run ``tests`` on the library in ``copy`` in a fresh interpreter: (passed, total, first failure)."""
    report = copy / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(copy), "MINIGAN_CLASSROOM_PACKAGE": str(copy / PACKAGE),
           "MINIGAN_BACKEND": "numpy", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}  # third-party plugins: 1.5 s a start, and none is needed
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(copy / "pytest.ini"),
           "--rootdir", str(copy), f"--junitxml={report}", *tests]
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    if not report.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        return 0, 0, f"pytest did not run: {tail[0]}"
    cases = ET.parse(report).getroot().iter("testcase")
    passed = total = 0
    first = ""
    for case in cases:
        total += 1
        bad = [c for c in case if c.tag in ("failure", "error", "skipped")]  # a skipped test proves nothing
        if not bad:
            passed += 1
        elif not first:
            words = [w.strip() for w in (bad[0].get("message") or bad[0].tag).splitlines() if w.strip()]
            first = f"{case.get('name')}: {' '.join(words[:2])[:120]}"
    return passed, total, first


def _grade_one(e: Exercise, theirs: list[Region] | tuple[str, str], root: Path, run_stubs: bool,
               timeout: float) -> Result:
    def result(status: str, passed: int | None = None, total: int | None = None, detail: str = "") -> Result:
        earned = e.points if status == "passed" else 0
        return Result(e.id, e.title, earned, e.points, passed, total, status, detail)

    if isinstance(theirs, tuple):
        return result(theirs[0], detail=theirs[1])
    if not run_stubs and all(r.is_stub for r in theirs):
        return result("not attempted", detail="the stub is unchanged")
    inner = {ours: [*r.hints, *r.body] for ours, r in zip(e.regions, theirs)}
    with tempfile.TemporaryDirectory(prefix=f"minigan-grade-{e.id}-") as tmp:
        problem = _build(root, Path(tmp), [e], inner)
        if problem:
            return result("syntax error", detail=problem)
        try:
            passed, total, first = _run_tests(Path(tmp), e.tests, timeout)
        except subprocess.TimeoutExpired:
            return result("timed out", detail=f"the tests ran over {timeout:g} s: look for an endless loop")
    return result("passed" if total and passed == total else "failed", passed, total, first)


def grade(student: Path, only: Sequence[str] | None = None, jobs: int = 1, timeout: float = 300.0,
          run_stubs: bool = False, root: Path = ROOT) -> list[Result]:
    """Grade the student edition in ``student``, each exercise in isolation (see the module docstring).

    The exercises graded: ``only``, else those in the edition's exercises.json, else all.
    An unchanged stub scores 0 without running its tests (``check`` proves they would fail)
    unless ``run_stubs``.
    """
    student = Path(student)
    if not student.is_dir():
        raise KitError(f"{student} is not a folder: pass the folder of a student edition.")
    theirs = _student_regions(student)
    if not theirs:
        raise KitError(f"{student} is not a student edition (no exercise markers under {student / PACKAGE}): "
                       "pass the folder that release wrote and the student filled in.")
    exercises = registry(root)
    if not only and (student / MANIFEST).is_file():
        try:
            only = [x["id"] for x in json.loads((student / MANIFEST).read_text(encoding="utf-8"))["exercises"]]
        except (ValueError, KeyError, TypeError):
            raise KitError(f"{student / MANIFEST} is damaged: restore it from the release, "
                           "or name the exercises with --only.") from None
    chosen = select(exercises, only)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda e: _grade_one(e, _matching(e, theirs), root, run_stubs, timeout), chosen))


def solve(edition: Path, only: Sequence[str] | None = None, root: Path = ROOT) -> None:
    """Put the kit's solutions back into a student edition (the regions of ``only``, or all)."""
    edition = Path(edition)
    chosen = {r: [*r.hints, *r.body] for e in select(registry(root), only) for r in e.regions}
    kit = scan(root)
    for path, theirs in _student_regions(edition).items():
        if isinstance(theirs, str):
            raise KitError(theirs)
        ours = kit.get(path, [])
        if [r.id for r in theirs] != [r.id for r in ours]:
            raise KitError(f"{edition / path} does not have the kit's regions: solve works on an untouched release.")
        pairs = {t: chosen[o] for t, o in zip(theirs, ours) if o in chosen}
        text = rewrite((edition / path).read_text(encoding="utf-8"), theirs, lambda r, pairs=pairs: pairs.get(r))
        (edition / path).write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- check


def check(jobs: int = 1, root: Path = ROOT, echo: Callable[[str], None] = print) -> bool:
    """Prove the kit sound: every exercise has tests; in a fresh release every test of every
    exercise fails (the exercise stubbed, the rest of the library whole); with the solutions
    put back the release is the library again, byte for byte, and every exercise earns its points."""
    problems: list[str] = []
    exercises = registry(root)
    for e in exercises:
        if not e.tests:
            problems.append(f"exercise {e.id} has no tests: add it to EXERCISE_TESTS in minigan/classroom/markers.py.")
        problems += [f"exercise {e.id}: its test file {t} does not exist." for t in e.tests
                     if not (root / t.split("::")[0]).exists()]
        problems += [f"exercise {e.id}: move its test {t} into {TESTS_DIR}/, the folder students get." for t in e.tests
                     if not t.startswith(TESTS_DIR + "/")]
    problems += [f"EXERCISE_TESTS names {i}, but no region has that id." for i in EXERCISE_TESTS
                 if i not in {e.id for e in exercises}]
    if problems:
        echo("\n".join(problems))
        return False
    with tempfile.TemporaryDirectory(prefix="minigan-check-") as tmp:
        edition = Path(tmp) / "edition"
        release(edition, root=root)
        stubbed = {r.id: r for r in grade(edition, jobs=jobs, run_stubs=True, root=root)}
        solve(edition, root=root)
        differ = [p.relative_to(root).as_posix() for p in source_files(root)
                  if (edition / p.relative_to(root)).read_bytes() != p.read_bytes()]
        solved = {r.id: r for r in grade(edition, jobs=jobs, root=root)}
    rows = []
    for e in exercises:
        s, f = stubbed[e.id], solved[e.id]
        ok_stub = bool(s.tests_total) and s.tests_passed == 0
        ok_solved = f.status == "passed"
        rows.append((e.id, str(e.points), f"{(s.tests_total or 0) - (s.tests_passed or 0)}/{s.tests_total or 0}",
                     f"{f.tests_passed or 0}/{f.tests_total or 0}", "ok" if ok_stub and ok_solved else "UNSOUND"))
        if not ok_stub:
            problems.append(f"{e.id}: {s.tests_passed} of its {s.tests_total} tests pass with the exercise stubbed "
                            f"({s.status}{': ' + s.detail if s.detail else ''}); every test must need the solution.")
        if not ok_solved:
            problems.append(f"{e.id}: the full library fails its tests ({f.status}: {f.detail}).")
    problems += [f"{p}: solving a fresh release did not give back the library's file." for p in differ]
    echo(table(("exercise", "points", "fail when stubbed", "pass when solved", "verdict"), rows))
    if problems:
        echo("\n".join(problems))
    else:
        echo(f"sound: {len(exercises)} exercises, {sum(e.points for e in exercises)} points; the release is "
             "the library again once solved, and no solution line is left in it.")
    return not problems


# --------------------------------------------------------------------------- lessons


def lessons_table(root: Path = ROOT) -> str:
    """The Markdown table of docs/classroom.md: each lesson, the exercises it runs, where they are."""
    where = {e.id: e for e in registry(root)}
    rows = ["| lesson | exercises it runs (solve them, or use MINIGAN_REFERENCE=1) |", "|---|---|"]
    for lesson in lesson_files(root):
        ids = lesson_exercises(lesson)
        unknown = [i for i in ids if i not in where]
        if unknown:
            raise KitError(f"{lesson.relative_to(root)} declares the exercise {unknown[0]}, which the kit does not "
                           f"have: choose among {', '.join(sorted(where))}.")
        ordered = [e for e in where.values() if e.id in ids]
        rows.append(f"| `{lesson.name}` | " + (", ".join(f"`{e.id}`" for e in ordered) or "none") + " |")
    return "\n".join(rows) + "\n"


def answers(root: Path = ROOT) -> str:
    """The instructor's key: every written question of the lessons with its answer, as Markdown."""
    parts = ["# Answers to the lessons' written questions (instructor's key)\n",
             "Made by `python -m minigan.classroom answers`; `release` leaves these answers out.\n"]
    for lesson in lesson_files(root):
        text = lesson.read_text(encoding="utf-8")
        lines = text.splitlines()
        for c in parse_cuts(text, lesson.name):
            if c.kind != "answer":
                continue
            start = c.begin
            while (start > 0 and lines[start - 1].startswith("#") and not lines[start - 1].startswith("# %%")
                   and lines[start - 1].strip() != "# END ANSWER"):
                start -= 1  # back to the top of the markdown cell, or the answer before: the question
            question = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                                 for line in lines[start : c.begin])
            answer = "\n".join(line.strip()[2:] if line.strip().startswith("# ") else line.strip().lstrip("#")
                               for line in c.body)
            parts.append(f"## {lesson.name}\n\n{question.strip()}\n\n**Answer.** {answer.strip()}\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- command line


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in [header, *rows])


def grade_report(results: list[Result], as_json: bool) -> str:
    earned, possible = sum(r.points for r in results), sum(r.possible for r in results)
    if as_json:
        return json.dumps({"total": earned, "possible": possible, "exercises": [asdict(r) for r in results]},
                          indent=2)
    rows = [(r.id, r.title if len(r.title) <= 48 else r.title[:45] + "...", f"{r.points}/{r.possible}",
             "-" if r.tests_total is None else f"{r.tests_passed}/{r.tests_total}",
             r.status + (f" ({r.detail})" if r.detail and r.status != "passed" else "")) for r in results]
    rows.append(("total", "", f"{earned}/{possible}", "", ""))
    return table(("exercise", "title", "points", "tests", "status"), rows)
