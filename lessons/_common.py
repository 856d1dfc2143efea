"""What every lesson shares: its command line, the pause between steps, where figures go.

    args = lesson_setup(1, "Generative vs discriminative models", __doc__)
    pause()                    # waits for Enter only with --pause
    out = out_dir(1)           # lessons/out/01/, created
"""

from __future__ import annotations

import argparse
from pathlib import Path

import minigan

_PAUSE = False
OUT_ROOT = Path(__file__).resolve().parent / "out"


def parse_args(description: str = "") -> argparse.Namespace:
    """--quick (small sizes, < 30 s on one core), --pause (Enter between steps), --backend numpy|cupy."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole lesson in under 30 s on one core")
    parser.add_argument("--pause", action="store_true", help="wait for Enter between steps")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"], help="where arrays live")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run's random generator")
    return parser.parse_args()


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


def lesson_setup(number: int, title: str, goals: str = "") -> argparse.Namespace:
    """Parse the command line, pick the backend, seed the generator, print the lesson's header."""
    global _PAUSE
    args = parse_args(f"Lesson {number:02d}: {title}")
    _PAUSE = args.pause
    minigan.use(args.backend)
    minigan.manual_seed(args.seed)
    mode = "quick" if args.quick else "full"
    print("=" * 72)
    print(f"Lesson {number:02d}: {title}   [{mode} mode, backend {args.backend}]")
    print("=" * 72)
    if goals:
        print(goals.strip())
        print("-" * 72)
    return args
