"""Run a script or module with the strict CuPy stand-in playing CuPy (test-only).

    python tests/run_on_standin.py lessons/10_mlp_gan_mnist.py --quick
    python tests/run_on_standin.py -m minigan.train --backend cupy --dataset ring8 --steps 20

The stand-in is installed through the backend's test hook (``backend.device_module``) and
``MINIGAN_BACKEND`` is set to ``cupy``, so code that creates arrays creates them "on the
device". At exit it prints one line to stderr with the transfers and syncs counted, and
with ``STANDIN_RECORD=FILE`` writes the names and keywords used to FILE (JSON).
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import strict_cupy  # noqa: E402

from minigan import backend  # noqa: E402


def _report() -> None:
    c = strict_cupy.record.counts()
    print(f"strict_cupy: {c['to_device']} host->device, {c['to_host']} device->host, {c['syncs']} syncs, "
          f"{c['ops']} device calls", file=sys.stderr)
    if os.environ.get("STANDIN_RECORD"):
        Path(os.environ["STANDIN_RECORD"]).write_text(json.dumps(
            {"used": sorted(strict_cupy.record.used),
             "keywords": {k: sorted(v) for k, v in sorted(strict_cupy.record.keywords.items())}}, indent=1))


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python tests/run_on_standin.py SCRIPT [ARGS...] | -m MODULE [ARGS...]")
    os.environ["MINIGAN_BACKEND"] = "cupy"
    atexit.register(_report)
    with backend.device_module(strict_cupy):
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(argv)
            sys.path.insert(0, str(Path(argv[0]).resolve().parent))
            runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
