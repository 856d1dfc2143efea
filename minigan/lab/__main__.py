"""``python -m minigan.lab``: serve the GAN lab on this machine and open it in the browser.

    python -m minigan.lab [--port P] [--host H] [--backend numpy|cupy] [--no-browser]

It prints the address, opens the browser where there is one, and stops on Ctrl-C.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Sequence

from minigan import backend
from minigan.cli import number
from minigan.lab.server import LOOPBACK, make_server


def _port(text: str) -> int:
    value = number(int, "--port", "a whole number from 0 to 65535 (0: a free one)")(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: --port must be from 0 to 65535 (0: a free one).")
    return value


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigan.lab", description=(
        "The GAN lab: a page in your browser where a 2-D GAN plays step by step, every step minigan's own."))
    parser.add_argument("--port", type=_port, default=0, help="the port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--backend", choices=("numpy", "cupy"), default=None,
                        help="where the arrays live (default: $MINIGAN_BACKEND, else numpy)")
    parser.add_argument("--no-browser", action="store_true", help="print the address, open no browser")
    args = parser.parse_args(argv)

    try:
        backend.use(args.backend or backend.default_name())
    except (backend.BackendError, ValueError) as e:
        return _fail(str(e))
    try:
        server = make_server(args.host, args.port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return _fail(f"port {args.port} is in use on {args.host}: choose another with --port, "
                         "or leave --port out for a free one.")
        if e.errno == errno.EACCES:
            return _fail(f"this user may not listen on port {args.port} (ports below 1024 need root): "
                         "choose a higher one with --port, or leave --port out.")
        return _fail(f"cannot listen on {args.host}:{args.port} ({e.strerror or e}): check --host and --port.")
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # Before the address is printed: whoever reads it may stop us at once. SIGINT too, since a shell
    # that starts a job in the background leaves it ignoring Ctrl-C's signal.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if args.host not in LOOPBACK:
            print(f"warning: --host {args.host} lets other machines that can reach this one use the lab; "
                  "it has no password.", file=sys.stderr)
        url = server.url
        print(f"minigan lab: {url}  (backend {backend.current().name}; Ctrl-C stops it)", flush=True)
        headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                             or os.environ.get("WAYLAND_DISPLAY"))
        if headless and not args.no_browser:
            # Without a display, webbrowser would start a console browser in this terminal: the page needs a real one.
            print("no display here: open the address above in a browser (on another machine, forward the port "
                  "with ssh -L first).", flush=True)
        elif not args.no_browser:
            # webbrowser may block on a console browser; the server must be serving first.
            def open_page() -> None:
                if not webbrowser.open(url):
                    print("no browser found here: open the address above in one.", flush=True)

            opener = threading.Timer(0.2, open_page)
            opener.daemon = True  # a Ctrl-C at once must not wait for it
            opener.start()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    print("minigan lab: stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
