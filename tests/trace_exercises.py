"""Which classroom exercises a lesson executes: run it (quick mode) with a line tracer on the exercise regions.

    python tests/trace_exercises.py lessons/04_discriminator_is_a_classifier.py   -> prints the ids, one line

The tracer follows only the functions that hold a region, so the lesson runs at nearly full speed.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(script: str) -> None:
    sys.path.insert(0, str(ROOT))
    from minigan.classroom.markers import scan

    lines: dict[tuple[str, int], str] = {}  # (absolute file, line number from 1) -> exercise id
    functions: set[tuple[str, str]] = set()
    for rel, regions in scan(ROOT).items():
        path = str((ROOT / rel).resolve())
        for r in regions:
            functions.add((path, r.function.split(".")[-1]))
            for n in range(r.begin + 2, r.end + 1):  # the lines between the markers
                lines[(path, n)] = r.id
    hit: set[str] = set()

    def local(frame, event, arg):
        if event == "line":
            ex = lines.get((frame.f_code.co_filename, frame.f_lineno))
            if ex:
                hit.add(ex)
        return local

    def tracer(frame, event, arg):
        if (frame.f_code.co_filename, frame.f_code.co_name) in functions:
            return local
        return None

    os.environ["MINIGAN_QUICK"] = "1"
    sys.argv = [script, "--quick"]
    sys.path.insert(0, str(Path(script).resolve().parent))
    sys.settrace(tracer)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.settrace(None)
        print("EXERCISES:", " ".join(sorted(hit)), file=sys.__stdout__)


if __name__ == "__main__":
    main(sys.argv[1])
