"""The exercises marked in the library's source: the markers, the registry, rewriting regions.

An exercise is one or more regions of the library's own code, around the lines that solve it::

    # BEGIN EXERCISE sigmoid (5 points): the logistic sigmoid, forward and backward
    # HINT: sigma'(x) = sigma(x) (1 - sigma(x)), and self.output() is the Tensor y = sigma(x).
    # HINT: a hint goes on over lines that start with '#' and two spaces,
    #   like this one.
    y = self.output()
    return gy * y * (1.0 - y)
    # END EXERCISE

- The marker line is the only place an exercise's id (a lowercase slug), points and title
  are written. An exercise with several regions (a forward and a backward) opens each one
  with the same marker line.
- Hints are the ``# HINT:`` lines (and their continuations) right after the BEGIN line; the
  student edition keeps them. Everything after them, up to ``# END EXERCISE``, is the solution.
- A region holds whole statements at the BEGIN line's indentation, so that replacing its
  solution by ``raise NotImplementedError("Exercise <id>: <title>")`` is still valid Python.
- ``EXERCISE_TESTS`` says which tests check each exercise.

The lessons (``lessons/NN_*.py``) ship with the student edition. Each declares the exercises it
executes, ``lesson_setup(N, title, GOALS, exercises=["bce", ...])``, and two more markers cut what
a student must not be handed:

    # BEGIN SOLUTION g-step                  a lesson cell that states an exercise's solution
    # STUDENT: stats = gan.g_step()          what runs instead in the student edition (optional)
    ...                                      the solution lines, cut when g-step is handed out
    # END SOLUTION

    # BEGIN ANSWER                           the instructor's answer to a written question,
    # ...                                    always cut from the student edition
    # END ANSWER

``minigan.classroom`` builds the student edition and the grader on top of this module.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = ["EXERCISE_TESTS", "KitError", "Region", "Exercise", "Cut", "parse_regions", "rewrite", "scan", "registry",
           "select", "source_files", "parse_cuts", "cut", "lesson_files", "lesson_exercises", "solution_lines",
           "SHARED_LINES"]

# Each exercise's tests, in the order students meet the exercises (later ones use earlier
# ones: every backward pass goes through sum-to). Paths are relative to the checkout.
EXERCISE_TESTS: dict[str, tuple[str, ...]] = {
    "sum-to": ("tests/exercises/test_sum_to.py",),
    "sigmoid": ("tests/exercises/test_sigmoid.py",),
    "bce": ("tests/exercises/test_bce.py",),
    "minimax-grad": ("tests/exercises/test_minimax_grad.py",),
    "linear-backward": ("tests/exercises/test_linear_backward.py",),
    "adam": ("tests/exercises/test_adam.py",),
    "im2col": ("tests/exercises/test_im2col.py",),
    "conv-transpose": ("tests/exercises/test_conv_transpose.py",),
    "d-step": ("tests/exercises/test_d_step.py",),
    "g-step": ("tests/exercises/test_g_step.py",),
    "gradient-penalty": ("tests/exercises/test_gradient_penalty.py",),
}

ROOT = Path(__file__).resolve().parents[2]  # the checkout: minigan/, tests/, setup.cfg
PACKAGE = "minigan"
TESTS_DIR = "tests/exercises"
KIT_DIR = "minigan/classroom"  # the kit itself: not scanned, not handed out

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN EXERCISE (?P<id>[a-z0-9]+(?:-[a-z0-9]+)*) "
                   r"\((?P<points>\d+) points?\): (?P<title>\S.*?)\s*$")
END = re.compile(r"^(?P<indent>[ \t]*)# END EXERCISE\s*$")
ANY_MARKER = re.compile(r"^\s*# (BEGIN|END) EXERCISE\b")
HINT = re.compile(r"^\s*#( HINT:|  )")  # "# HINT: ..." or its continuation "#   ..."
LESSONS_DIR = "lessons"
CUT_BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN "
                       r"(?:(?P<solution>SOLUTION) (?P<id>[a-z0-9]+(?:-[a-z0-9]+)*)|ANSWER)\s*$")
CUT_END = re.compile(r"^[ \t]*# END (?P<kind>SOLUTION|ANSWER)\s*$")
STUDENT = re.compile(r"^[ \t]*# STUDENT: ?(?P<code>.*?)\s*$")
MIN_LEAK = 12  # a solution line this long or longer must not survive in a student edition

# Lines of exercise solutions that the rest of the library needs as well, so the student edition
# keeps them outside the regions; each is too generic to give an exercise away. ``classroom check``
# fails on any other solution line (12+ characters) found anywhere in a release.
SHARED_LINES: dict[str, str] = {
    "loss.backward()": "every training loop and lesson backpropagates",
    "xp = backend.get_array_module(x)": "how every op finds NumPy or CuPy",
    "y = self.output()": "every op whose derivative is written from its output (tanh, exp)",
    "n = real.shape[0]": "the batch size, read by d_step before the region",
    "return gx, gw, gb": "the fused linear functions return the same three gradients",
    "for i in range(kh):": "the im2col test's own loop over kernel rows",
    "if self.momentum:": "SGD has momentum as RMSprop does",
    "buf *= self.momentum": "SGD decays its momentum buffer as RMSprop does",
    "opt_d.zero_grad()": "every training loop of the lessons clears its optimizers' gradients",
    "opt_g.zero_grad()": "every training loop of the lessons clears its optimizers' gradients",
    "opt_d.step()": "every training loop of the lessons steps its optimizers",
    "opt_g.step()": "every training loop of the lessons steps its optimizers",
    "self.opt_g.zero_grad()": "the unrolled GAN's second-order G step updates G as well",
    "self.opt_g.step()": "the unrolled GAN's second-order G step updates G as well",
    "loss = self.loss.g(fake_out)": "the unrolled GAN's second-order G step scores the fakes as well",
    'value, d_fake_g = self._readout("G", loss, fake_out)': "the unrolled G step reads as well",
}


class KitError(Exception):
    """A mistake the user can fix; the message is one sentence that says how."""


# --------------------------------------------------------------------------- regions


@dataclass(frozen=True)
class Region:
    """One marked region of one file. Lines keep their line endings; indices count from 0."""

    path: str  # relative to the checkout, e.g. "minigan/autograd/shapes.py"
    begin: int  # the BEGIN line
    end: int  # the END line
    id: str
    points: int
    title: str
    indent: str
    hints: tuple[str, ...]
    body: tuple[str, ...]  # the lines after the hints: the solution, the stub or the student's code
    function: str = ""  # the function around it, e.g. "Sigmoid.forward" (the kit's own source only)

    @property
    def stub(self) -> str:
        """The line that replaces the body in the student edition."""
        return f"{self.indent}raise NotImplementedError({json.dumps(f'Exercise {self.id}: {self.title}')})\n"

    @property
    def is_stub(self) -> bool:
        return [s.strip() for s in self.body if s.strip()] == [self.stub.strip()]


def parse_regions(text: str, path: str, strict: bool = True) -> list[Region]:
    """The regions of one file, in order. ``strict`` (the kit's own source) also requires the
    END line at the BEGIN line's indentation and code in every region; a student's file may differ."""
    lines = text.splitlines(keepends=True)
    regions: list[Region] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        if not ANY_MARKER.match(line):
            continue
        where = f"{path}:{i + 1}"
        if END.match(line):
            if open_at is None:
                raise KitError(f"{where}: '# END EXERCISE' closes no region: remove it or add its BEGIN line.")
            regions.append(_region(lines, open_at, i, path, strict))
            open_at = None
        elif BEGIN.match(line):
            if open_at is not None:
                raise KitError(f"{where}: a BEGIN line inside the region opened on line {open_at + 1}: "
                               "close that region with '# END EXERCISE' first.")
            open_at = i
        else:
            raise KitError(f"{where}: a malformed marker; write '# BEGIN EXERCISE <id> (<points> points): "
                           "<title>' with a lowercase id like sum-to, or '# END EXERCISE'.")
    if open_at is not None:
        raise KitError(f"{path}:{open_at + 1}: this region is never closed: add '# END EXERCISE' after its code.")
    if strict and regions:
        try:
            tree = ast.parse(text)
        except SyntaxError as e:
            raise KitError(f"{path}:{e.lineno}: {e.msg}; the kit reads only source that Python can parse.") from None
        regions = [replace(r, function=_enclosing(tree, r.begin + 1)) for r in regions]
    return regions


def _region(lines: list[str], begin: int, end: int, path: str, strict: bool) -> Region:
    m = BEGIN.match(lines[begin])
    assert m is not None
    inner = lines[begin + 1 : end]
    n_hints = 0
    while n_hints < len(inner) and HINT.match(inner[n_hints]):
        n_hints += 1
    region = Region(path, begin, end, m["id"], int(m["points"]), m["title"], m["indent"],
                    tuple(inner[:n_hints]), tuple(inner[n_hints:]))
    if strict:
        if END.match(lines[end])["indent"] != region.indent:
            raise KitError(f"{path}:{end + 1}: indent '# END EXERCISE' like its BEGIN line {begin + 1}.")
        if not any(s.strip() and not s.strip().startswith("#") for s in region.body):
            raise KitError(f"{path}:{begin + 1}: exercise {region.id} has no code between its markers.")
    return region


def rewrite(text: str, regions: Sequence[Region], inner: Callable[[Region], Sequence[str] | None]) -> str:
    """``text`` with the lines between each region's markers replaced by ``inner(region)`` (None: kept)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for r in regions:
        new = inner(r)
        if new is None:
            continue
        out += lines[pos : r.begin + 1]
        out += new
        pos = r.end
    out += lines[pos:]
    return "".join(out)


def source_files(root: Path) -> list[Path]:
    """The library's .py files under ``root``/minigan, without the kit's own."""
    return [p for p in sorted((root / PACKAGE).rglob("*.py"))
            if "__pycache__" not in p.parts and not p.relative_to(root).as_posix().startswith(KIT_DIR + "/")]


def scan(root: Path, strict: bool = True) -> dict[str, list[Region]]:
    """Every file of ``root``/minigan that has regions -> its regions, in order."""
    found = {}
    for p in source_files(root):
        rel = p.relative_to(root).as_posix()
        text = p.read_text(encoding="utf-8")
        if "EXERCISE" in text:
            regions = parse_regions(text, rel, strict)
            if regions:
                found[rel] = regions
    return found


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Exercise:
    """An exercise: its marker line's id, points and title, its regions and its tests."""

    id: str
    points: int
    title: str
    regions: tuple[Region, ...]
    tests: tuple[str, ...]

    @property
    def where(self) -> str:
        """Where the regions are: ``file: function, function; file: ...``."""
        by_file: dict[str, list[str]] = {}
        for r in self.regions:
            names = by_file.setdefault(r.path, [])
            if r.function not in names:
                names.append(r.function)
        return "; ".join(f"{path}: {', '.join(names)}" for path, names in by_file.items())


def _enclosing(tree: ast.Module, line: int) -> str:
    """The qualified name of the function (or class) around ``line``, e.g. Sigmoid.forward."""
    names: list[str] = []
    node: ast.AST = tree
    while True:
        inner = [n for n in ast.iter_child_nodes(node)
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and n.lineno <= line <= (n.end_lineno or n.lineno)]
        if not inner:
            return ".".join(names) or "<module>"
        node = inner[0]
        names.append(node.name)


def registry(root: Path = ROOT) -> list[Exercise]:
    """The exercises marked in ``root``'s source, in EXERCISE_TESTS's order (unregistered ones last)."""
    by_id: dict[str, list[Region]] = {}
    for regions in scan(root).values():
        for r in regions:
            by_id.setdefault(r.id, []).append(r)
    exercises = []
    for ex_id, regions in by_id.items():
        first = regions[0]
        for r in regions[1:]:
            if (r.points, r.title) != (first.points, first.title):
                raise KitError(f"{r.path}:{r.begin + 1}: exercise {ex_id} has another region with a different "
                               f"marker line ({first.path}:{first.begin + 1}): repeat that line exactly.")
        exercises.append(Exercise(ex_id, first.points, first.title, tuple(regions), EXERCISE_TESTS.get(ex_id, ())))
    order = list(EXERCISE_TESTS)
    return sorted(exercises, key=lambda e: (order.index(e.id) if e.id in order else len(order), e.id))


def select(exercises: list[Exercise], only: Sequence[str] | None) -> list[Exercise]:
    """The exercises named in ``only`` (all when it is empty), refusing unknown ids."""
    if not only:
        return exercises
    known = {e.id for e in exercises}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise KitError(f"No exercise is called {', '.join(unknown)}: choose among {', '.join(sorted(known))}.")
    return [e for e in exercises if e.id in only]


# --------------------------------------------------------------------------- lessons: cuts and declarations


@dataclass(frozen=True)
class Cut:
    """A span of a lesson that the student edition replaces: a solution (of exercise ``id``) or an answer."""

    path: str
    begin: int  # the BEGIN line, from 0
    end: int  # the END line
    kind: str  # "solution" or "answer"
    id: str  # the exercise, for a solution; "" for an answer
    indent: str
    student: tuple[str, ...]  # the code that replaces a solution (from its STUDENT lines)
    body: tuple[str, ...]  # the lines cut

    def replacement(self, where: str = "the library") -> list[str]:
        """The lines the student edition has instead; ``where``: the exercise's regions, to point at."""
        if self.kind == "answer":
            return [f"{self.indent}# *Your answer:*\n"]
        note = (f"{self.indent}# Exercise {self.id}: the lines that stood here are yours to write, in {where};\n"
                f"{self.indent}# the lesson runs your code.\n")
        return [note, *(f"{self.indent}{code}\n" for code in self.student)]


def parse_cuts(text: str, path: str) -> list[Cut]:
    """The SOLUTION and ANSWER spans of one lesson, in order."""
    lines = text.splitlines(keepends=True)
    cuts: list[Cut] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        where = f"{path}:{i + 1}"
        if CUT_BEGIN.match(line):
            if open_at is not None:
                raise KitError(f"{where}: a BEGIN line inside the span opened on line {open_at + 1}: "
                               "close that one first.")
            open_at = i
        elif (end := CUT_END.match(line)) is not None:
            if open_at is None:
                raise KitError(f"{where}: '# END {end['kind']}' closes nothing: remove it or add its BEGIN line.")
            m = CUT_BEGIN.match(lines[open_at])
            kind = "solution" if m["solution"] else "answer"
            if kind.upper() != end["kind"]:
                raise KitError(f"{where}: '# END {end['kind']}' closes the {kind} opened on line {open_at + 1}: "
                               f"write '# END {kind.upper()}'.")
            inner = lines[open_at + 1 : i]
            student = []
            while kind == "solution" and inner and STUDENT.match(inner[0]):
                student.append(STUDENT.match(inner.pop(0))["code"])
            cuts.append(Cut(path, open_at, i, kind, m["id"] or "", m["indent"], tuple(student), tuple(inner)))
            open_at = None
    if open_at is not None:
        raise KitError(f"{path}:{open_at + 1}: this span is never closed: add its END line.")
    return cuts


def cut(text: str, cuts: Sequence[Cut], where: dict[str, str] | None = None) -> str:
    """``text`` with each span in ``cuts`` (markers included) replaced by its student-edition lines;
    ``where``: exercise id -> where its regions are, named in the note left in a solution's place."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for c in cuts:
        out += lines[pos : c.begin]
        out += c.replacement((where or {}).get(c.id, "the library"))
        pos = c.end + 1
    out += lines[pos:]
    return "".join(out)


def lesson_files(root: Path) -> list[Path]:
    """The lessons of a checkout, in order: lessons/NN_topic.py."""
    return sorted((root / LESSONS_DIR).glob("[0-9][0-9]_*.py"))


def lesson_exercises(path: Path) -> list[str]:
    """The exercises a lesson declares: the ``exercises=[...]`` of its ``lesson_setup(...)`` call."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lesson_setup":
            for kw in node.keywords:
                if kw.arg == "exercises":
                    try:
                        return list(ast.literal_eval(kw.value))
                    except ValueError:
                        raise KitError(f"{path}: write lesson_setup's exercises= as a literal list of ids.") from None
            return []
    raise KitError(f"{path}: the lesson never calls lesson_setup(...), so it declares no exercises.")


def _norm(line: str) -> str:
    return " ".join(line.split())


def solution_lines(exercises: Sequence[Exercise], cuts: Sequence[Cut]) -> dict[str, str]:
    """normalised line -> where it is a solution, for every line of MIN_LEAK+ characters that the
    chosen exercises' regions and the cut spans hold (SHARED_LINES excepted)."""
    found: dict[str, str] = {}
    for e in exercises:
        for r in e.regions:
            for line in r.body:
                found.setdefault(_norm(line), f"exercise {e.id} ({r.path}:{r.begin + 1})")
    for c in cuts:
        for line in c.body:
            text = _norm(line)
            if c.kind == "answer":
                text = _norm(text.lstrip("#"))
            found.setdefault(text, f"the {c.kind} at {c.path}:{c.begin + 1}")
    return {k: v for k, v in found.items() if len(k) >= MIN_LEAK and k not in SHARED_LINES
            and k.lstrip("#").strip() not in ("", "%%")}
