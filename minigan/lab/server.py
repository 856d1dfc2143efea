"""The lab's web server: its own static page and a small JSON API, on the standard library's ``http.server``.

The API (every answer is JSON; an error is ``{"error": "one sentence"}`` with a 4xx or 5xx code)::

    GET  /api/options                    the settings (labels, kinds, ranges, defaults), the data
                                         sets, the losses and each loss's recipe settings
    POST /api/session          {settings}   a new session                     -> its state
    GET  /api/session/ID                 its state (see ``Session.state``)
    GET  /api/session/ID/code            the source of what its buttons run (``Session.code``)
    POST /api/session/ID/settings {settings} new settings: a new game from step 0 -> its state
    POST /api/session/ID/step  {"kind": "iteration" | "d" | "g", "count": 1..100}
                                         -> its state, and "taken": the steps taken (fewer than
                                         count when they took more than a second)
    POST /api/session/ID/reset           the same settings, from step 0        -> its state
    POST /api/session/ID/close           forget it                             -> {"closed": true}

What it refuses, and how: a path that is not one of its files or routes is a 404 (nothing is
read from a path a client sends: the files are a fixed list); a body that is not a JSON object
under ``MAX_BODY`` bytes, or a POST whose type is not ``application/json``, is a 4xx; a Host
header that names another machine is a 403 while the lab listens on the loopback only (so a web
page elsewhere cannot reach it through a DNS name that points here). Nothing a client sends is
evaluated. Whatever goes wrong in a request is answered in one sentence, and the server goes on.
"""

from __future__ import annotations

import json
import math
import re
import socket
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from minigan import backend
from minigan.data import TOY_DATASETS
from minigan.gan import trainer
from minigan.lab import session as lab
from minigan.lab import settings as lab_settings
from minigan.lab.session import Sessions
from minigan.lab.settings import LabError

__all__ = ["LabServer", "make_server", "STATIC", "FILES", "MAX_BODY", "LOOPBACK"]

STATIC = Path(__file__).resolve().parent / "static"
# The only files the server sends: URL path -> (file in static/, its type). No path is ever joined
# from what a client asks for.
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/lab.js": ("lab.js", "text/javascript; charset=utf-8"),
    "/lab.css": ("lab.css", "text/css; charset=utf-8"),
}
MAX_BODY = 64 * 1024  # bytes: 1,000 drawn points fit in a quarter of it
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_SESSION = re.compile(r"^/api/session/([0-9a-f]{16})(?:/(settings|step|reset|close|code))?$")
_HEADERS = {
    # The page loads only its own files, runs no inline script and evaluates nothing.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def options() -> dict[str, Any]:
    """What the page needs to build its form: every setting, the data sets, the losses and their recipes."""
    settings = {}
    for key, s in lab_settings.SETTINGS.items():
        settings[key] = {"label": s.label, "kind": s.kind, "default": s.default, "low": s.low, "high": s.high,
                         "choices": list(s.choices), "help": s.help, "accepts": s.describe()}
    return {
        "settings": settings, "datasets": list(lab_settings.DATASETS), "mixtures": list(TOY_DATASETS),
        "losses": {name: loss.description for name, loss in trainer.LOSSES.items()},
        "recipes": {d: {name: lab_settings.loss_defaults(name, d) for name in trainer.LOSSES}
                    for d in ("ring8", "grid25")},
        "backend": backend.current().name, "max_count": lab.MAX_COUNT, "max_points": lab_settings.MAX_POINTS,
        "drawn_box": lab_settings.DRAWN_BOX,
    }


def _finite(obj: Any) -> Any:
    """The payload with every NaN or infinite float as null: JSON has no such numbers."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


class LabServer(ThreadingHTTPServer):
    """The HTTP server with the lab's sessions. ``local``: it listens on the loopback only."""

    daemon_threads = True
    # SO_REUSEADDR: a lab restarted on its --port at once is not refused for the last one's closing
    # connections. On Linux it never lets two servers listen on one port: a port in use is still refused.
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sessions: Sessions | None = None) -> None:
        if ":" in address[0]:  # an IPv6 address such as ::1
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.sessions = sessions or Sessions()
        self.local = address[0] in LOOPBACK
        self._options: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}/"

    def options(self) -> dict[str, Any]:
        if self._options is None:
            self._options = options()
        return self._options


def make_server(host: str = "127.0.0.1", port: int = 0, sessions: Sessions | None = None) -> LabServer:
    """A lab server bound to (host, port) (port 0: a free one), not yet serving: call ``serve_forever``.
    Raises OSError where the address cannot be had (a port in use)."""
    return LabServer((host, int(port)), sessions)


class Handler(BaseHTTPRequestHandler):
    server: LabServer
    server_version = "minigan-lab"
    sys_version = ""
    timeout = 10  # seconds a client may take to send its request: one that stalls frees its thread

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        pass  # ten requests a second while a game plays: the terminal stays quiet

    # ---- answers

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in _HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        try:
            body = json.dumps(payload, allow_nan=False)
        except ValueError:
            body = json.dumps(_finite(payload), allow_nan=False)
        self._send(status, body.encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    # ---- requests

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._handle(self._get)

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle(self._get)

    def do_POST(self) -> None:  # noqa: N802
        self._handle(self._post)

    def _other(self) -> None:
        self._error(HTTPStatus.METHOD_NOT_ALLOWED, f"the lab answers GET and POST only, not {self.command}.")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _other  # noqa: N815

    def _handle(self, route) -> None:
        """Run one request; whatever fails is answered in one sentence, and the server goes on."""
        try:
            if self.server.local and not self._host_is_local():
                self._error(HTTPStatus.FORBIDDEN, "the lab answers only requests addressed to this machine "
                                                  "(127.0.0.1 or localhost).")
                return
            status, payload = route()
            if isinstance(payload, tuple):  # one of the page's files
                self._send(status, *payload)
            else:
                self._json(status, payload)
        except NotImplementedError as e:  # a student's edition whose exercise is still a stub
            self._error(HTTPStatus.BAD_REQUEST, f"this step runs code that is still an exercise ({e}): solve it in "
                                                "your copy of minigan, then press reset.")
        except LabError as e:
            self._json(e.status, {"error": str(e), **({"state": e.state} if e.state is not None else {})})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the page went away mid-answer: nothing to tell it
        except TimeoutError:
            try:
                self._error(HTTPStatus.REQUEST_TIMEOUT, f"the request did not arrive in {self.timeout} s.")
            except OSError:
                pass
        except Exception as e:  # noqa: BLE001 - a bug must not take the lab down with it
            where = traceback.extract_tb(e.__traceback__)[-1]
            print(f"minigan lab: {type(e).__name__} at {Path(where.filename).name}:{where.lineno}: {e}",
                  file=sys.stderr)
            try:
                self._error(HTTPStatus.INTERNAL_SERVER_ERROR,
                            f"the lab failed on this request ({type(e).__name__}: {e}): press reset, "
                            "or report this with the line the terminal shows.")
            except OSError:
                pass

    def _host_is_local(self) -> bool:
        host = (self.headers.get("Host") or "").strip().lower()
        if host.startswith("["):
            host = host[1:host.find("]")] if "]" in host else host
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return host in LOOPBACK

    def _path(self) -> str:
        return self.path.split("?", 1)[0].split("#", 1)[0]

    def _get(self) -> tuple[int, Any]:
        path = self._path()
        if path in FILES:
            name, kind = FILES[path]
            return HTTPStatus.OK, ((STATIC / name).read_bytes(), kind)
        if path == "/api/options":
            return HTTPStatus.OK, self.server.options()
        m = _SESSION.match(path)
        if m and m.group(2) in (None, "code"):
            with self.server.sessions.lock:
                session = self.server.sessions.get(m.group(1))
                return HTTPStatus.OK, session.code() if m.group(2) else session.state()
        raise LabError("there is no such page here: the lab serves / and its API under /api/.", status=404)

    def _body(self) -> Any:
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise LabError(f"a POST to the lab must be JSON (Content-Type: application/json), not {kind or 'untyped'}.",
                           status=415)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise LabError("the request's Content-Length is not a number.") from None
        if length < 0 or length > MAX_BODY:
            raise LabError(f"the request is {length} bytes; the lab takes at most {MAX_BODY}.", status=413)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError, RecursionError) as e:  # ValueError: bad JSON, a 5,000-digit number
            raise LabError(f"the request's body is not JSON that the lab can read ({type(e).__name__}).") from None
        if not isinstance(body, dict):
            raise LabError(f"the request's body must be a JSON object, not {type(body).__name__}.")
        return body

    def _post(self) -> tuple[int, Any]:
        path = self._path()
        body = self._body()
        sessions = self.server.sessions
        if path == "/api/session":
            settings = lab_settings.check_settings(body.get("settings", {}))
            with sessions.lock:
                return HTTPStatus.CREATED, sessions.create(settings).state()
        m = _SESSION.match(path)
        if not m or m.group(2) in (None, "code"):
            raise LabError("there is no such action here: see the API in minigan/lab/server.py.", status=404)
        sid, action = m.groups()
        with sessions.lock:  # the state is built under the lock; it is sent after, so a slow reader stalls no one
            if action == "close":
                sessions.close(sid)
                return HTTPStatus.OK, {"closed": True}
            session = sessions.get(sid)
            if action == "settings":
                session = sessions.replace(sid, lab_settings.check_settings(body.get("settings", {}), session.settings))
            elif action == "reset":
                session = sessions.replace(sid, session.settings)
            else:
                kind, count = body.get("kind", "iteration"), body.get("count", 1)
                if kind not in ("iteration", "d", "g"):
                    raise LabError(f"a step's `kind` must be iteration, d or g, got {lab_settings._show(kind)}.")
                if not (isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= lab.MAX_COUNT):
                    raise LabError(f"a step's `count` must be a whole number from 1 to {lab.MAX_COUNT}, "
                                   f"got {lab_settings._show(count)}.")
                try:
                    taken = session.step(kind, count)
                except LabError as e:  # a NaN stopped it: the steps before it stand, and the page redraws them
                    e.state = session.state()
                    raise
                return HTTPStatus.OK, {**session.state(), "taken": taken}
            return HTTPStatus.OK, session.state()
