"""What every lesson shares: its settings, the pause between steps, its figures and its checks.

A lesson runs three ways, and this module makes them behave alike:

- as a script, ``python lessons/NN_topic.py [--quick] [--backend cupy] [--seed S] [--pause]``:
  figures are written under ``lessons/out/NN/``, no window opens;
- cell by cell in VS Code or Jupyter, or as a notebook made by jupytext (``jupytext --to ipynb``):
  the kernel's own command line is ignored, the settings come from the environment
  (``MINIGAN_QUICK=1``, ``MINIGAN_BACKEND=cupy``, ``MINIGAN_SEED=3``; in a notebook
  ``%env MINIGAN_QUICK=1`` before the set-up cell), and every figure is also shown inline;
- in a student edition of the classroom kit: before the first cell that needs an exercise, the
  lesson says in one sentence which exercises are still stubs and where they are, and stops;
  ``MINIGAN_REFERENCE=1`` runs it on the reference solutions where the instructor shipped them.

    args = lesson_setup(4, "The discriminator is a classifier", GOALS, exercises=["bce"])
    pause()                                # waits for Enter only with --pause
    show(fig, OUT / "d_field.png")         # save (and, in a notebook, display) a figure
    check(acc > 0.9, "D separates real from fake", f"accuracy {acc:.2f}")
    done("D is a classifier.")             # the checks' tally and the lesson's last line

Each lesson states its central claims as checks: ``check`` prints ``PASS`` or says plainly that
this run did not show the claim. A claim that needs the full run's length is marked
``full_only``: quick mode still prints the measured value but does not judge it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

LESSONS = Path(__file__).resolve().parent
ROOT = LESSONS.parent  # the checkout (or the student edition): minigan/, lessons/, reference/
OUT_ROOT = LESSONS / "out"
REFERENCE = ROOT / "reference"  # a solved copy of the package, shipped by `classroom release --with-reference`

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def _use_reference() -> None:
    """MINIGAN_REFERENCE=1: import minigan from the shipped reference solutions."""
    if not _flag("MINIGAN_REFERENCE"):
        return
    if not (REFERENCE / "minigan" / "__init__.py").is_file():
        print(f"MINIGAN_REFERENCE=1 asks for the reference solutions, but this edition has none ({REFERENCE} "
              "is missing): solve the exercises, or ask your instructor for an edition made with "
              "`classroom release --with-reference`.")
        raise SystemExit(2)
    if "minigan" in sys.modules and not sys.modules["minigan"].__file__.startswith(str(REFERENCE)):
        print("minigan was imported before the lesson's set-up, so MINIGAN_REFERENCE=1 cannot take effect: "
              "restart the kernel and run the lesson from its first cell.")
        raise SystemExit(2)
    sys.path.insert(0, str(REFERENCE))


# A lesson runs the library it ships with, the minigan/ beside lessons/ (a student's edition, not
# another copy that happens to be installed), or under MINIGAN_REFERENCE=1 the reference solutions.
if (ROOT / "minigan" / "__init__.py").is_file() and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
_use_reference()
import minigan  # noqa: E402

_PAUSE = False
_CHECKS: list[tuple[str, bool | None]] = []  # (claim, passed; None = not judged in quick mode)
_QUICK = False
_NUMBER = 0


def in_notebook() -> bool:
    """True inside a Jupyter kernel (a notebook, VS Code's interactive window), False in a script."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and hasattr(ip, "kernel")


def parse_args(description: str = "", argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The lesson's settings: the environment first, the command line (a script's only) over it.

    --quick / MINIGAN_QUICK=1 (small sizes), --backend / MINIGAN_BACKEND (numpy or cupy),
    --seed / MINIGAN_SEED, --pause / MINIGAN_PAUSE=1 (Enter between steps, scripts only).
    """
    backend = os.environ.get("MINIGAN_BACKEND", "numpy").strip().lower() or "numpy"
    if backend not in ("numpy", "cupy"):
        print(f"MINIGAN_BACKEND is {backend!r}: set it to numpy or cupy.")
        raise SystemExit(2)
    seed_text = os.environ.get("MINIGAN_SEED", "0").strip() or "0"
    if not re.fullmatch(r"\d+", seed_text):
        print(f"MINIGAN_SEED is {seed_text!r}: set it to a whole number such as 0.")
        raise SystemExit(2)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", default=_flag("MINIGAN_QUICK"),
                        help="small sizes: the whole lesson in seconds (also MINIGAN_QUICK=1)")
    parser.add_argument("--pause", action="store_true", default=_flag("MINIGAN_PAUSE"),
                        help="wait for Enter between steps")
    parser.add_argument("--backend", default=backend, choices=["numpy", "cupy"],
                        help="where arrays live (also MINIGAN_BACKEND)")
    parser.add_argument("--seed", type=int, default=int(seed_text), help="seed of the run's random generator "
                        "(also MINIGAN_SEED)")
    if argv is None:
        # A kernel's argv is its own (`-f kernel.json`): a lesson in a notebook reads the environment only.
        argv = [] if in_notebook() else sys.argv[1:]
    return parser.parse_args(argv)


def pause(message: str = "[Enter] for the next step ") -> None:
    """Wait for Enter, only when the lesson was started with --pause."""
    if _PAUSE:
        try:
            input(message)
        except EOFError:  # stdin closed (piped, or run by a tool): carry on without waiting
            pass


def out_dir(number: int) -> Path:
    """lessons/out/NN/, created if missing: where lesson NN writes its figures."""
    path = OUT_ROOT / f"{number:02d}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def show(fig_or_path, path: Path | None = None) -> Path:
    """Save a figure and show it inline in a notebook; a script only saves it.

    ``show(fig, path)`` saves the matplotlib Figure to ``path``; ``show(path)`` takes a PNG (or GIF)
    that a ``minigan.gan.plots`` function already wrote. Returns the path, and prints it.
    """
    if path is None:
        path = Path(fig_or_path)
    else:
        path = Path(path)
        fig_or_path.savefig(path)
    print(f"wrote {path}")
    if in_notebook():
        from IPython.display import Image, display

        display(Image(filename=str(path)))
    return path


def stubbed(exercises: Iterable[str], package: Path | None = None) -> list[tuple[str, str, int]]:
    """The exercises among ``exercises`` that are still stubs in the imported minigan:
    (id, file relative to the package's parent, line) for each, in the order given."""
    package = Path(package or Path(minigan.__file__).resolve().parent)
    wanted = list(dict.fromkeys(exercises))
    found: dict[str, tuple[str, str, int]] = {}
    stub = re.compile(r'raise NotImplementedError\("Exercise (?P<id>[a-z0-9-]+):')
    for file in sorted(package.rglob("*.py")):
        text = file.read_text(encoding="utf-8", errors="replace")
        if "NotImplementedError(\"Exercise " not in text:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            m = stub.search(line)
            if m and m["id"] in wanted and m["id"] not in found:
                found[m["id"]] = (m["id"], file.relative_to(package.parent).as_posix(), n)
    return [found[i] for i in wanted if i in found]


def _require(number: int, exercises: Sequence[str]) -> None:
    missing = stubbed(exercises)
    if not missing:
        return
    where = [f"{i} ({path}, line {line})" for i, path, line in missing]
    listed = where[0] if len(where) == 1 else ", ".join(where[:-1]) + " and " + where[-1]
    noun, them = ("exercise", "it") if len(where) == 1 else ("exercises", "them")
    if (REFERENCE / "minigan" / "__init__.py").is_file():
        fix = f"solve {them}, or run with MINIGAN_REFERENCE=1 to use the reference solutions"
    else:
        fix = f"solve {them} (this edition ships no reference solutions)"
    print(f"Lesson {number:02d} needs {noun} {listed}: {fix}.")
    raise SystemExit(3)


def lesson_setup(number: int, title: str, goals: str = "", exercises: Sequence[str] = ()) -> argparse.Namespace:
    """Read the settings, stop with one sentence if an exercise the lesson runs is a stub,
    pick the backend, seed the generator, print the lesson's header and goals.

    ``exercises``: the classroom kit's exercises that this lesson's cells execute.
    """
    global _PAUSE, _QUICK, _NUMBER
    args = parse_args(f"Lesson {number:02d}: {title}")
    _PAUSE = args.pause and not in_notebook()
    _QUICK = args.quick
    _NUMBER = number
    _CHECKS.clear()
    _require(number, exercises)
    minigan.use(args.backend)
    minigan.manual_seed(args.seed)
    mode = "quick" if args.quick else "full"
    print("=" * 72)
    print(f"Lesson {number:02d}: {title}   [{mode} mode, backend {args.backend}, seed {args.seed}]")
    print("=" * 72)
    if goals:
        print(goals.strip())
        print("-" * 72)
    return args


def check(passed: bool, claim: str, measured: str = "", full_only: bool = False) -> bool:
    """State one of the lesson's claims and whether this run shows it.

    Prints ``PASS  claim (measured)``, or ``NOT SHOWN  claim: this run did not show it (measured)``.
    ``full_only``: the claim needs the full run; in quick mode the value is printed, not judged.
    """
    passed = bool(passed)
    note = f" ({measured})" if measured else ""
    if full_only and _QUICK:
        _CHECKS.append((claim, None))
        print(f"  QUICK MODE  {claim}: quick mode is too short to judge this; the full run checks it{note}")
        return passed
    _CHECKS.append((claim, passed))
    if passed:
        print(f"  PASS  {claim}{note}")
    else:
        print(f"  NOT SHOWN  {claim}: this run did not show it{note}")
    return passed


def done(message: str) -> None:
    """The lesson's last line, after the tally of its checks."""
    judged = [ok for _, ok in _CHECKS if ok is not None]
    failed = [claim for claim, ok in _CHECKS if ok is False]
    skipped = sum(ok is None for _, ok in _CHECKS)
    tally = f"checks: {sum(judged)} of {len(judged)} passed"
    if skipped:
        tally += f", {skipped} left to the full run"
    print("-" * 72)
    print(tally + ("." if not failed else "; not shown in this run: " + "; ".join(failed) + "."))
    print(f"Done: {message}")
