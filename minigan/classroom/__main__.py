"""``python -m minigan.classroom``: list, release, grade and check the exercises (see ``kit``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from minigan.classroom import kit
from minigan.classroom.kit import (
    KitError,
    answers,
    check,
    grade,
    grade_report,
    lessons_table,
    registry,
    release,
    table,
)


def _ids(text: str) -> list[str]:
    return [i.strip() for i in text.split(",") if i.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigan.classroom", description=kit.__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the exercises: id, points, title, where, tests")
    p = sub.add_parser("release", help="write the student edition")
    p.add_argument("--out", required=True, type=Path, help="a new or empty folder")
    p.add_argument("--only", type=_ids, help="stub only these exercises (comma-separated ids)")
    p.add_argument("--with-reference", action="store_true",
                   help="ship reference/, the solved package, so that MINIGAN_REFERENCE=1 runs any lesson")
    sub.add_parser("lessons", help="which exercises each lesson runs (a Markdown table)")
    sub.add_parser("answers", help="the instructor's answers to the lessons' written questions (Markdown)")
    p = sub.add_parser("grade", help="grade a student edition, each exercise in isolation")
    p.add_argument("dir", type=Path, help="the student's copy of the edition")
    p.add_argument("--json", action="store_true", help="print one JSON object (for a learning-management system)")
    p.add_argument("--only", type=_ids, help="grade only these exercises (comma-separated ids)")
    p.add_argument("--jobs", type=int, default=1, help="exercises graded at once (default 1)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per exercise's tests (default 300)")
    p = sub.add_parser("check", help="prove the kit sound (about 25 s on one core)")
    p.add_argument("--jobs", type=int, default=1, help="exercises tested at once (default 1)")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            rows = [(e.id, str(e.points), e.title, e.where, " ".join(e.tests) or "NONE") for e in registry()]
            print(table(("exercise", "points", "title", "where", "tests"), rows))
        elif args.command == "release":
            chosen = release(args.out, args.only, with_reference=args.with_reference)
            print(f"Wrote the student edition of {len(chosen)} exercises "
                  f"({sum(e.points for e in chosen)} points) to {args.out}"
                  + (", with the reference solutions in reference/." if args.with_reference else "."))
        elif args.command == "lessons":
            print(lessons_table(), end="")
        elif args.command == "answers":
            print(answers(), end="")
        elif args.command == "grade":
            print(grade_report(grade(args.dir, args.only, args.jobs, args.timeout), args.json))
        else:
            return 0 if check(args.jobs) else 1
    except KitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
