"""The lab (``python -m minigan.lab``): its sessions, its JSON API, its refusals, its door and its page
in a real browser.

The server runs in a thread of the test process on a free port; requests go through
``http.client``, which sends a path exactly as written (so traversal attempts reach the server as
an attacker would send them).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import minigan
from minigan import backend
from minigan.data import sample
from minigan.gan import trainer
from minigan.gan.run import build_gan
from minigan.lab import server as lab_server
from minigan.lab import session as lab
from minigan.lab.session import LabError, Session, Sessions, check_settings

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "minigan" / "lab" / "static"


@pytest.fixture(scope="module")
def lab_url():
    server = lab_server.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def call(server, method: str, path: str, body=None, headers=None, raw: bytes | None = None):
    """(status, JSON or bytes, headers) of one request, the path sent exactly as given."""
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    conn.request(method, path, body=data, headers=h)
    res = conn.getresponse()
    payload = res.read()
    conn.close()
    if res.getheader("Content-Type", "").startswith("application/json"):
        payload = json.loads(payload)
    return res.status, payload, dict(res.getheaders())


def new_session(server, **settings):
    status, state, _ = call(server, "POST", "/api/session", {"settings": settings})
    assert status == 201, state
    return state


def one_sentence(message: str) -> bool:
    return isinstance(message, str) and "\n" not in message and "Traceback" not in message and \
        message.rstrip().endswith(".") and len(message) < 300


# --------------------------------------------------------------------------- the page and its files


def test_the_page_and_its_files_are_served_with_a_strict_policy(lab_url):
    status, page, headers = call(lab_url, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"minigan lab" in page and b'src="/lab.js"' in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    for path, kind in (("/lab.js", "text/javascript"), ("/lab.css", "text/css")):
        status, body, headers = call(lab_url, "GET", path)
        assert status == 200 and headers["Content-Type"].startswith(kind)
        assert body == (STATIC / path[1:]).read_bytes()


def test_the_page_loads_nothing_from_elsewhere_and_evaluates_nothing():
    """Offline: no URL of another host in the static files; no eval, no innerHTML, no inline script."""
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), path.name
        assert not re.search(r"\beval\(|new Function|innerHTML|outerHTML|document\.write", text), path.name
    html = (STATIC / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/lab.js" defer>']
    assert " style=" not in html and "onclick" not in html.lower()


TRAVERSALS = [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd", "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/static/../../setup.cfg", "/lab.js/../../../etc/passwd", "//etc/passwd", "/..\\..\\etc\\passwd",
    "/%2e%2e%5c%2e%2e%5cetc%5cpasswd", "/....//....//etc/passwd", "/%252e%252e/%252e%252e/etc/passwd",
    "/index.html%00.js", "/static/lab.js", "/session.py", "/server.py", "/../minigan/lab/session.py",
    "/api/../../etc/passwd", "/api/session/../../../etc/passwd", "/.%2e/.%2e/etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_outside_the_pages_files_is_refused(lab_url, path):
    status, body, _ = call(lab_url, "GET", path)
    assert status == 404
    assert one_sentence(body["error"])
    assert "root:" not in json.dumps(body) and "[metadata]" not in json.dumps(body)


def test_a_request_line_without_a_leading_slash_is_refused(lab_url):
    host, port = lab_url.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"GET ../../etc/passwd HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.split(b"\r\n")[0].split(b" ")[1] in (b"400", b"404")
    assert b"root:" not in answer


def test_a_host_header_naming_another_machine_is_refused(lab_url):
    """DNS rebinding: a page elsewhere that resolves its own name to 127.0.0.1 cannot drive the lab."""
    status, body, _ = call(lab_url, "GET", "/api/options", headers={"Host": "evil.example:80"})
    assert status == 403 and one_sentence(body["error"])
    assert call(lab_url, "GET", "/api/options", headers={"Host": f"localhost:{lab_url.server_address[1]}"})[0] == 200


# --------------------------------------------------------------------------- the API


def test_create_step_and_read_a_session(lab_url):
    state = new_session(lab_url)
    sid = state["session"]
    assert re.fullmatch(r"[0-9a-f]{16}", sid)
    assert (state["iterations"], state["d_steps"], state["g_steps"]) == (0, 0, 0)
    assert np.array(state["real"]).shape == (lab.N_REAL, 2)
    assert np.array(state["fake"]).shape == np.array(state["arrows"]).shape == (lab.N_SHOWN, 2)
    assert len(state["field"]["values"]) == lab.FIELD**2 and state["field"]["probability"] is True
    assert state["z_map"]["kind"] == "grid" and len(state["z_map"]["lines"]) == 2 * lab.Z_LINES
    assert state["quality"]["modes"]["n_modes"] == 8 and state["settings"] == lab.defaults()
    assert 0 < state["quality"]["js_real"] < state["quality"]["js"] <= 1  # an untrained G is far from the data

    status, after, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "iteration", "count": 3})
    assert status == 200 and (after["iterations"], after["d_steps"], after["g_steps"]) == (3, 3, 3)
    assert len(after["history"]["d_loss"]) == 3 and all(np.isfinite(after["history"]["g_loss"]))
    assert after["fake"] != state["fake"]  # G moved
    _, after, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "d", "count": 2})
    assert (after["iterations"], after["d_steps"], after["g_steps"]) == (3, 5, 3)
    _, after, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "g"})
    assert (after["d_steps"], after["g_steps"]) == (5, 4)
    status, read, _ = call(lab_url, "GET", f"/api/session/{sid}")
    assert status == 200 and after.pop("taken") == 1 and read == after

    _, reset, _ = call(lab_url, "POST", f"/api/session/{sid}/reset", {})
    assert reset["session"] == sid and reset["iterations"] == 0 and reset["fake"] == state["fake"]
    _, changed, _ = call(lab_url, "POST", f"/api/session/{sid}/settings", {"settings": {"loss": "hinge", "z_dim": 1}})
    assert changed["iterations"] == 0 and changed["settings"]["loss"] == "hinge"
    assert changed["field"]["probability"] is False and changed["z_map"]["kind"] == "curve"
    assert call(lab_url, "POST", f"/api/session/{sid}/close", {})[1] == {"closed": True}
    assert call(lab_url, "GET", f"/api/session/{sid}")[0] == 404


def test_the_code_the_buttons_run_is_read_from_the_library_that_runs_it(lab_url):
    import inspect

    from minigan.gan import losses
    from minigan.gan.unrolled import UnrolledGAN

    sid = new_session(lab_url, loss="hinge")["session"]
    status, code, _ = call(lab_url, "GET", f"/api/session/{sid}/code")
    assert status == 200 and set(code) == {"train_step", "d_step", "g_step", "d_loss", "g_loss"}
    assert code["d_step"]["where"] == "minigan.gan.trainer.GAN.d_step"
    assert code["d_step"]["source"].startswith("def d_step(self, real: Any, y: Any = None)")
    assert code["d_loss"]["source"] == inspect.getsource(losses.hinge_d_loss)
    call(lab_url, "POST", f"/api/session/{sid}/settings", {"settings": {"unroll": 3}})
    code = call(lab_url, "GET", f"/api/session/{sid}/code")[1]
    assert code["g_step"]["where"] == "minigan.gan.unrolled.UnrolledGAN.g_step"
    assert code["g_step"]["source"].startswith(inspect.getsource(UnrolledGAN.g_step).strip()[:40])
    assert call(lab_url, "POST", f"/api/session/{sid}/code", {})[0] == 404


def test_a_stub_of_the_student_edition_is_named_not_crashed_on(lab_url, monkeypatch):
    def stub(self, real, y=None):
        raise NotImplementedError("Exercise d-step: the discriminator's step, with G held fixed")

    monkeypatch.setattr(trainer.GAN, "d_step", stub)
    sid = new_session(lab_url)["session"]
    status, body, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "d"})
    assert status == 400 and body["error"] == (
        "this step runs code that is still an exercise (Exercise d-step: the discriminator's step, with G held "
        "fixed): solve it in your copy of minigan, then press reset.")


def test_options_list_every_setting_and_each_losss_recipe(lab_url):
    status, opts, _ = call(lab_url, "GET", "/api/options")
    assert status == 200 and set(opts["settings"]) == set(lab.SETTINGS)
    assert set(opts["losses"]) == set(trainer.LOSSES)
    assert opts["recipes"]["ring8"]["wgan"] == {"g_lr": 5e-5, "d_lr": 5e-5, "d_steps": 5, "gp_weight": 0.0,
                                                 "clip": 0.01}
    assert opts["recipes"]["grid25"]["wgan-gp"]["gp_weight"] == 1.0  # the trainer's grid25 row


BAD_SETTINGS = [
    ({"g_lr": "abc"}, "G learning rate `g_lr` must be a number from 1e-06 to 1, got 'abc'."),
    ({"g_lr": -1}, "`g_lr` must be a number from 1e-06 to 1, got -1."),
    ({"z_dim": 2.5}, "z dimension `z_dim` must be a whole number from 1 to 16, got 2.5."),
    ({"z_dim": True}, "`z_dim` must be a whole number from 1 to 16, got True."),
    ({"g_width": 10**9}, "`g_width` must be a whole number from 1 to 512"),
    ({"loss": "gan"}, "loss `loss` must be one of nonsaturating, minimax"),
    ({"dataset": ["ring8"]}, "data `dataset` must be one of ring8, grid25"),
    ({"dataset": "drawn"}, "the drawn set has no points yet"),
    ({"dataset": "drawn", "points": [[0, 9]]}, "must be a list of 1 to 1000 [x, y] pairs in [-1.5, 1.5]"),
    ({"points": "0,0"}, "drawn points `points` must be a list"),
    ({"points": [[0, 0]] * 1001}, "drawn points `points` must be a list of 1 to 1000"),
    ({"batch_size": 100, "pack": 3}, "batch size `batch_size` (100) must be a whole number of packs of `pack` (3)"),
    ({"nope": 1}, "there is no setting 'nope': the settings are dataset, points, loss"),
    ({"seed": -1}, "seed `seed` must be a whole number from 0 to 2147483647, got -1."),
]


@pytest.mark.parametrize("given, words", BAD_SETTINGS, ids=[str(g)[:40] for g, _ in BAD_SETTINGS])
def test_a_bad_setting_is_refused_in_one_sentence_and_the_server_goes_on(lab_url, given, words):
    status, body, _ = call(lab_url, "POST", "/api/session", {"settings": given})
    assert status == 400 and words in body["error"] and one_sentence(body["error"])
    sid = new_session(lab_url)["session"]
    status, body, _ = call(lab_url, "POST", f"/api/session/{sid}/settings", {"settings": given})
    assert status == 400 and words in body["error"]
    status, state, _ = call(lab_url, "GET", f"/api/session/{sid}")  # the game is as it was
    assert status == 200 and state["settings"] == lab.defaults()


BAD_REQUESTS = [
    ("POST", "step", {"kind": "x"}, None, 400, "a step's `kind` must be iteration, d or g, got 'x'."),
    ("POST", "step", {"count": 0}, None, 400, "a step's `count` must be a whole number from 1 to 100, got 0."),
    ("POST", "step", {"count": 101}, None, 400, "from 1 to 100, got 101."),
    ("POST", "step", {"count": "5"}, None, 400, "got '5'."),
    ("POST", "step", None, b"{bad", 400, "the request's body is not JSON"),
    ("POST", "step", None, b"[1, 2]", 400, "must be a JSON object, not list."),
    ("POST", "step", None, b'{"count": NaN}', 400, "got nan."),
    ("POST", "settings", None, b'{"settings": {"g_lr": Infinity}}', 400, "got inf."),
    ("POST", "settings", None, b'{"settings": {"g_lr": 1' + b"0" * 400 + b'}}', 400, "got 1000000000"),
    ("POST", "settings", None, b'{"settings": {"points": [[1' + b"0" * 400 + b', 0]]}}', 400, "one of them is"),
    ("POST", "step", None, b'{"count": 1' + b"0" * 5000 + b'}', 400, "not JSON that the lab can read (ValueError)."),
    ("POST", "step", None, b"[" * 30000 + b"]" * 30000, 400, "not JSON that the lab can read (RecursionError)."),
    ("POST", "nothing", {}, None, 404, "there is no such action here"),
    ("PUT", "step", {}, None, 405, "the lab answers GET and POST only, not PUT."),
    ("DELETE", "", None, None, 405, "not DELETE."),
]


@pytest.mark.parametrize("method, action, body, raw, status, words", BAD_REQUESTS,
                         ids=[f"{m}-{a}-{(b or r)!s:.20}" for m, a, b, r, _, _ in BAD_REQUESTS])
def test_a_malformed_request_is_refused_in_one_sentence(lab_url, method, action, body, raw, status, words):
    sid = new_session(lab_url)["session"]
    path = f"/api/session/{sid}" + (f"/{action}" if action else "")
    got, answer, _ = call(lab_url, method, path, body, raw=raw)
    assert got == status and words in answer["error"] and one_sentence(answer["error"])
    assert call(lab_url, "GET", f"/api/session/{sid}")[1]["iterations"] == 0


def test_a_post_that_is_not_json_or_too_large_is_refused(lab_url):
    status, body, _ = call(lab_url, "POST", "/api/session", raw=b"{}", headers={"Content-Type": "text/plain"})
    assert status == 415 and "must be JSON (Content-Type: application/json), not text/plain." in body["error"]
    big = json.dumps({"settings": {"points": [[0.123456789, 0.123456789]] * 3000}}).encode()
    status, body, _ = call(lab_url, "POST", "/api/session", raw=big)
    assert status == 413 and f"the lab takes at most {lab_server.MAX_BODY}." in body["error"]


def test_a_step_not_yet_taken_is_null_in_the_history_not_zero(lab_url):
    sid = new_session(lab_url)["session"]
    _, state, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "d"})
    assert state["history"]["g_loss"] == [None] and state["history"]["d_loss"][0] > 0


def test_a_request_whose_body_never_arrives_frees_its_thread(lab_url, monkeypatch):
    monkeypatch.setattr(lab_server.Handler, "timeout", 0.5)
    host, port = lab_url.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(b"POST /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert b" 408 " in answer.split(b"\r\n")[0] and b"the request did not arrive in 0.5 s." in answer
    assert call(lab_url, "GET", "/api/options")[0] == 200


def test_an_unknown_session_says_to_reload(lab_url):
    status, body, _ = call(lab_url, "POST", "/api/session/0123456789abcdef/step", {})
    assert status == 404 and "reload the page to start a new one." in body["error"]
    assert call(lab_url, "GET", "/api/session/not-an-id")[0] == 404


def test_a_nan_loss_is_reported_and_the_weights_stay(lab_url):
    sid = new_session(lab_url)["session"]
    with lab_url.sessions.lock:
        D = lab_url.sessions.get(sid).gan.D
        for p in D.parameters():
            p.data[...] = np.nan
        before = [p.data.copy() for p in lab_url.sessions.get(sid).gan.G.parameters()]
    status, body, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "iteration", "count": 2})
    assert status == 400 and body["error"] == ("D's loss became nan; the weights were left as they were before this "
                                               "step: lower the learning rates or try another loss, then press reset.")
    assert body["state"]["iterations"] == 0  # the answer carries the state to redraw
    status, state, _ = call(lab_url, "GET", f"/api/session/{sid}")  # still drawable: NaN goes out as null
    assert status == 200 and state["iterations"] == 0 and state["field"]["min"] is None
    assert set(state["field"]["values"]) == {None}
    for p, b in zip(lab_url.sessions.get(sid).gan.G.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_an_error_inside_a_request_is_answered_and_the_server_goes_on(lab_url, monkeypatch, capsys):
    sid = new_session(lab_url)["session"]

    def broken(self):
        raise KeyError("boom")

    monkeypatch.setattr(Session, "state", broken)
    status, body, _ = call(lab_url, "GET", f"/api/session/{sid}")
    assert status == 500 and body["error"] == ("the lab failed on this request (KeyError: 'boom'): press reset, "
                                               "or report this with the line the terminal shows.")
    assert "minigan lab: KeyError at" in capsys.readouterr().err
    monkeypatch.undo()
    assert call(lab_url, "GET", f"/api/session/{sid}")[0] == 200


def test_several_sessions_each_keep_their_own_game(lab_url):
    """Two tabs, interleaved: each ends where it would have alone (its own seed, its own random stream)."""
    a = new_session(lab_url, seed=3)["session"]
    b = new_session(lab_url, seed=4)["session"]
    for _ in range(3):
        call(lab_url, "POST", f"/api/session/{a}/step", {"count": 2})
        call(lab_url, "POST", f"/api/session/{b}/step", {"count": 5})
    alone = new_session(lab_url, seed=3)["session"]
    call(lab_url, "POST", f"/api/session/{alone}/step", {"count": 6})
    got_a, got_alone = (call(lab_url, "GET", f"/api/session/{s}")[1] for s in (a, alone))
    assert got_a["fake"] == got_alone["fake"] and got_a["history"] == got_alone["history"]
    assert call(lab_url, "GET", f"/api/session/{b}")[1]["iterations"] == 15


def test_sessions_are_bounded_and_the_least_recently_used_goes_first():
    pool = Sessions(limit=3)
    made = [pool.create(check_settings({"g_width": 8, "d_width": 8, "seed": i})) for i in range(4)]
    pool.get(made[1].id)  # used: it stays
    pool.create(check_settings({"g_width": 8, "d_width": 8}))
    assert len(pool) == 3
    for gone in (made[0], made[2]):
        with pytest.raises(LabError, match="this session has ended") as e:
            pool.get(gone.id)
        assert e.value.status == 404
    assert pool.get(made[1].id) is made[1]


def test_every_setting_has_a_bounded_range():
    for key, s in lab.SETTINGS.items():
        assert s.kind in ("choice", "points") or (s.low is not None and s.high is not None), key
    assert lab.SETTINGS["g_width"].high * lab.SETTINGS["g_depth"].high <= 2048  # one session stays small


# --------------------------------------------------------------------------- the steps are the trainer's


def test_a_sessions_steps_are_the_trainers_train_step():
    """A session's iterations are GAN.train_step on the GAN that build_gan makes from its config, drawing
    weights, z and batches from one generator seeded with the session's seed: the same bits."""
    settings = check_settings({"seed": 7, "g_width": 16, "d_width": 16, "batch_size": 32, "d_steps": 2})
    s = Session(settings)
    s.step("iteration", 4)
    s.step("d", 1)
    s.step("g", 1)

    rng = np.random.default_rng(7)
    with backend.using_generator(rng):
        gan = build_gan(s.config, (2,))

        def batches():
            while True:
                yield sample("ring8", 32, rng)

        for _ in range(4):
            gan.train_step(batches())
        gan.d_step(sample("ring8", 32, rng))
        gan.g_step(32)
    for mine, theirs in zip(s.gan.G.parameters(), gan.G.parameters()):
        np.testing.assert_array_equal(mine.data, theirs.data)
    for mine, theirs in zip(s.gan.D.parameters(), gan.D.parameters()):
        np.testing.assert_array_equal(mine.data, theirs.data)
    assert (s.iterations, s.d_steps, s.g_steps) == (4, 9, 5)


@pytest.mark.parametrize("extra", [{"loss": "wgan", "clip": 0.01}, {"loss": "wgan-gp", "gp_weight": 0.1},
                                   {"r1": 1.0}, {"pack": 2}, {"unroll": 2}, {"loss": "lsgan", "z_dim": 3}],
                         ids=lambda e: "-".join(f"{k}{v}" for k, v in e.items()))
def test_the_variants_reach_the_trainer(extra):
    s = Session(check_settings({"g_width": 16, "d_width": 16, "batch_size": 32, **extra}))
    gan = s.gan
    assert gan.loss_name == extra.get("loss", "nonsaturating")
    assert gan.clip == extra.get("clip") and gan.gp_weight == extra.get("gp_weight", 0.0)
    assert gan.r1 == extra.get("r1", 0.0) and gan.D.pack == extra.get("pack", 1)
    assert getattr(gan, "unroll", 0) == extra.get("unroll", 0)
    s.step("iteration", 2)
    state = s.state()
    assert state["iterations"] == 2 and all(np.isfinite(state["history"]["d_loss"]))
    if extra.get("z_dim") == 3:
        assert state["z_map"]["kind"] == "slice"


@pytest.mark.parametrize("dataset", lab.DATASETS)
def test_every_data_set_plays(dataset):
    points = [[0.5, 0.5], [-0.5, -0.5]] if dataset == "drawn" else []
    s = Session(check_settings({"dataset": dataset, "points": points, "g_width": 16, "d_width": 16}))
    s.step("iteration", 2)
    state = s.state()
    lo, hi = state["box"]
    assert np.all(np.abs(np.array(state["real"])) < hi)  # the real points lie in the view
    assert (state["quality"]["modes"] is None) == (dataset not in ("ring8", "grid25"))
    assert 0 <= state["quality"]["js_real"] < 0.2 and 0 <= state["quality"]["js"] <= 1
    if dataset == "drawn":
        real = np.array(state["real"])
        nearest = np.min(np.linalg.norm(real[:, None] - np.array(points)[None], axis=-1), axis=1)
        assert nearest.max() < 6 * 0.05  # every real sample is a drawn point plus noise


def test_the_views_are_what_the_gan_computes():
    s = Session(check_settings({"g_width": 16, "d_width": 16}))
    s.step("iteration", 3)
    state = s.state()
    fake = s._generate(s.z_shown)
    np.testing.assert_allclose(state["fake"], fake, atol=6e-4)
    np.testing.assert_allclose(state["arrows"], s.gan.g_direction(fake), atol=6e-5, rtol=1e-3)
    field = np.array(state["field"]["values"]).reshape(lab.FIELD, lab.FIELD)
    lo, hi = s.box
    np.testing.assert_allclose(field[0, -1], s.gan.d_at_points(np.array([[hi, lo]]))[0], atol=6e-4)  # row 0 is y = lo
    assert state["z_map"]["lines"][0][0] == pytest.approx(
        s._generate(minigan.tensor(np.array([[-2.0, -2.0]], dtype=np.float32)))[0].tolist(), abs=6e-4)


def test_a_session_plays_on_every_backend_with_the_same_numbers(xp_backend):
    s = Session(check_settings({"g_width": 16, "d_width": 16, "batch_size": 32, "seed": 1}))
    s.step("iteration", 3)
    state = s.state()
    minigan.use("numpy")
    ref = Session(check_settings({"g_width": 16, "d_width": 16, "batch_size": 32, "seed": 1}))
    ref.step("iteration", 3)
    want = ref.state()
    np.testing.assert_allclose(state["fake"], want["fake"], atol=2e-3)
    np.testing.assert_allclose(state["history"]["d_loss"], want["history"]["d_loss"], rtol=1e-4)
    assert state["backend"] == xp_backend.name


def test_the_history_keeps_the_whole_game_in_a_bounded_number_of_rows(monkeypatch):
    monkeypatch.setattr(lab, "HISTORY", 8)
    s = Session(check_settings({"g_width": 8, "d_width": 8, "batch_size": 16}))
    s.step("iteration", 20)
    h = s.state()["history"]
    assert len(h["d_loss"]) < 8 and h["stride"] == 4 and (len(h["d_loss"]) - 1) * h["stride"] <= 20


# --------------------------------------------------------------------------- the door


def _start(*args):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "minigan.lab", "--no-browser", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = proc.stdout.readline()
    return proc, line


def test_the_door_serves_prints_its_address_and_stops_cleanly_on_ctrl_c():
    proc, line = _start()
    try:
        m = re.match(r"minigan lab: (http://127\.0\.0\.1:(\d+)/)  \(backend numpy; Ctrl-C stops it\)", line)
        assert m, line
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(2)), timeout=30)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "minigan lab: stopped." in out and "Traceback" not in err


def test_the_door_warns_when_it_listens_beyond_this_machine():
    proc, line = _start("--host", "0.0.0.0")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert line.startswith("minigan lab: http://0.0.0.0:") and proc.returncode == 0
    assert "warning: --host 0.0.0.0 lets other machines that can reach this one use the lab" in err


def test_the_door_says_when_its_port_is_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "minigan.lab", "--no-browser", "--port", str(port)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (f"error: port {port} is in use on 127.0.0.1: choose another with --port, "
                           "or leave --port out for a free one.\n")


@pytest.mark.parametrize("flags, words", [(["--port", "70000"], "70000 is not a port: --port must be from 0 to 65535"),
                                          (["--port", "x"], "'x' is not a whole number: --port must be"),
                                          (["--backend", "tpu"], "invalid choice: 'tpu'")])
def test_the_door_refuses_an_impossible_flag_in_one_sentence(flags, words):
    proc = subprocess.run([sys.executable, "-m", "minigan.lab", "--no-browser", *flags], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(backend.cupy_available(), reason="CuPy and a GPU are here: --backend cupy starts a lab")
def test_the_door_says_what_to_install_for_a_missing_backend():
    proc = subprocess.run([sys.executable, "-m", "minigan.lab", "--no-browser", "--backend", "cupy"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1
    assert "cupy" in proc.stderr.lower() and "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def browse(url: str, *flags: str, budget_ms: int = 6000) -> subprocess.CompletedProcess:
    """Headless Chromium on ``url`` for ``budget_ms`` of the page's (virtual) time."""
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1400,1200", f"--virtual-time-budget={budget_ms}", *flags, url],
                          capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_the_page_plays_in_a_real_browser(lab_url, tmp_path):
    dom = browse(lab_url.url + "?play=1", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout).group(1)
    data = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body))
    assert re.fullmatch(r"[0-9a-f]{16}", data["session"])
    assert int(data["iterations"]) >= 10 and int(data["frames"]) >= 3  # it played, and redrew
    assert float(data["field-spread"]) > 0  # D's belief varies over the plot
    assert re.search(r'<b id="iterations">(\d+)</b>', dom.stdout).group(1) == data["iterations"]
    assert '<p id="error" role="alert" hidden=""></p>' in dom.stdout  # no error shown
    assert data["session"] not in lab_url.sessions._sessions  # the page closed its session when it went away

    shot = tmp_path / "lab.png"
    assert browse(lab_url.url + "?play=1", f"--screenshot={shot}").returncode == 0
    import matplotlib.image

    rgb = (matplotlib.image.imread(shot)[..., :3] * 255).astype(int)
    assert rgb.shape[:2] == (1200, 1400)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    tinted = ((r - g > 15) & (b - g > 15)) | ((g - r > 15) & (g - b > 15))  # the heatmap's purple and green
    fake = (abs(r - 0x7B) < 30) & (abs(g - 0x32) < 30) & (abs(b - 0x94) < 30)  # G's points
    real = (abs(r - 0x1A) < 30) & (abs(g - 0x96) < 30) & (abs(b - 0x41) < 30)
    assert tinted.mean() > 0.02 and fake.sum() > 500 and real.sum() > 100


def test_a_request_stops_stepping_after_its_time_and_says_how_many_it_took(lab_url, monkeypatch):
    monkeypatch.setattr(lab, "STEP_SECONDS", 0.0)  # every step is "too long": one is still taken
    sid = new_session(lab_url)["session"]
    status, state, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "iteration", "count": 50})
    assert status == 200 and state["taken"] == 1 and state["iterations"] == 1
    monkeypatch.undo()
    _, state, _ = call(lab_url, "POST", f"/api/session/{sid}/step", {"kind": "iteration", "count": 4})
    assert state["taken"] == 4 and state["iterations"] == 5


def test_the_largest_session_holds_a_bounded_amount_of_memory():
    """Every setting at its largest: the arrays a session keeps (weights, optimizer states, the views'
    fixed z and points) stay under 64 MB, so the lab's MAX_SESSIONS stay under half a gigabyte."""
    biggest = {k: int(s.high) if s.kind == "int" else s.high for k, s in lab.SETTINGS.items()
               if s.kind in ("int", "float") and k not in ("seed", "g_lr", "d_lr", "r1", "gp_weight", "clip")}
    s = Session(check_settings(biggest))
    held = 0
    for sd in (s.gan.state_dict()["G"], s.gan.state_dict()["D"]):
        held += sum(a.nbytes for a in sd.values())
    for opt in (s.gan.opt_g, s.gan.opt_d):
        held += sum(v.nbytes for st in opt.state for v in st.values() if hasattr(v, "nbytes"))
    held += s.z_shown.data.nbytes + s.z_quality.data.nbytes + s.real.nbytes
    assert 1e6 < held < 64e6
    assert lab.MAX_SESSIONS * 64e6 <= 0.55e9


def test_the_package_ships_the_pages_files():
    """A wheel (not only an editable install) carries static/: setup.cfg's package_data names it."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    pattern = cfg["options.package_data"]["minigan.lab"].strip()
    shipped = {p.name for p in (ROOT / "minigan" / "lab").glob(pattern)}
    assert shipped == {"index.html", "lab.js", "lab.css"} == {name for name, _ in lab_server.FILES.values()}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the display check is Linux's")
def test_the_door_opens_no_console_browser_where_there_is_no_display():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen([sys.executable, "-m", "minigan.lab"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    first, second = proc.stdout.readline(), proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert first.startswith("minigan lab: http://127.0.0.1:")
    assert second.startswith("no display here: open the address above in a browser")
    assert proc.returncode == 0 and "Traceback" not in err


def _server_settings(server, sid):
    with server.sessions.lock:
        return dict(server.sessions.get(sid).settings)


def _iterations(server, sid):
    with server.sessions.lock:
        return server.sessions.get(sid).iterations


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (.ci/run installs Debian's chromium)")
def test_a_student_in_a_real_browser_loads_a_recipe_is_refused_draws_and_plays(lab_url, tmp_path):
    """Driven through Chromium's DevTools protocol: real clicks, the page's own event handlers."""
    from browser import Browser

    with Browser(CHROMIUM) as b:
        b.open(lab_url.url)
        sid = b.wait("document.body.dataset.session")

        def choose(key, value):
            b.js(f"(() => {{ const e = document.getElementById('set-{key}'); e.value = {json.dumps(value)}; "
                 "e.dispatchEvent(new Event('change')); })()")

        # A loss brings the trainer's recipe for it, on the page and in the game.
        choose("loss", "wgan")
        b.wait("document.getElementById('recipe').textContent.startsWith(\"The trainer's recipe for wgan\")")
        deadline = time.monotonic() + 30
        while _server_settings(lab_url, sid)["loss"] != "wgan" and time.monotonic() < deadline:
            time.sleep(0.05)
        got = _server_settings(lab_url, sid)
        assert (got["loss"], got["g_lr"], got["d_lr"], got["d_steps"], got["clip"]) == ("wgan", 5e-5, 5e-5, 5, 0.01)
        assert float(b.js("document.getElementById('set-g_lr').value")) == 5e-5

        # The code panel shows the trainer's own source, as text.
        assert b.js("document.getElementById('code').textContent").count("def d_step(self") == 1

        # A refused value: its sentence is shown and the form goes back to the game's setting.
        choose("g_lr", "-3")
        message = b.wait("!document.getElementById('error').hidden && document.getElementById('error').textContent")
        assert message == "G learning rate `g_lr` must be a number from 1e-06 to 1, got -3."
        b.wait("document.getElementById('set-g_lr').value !== '-3'")
        assert float(b.js("document.getElementById('set-g_lr').value")) == 5e-5
        assert _server_settings(lab_url, sid)["g_lr"] == 5e-5

        # Drawing: no points yet is said; three clicks on the plot, then a game on them.
        choose("dataset", "drawn")
        assert "the drawn set has no points yet" in b.wait("document.getElementById('error').textContent")
        left, top, w, h = b.js("(() => { const r = document.getElementById('data').getBoundingClientRect(); "
                               "return [r.left, r.top, r.width, r.height]; })()")
        for fx, fy in ((0.25, 0.25), (0.75, 0.75), (0.5, 0.5)):
            b.click_at(left + fx * w, top + fy * h)
        b.wait("document.getElementById('n-drawn').textContent === '3'", timeout=10)
        b.js("document.getElementById('train-drawn').click()")
        deadline = time.monotonic() + 30
        while _server_settings(lab_url, sid)["dataset"] != "drawn" and time.monotonic() < deadline:
            time.sleep(0.05)
        np.testing.assert_allclose(_server_settings(lab_url, sid)["points"],
                                   [[-0.75, 0.75], [0.75, -0.75], [0, 0]], atol=0.02)
        b.wait("document.getElementById('error').hidden && document.body.dataset.iterations === '0'")

        # Play and pause, fast, five times, and play: one loop plays, at the page's pace.
        for _ in range(11):
            b.js("document.getElementById('play').click()")
        assert b.js("document.getElementById('play').textContent") == "❚❚ pause"
        time.sleep(1.5)
        first, t0 = _iterations(lab_url, sid), time.monotonic()
        time.sleep(2.0)
        rate = (_iterations(lab_url, sid) - first) / (time.monotonic() - t0)
        assert 0 < rate <= 5 * 10 * 1.4  # 5 iterations a frame, a frame per 100 ms: at most ~50 a second
        b.js("document.getElementById('play').click()")
        # Paused: once the frame on its way has landed, nothing moves (a second loop would keep stepping).
        deadline, last = time.monotonic() + 20, -1
        while time.monotonic() < deadline:
            now = _iterations(lab_url, sid)
            if now == last:
                break
            last = now
            time.sleep(0.5)
        time.sleep(1.0)
        assert _iterations(lab_url, sid) == last
        b.screenshot(tmp_path / "drawn.png")
    assert (tmp_path / "drawn.png").stat().st_size > 10_000


def test_the_door_restarts_at_once_on_the_port_it_just_left():
    """The last lab's closing connections (TIME_WAIT) do not hold its --port."""
    proc, line = _start()
    port = int(re.search(r":(\d+)/", line).group(1))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/api/options")
    assert conn.getresponse().status == 200
    conn.close()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    again, line = _start("--port", str(port))
    again.send_signal(signal.SIGINT)
    out, err = again.communicate(timeout=30)
    assert line.startswith(f"minigan lab: http://127.0.0.1:{port}/") and again.returncode == 0, err
