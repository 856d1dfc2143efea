"""What the command-line doors (train, sample, evaluate) share: numeric flag types and the flags in messages.

The library below the doors names a setting in its messages as a Python caller knows it, in
backticks (```data_dir```, ```lr```); a door shows the flag instead (``--data-dir``, ``--lr``).
Nothing below the doors imports this module.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

__all__ = ["number", "with_flags"]

_SETTING = re.compile(r"`([a-z][a-z0-9_]*)`")


def with_flags(message: str) -> str:
    """A library message as the command line says it: each `setting` becomes its --flag."""
    return _SETTING.sub(lambda m: "--" + m.group(1).replace("_", "-"), message)


def number(kind: type, flag: str, accepted: str) -> Any:
    """An argparse ``type=`` for ``flag``: a whole (int) or a finite (float) number, else one sentence
    naming the value and what ``flag`` accepts. Ranges are checked by ``minigan.gan.config.validate``."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole' if kind is int else 'finite'} number: "
                                             f"{flag} must be {accepted}.")
        return value

    parse.__name__ = kind.__name__
    return parse
