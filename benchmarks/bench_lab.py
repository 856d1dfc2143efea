"""How fast the lab plays: iterations per second of its default game on ring8, through its JSON API,
with PyTorch's bare iteration of the same MLPs beside it, in one run on this machine.

    python benchmarks/bench_lab.py [--seconds 10] [--threads 2] [--no-torch] [--no-browser] [--quick]

Rows (each measured for ``--seconds``, after a warm-up):

- ``GAN.train_step`` alone: the lab's default GAN (built by its session), no server, no views;
- PyTorch, bare: the same two MLPs (same weights), Adam, batch and loss, one iteration = one D step
  and one G step, no server;
- the API, as fast as it answers: ``POST /step`` with ``count`` = 1, 5 (the page's default) or 20
  iterations; every answer carries the whole state the page draws (D's field, the samples, their
  arrows, G's map of z, the history, the scores), so its cost is in the figure;
- the API at the page's pace: 5 iterations a request and a frame every 100 ms, as ``lab.js`` asks;
- a real browser: headless Chromium plays the page for ``--seconds`` of wall time (drawing
  included), at the page's default 5 iterations a frame and at its largest, 50; the iterations are
  counted by the server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="how long each row is measured")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="BLAS threads (default: every core)")
    p.add_argument("--no-torch", action="store_true", help="leave the PyTorch row out")
    p.add_argument("--no-browser", action="store_true", help="leave the Chromium row out")
    p.add_argument("--quick", action="store_true", help="0.5 s a row (for the test that keeps this script running)")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds = 0.5
    return args


def _timed(fn, seconds: float) -> tuple[int, float]:
    """Call fn() (which returns iterations done) until ``seconds`` have passed: (iterations, seconds)."""
    fn()  # warm-up
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        done += fn()
    return done, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    from benchmarks import harness  # imports no NumPy: the thread counts can still be set

    os.environ.update(harness.thread_env(args.threads))  # before NumPy (and PyTorch) load their thread pools
    import json

    from minigan.lab import server as lab_server
    from minigan.lab import session as lab

    settings = lab.check_settings({})
    rows: list[tuple[str, int, float]] = []

    s = lab.Session(settings)
    rows.append(("GAN.train_step alone (no server, no views)", *_timed(lambda: s.step("iteration", 1),
                                                                          args.seconds)))

    if not args.no_torch and harness.have_torch():
        rows.append(("PyTorch, the same MLPs, bare iteration", *_timed(_torch_iteration(s, args.threads),
                                                                       args.seconds)))
    else:
        print("PyTorch is not installed (or --no-torch): its row is left out.")

    server = lab_server.make_server("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    import http.client

    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)

    def post(path: str, body: dict) -> dict:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        out = json.loads(res.read())
        if res.status >= 300:
            raise SystemExit(f"the lab answered {res.status}: {out.get('error')}")
        return out

    sid = post("/api/session", {"settings": {}})["session"]
    payload = 0
    for count in (1, 5, 20):
        def request(count=count):
            nonlocal payload
            state = post(f"/api/session/{sid}/step", {"kind": "iteration", "count": count})
            payload = max(payload, len(json.dumps(state)))
            return count
        rows.append((f"the API, {count} per request, as fast as it answers", *_timed(request, args.seconds)))

    def paced():
        t0 = time.perf_counter()
        post(f"/api/session/{sid}/step", {"kind": "iteration", "count": 5})
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0)))
        return 5
    rows.append(("the API at the page's pace (5 per frame, a frame per 100 ms)", *_timed(paced, args.seconds)))

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium and not args.no_browser:
        for speed in (5, 50):
            rows.append((f"headless Chromium playing the page, {speed} per frame (drawing included)",
                         *_browser(chromium, server, args.seconds, speed)))
    else:
        print("Chromium is not installed (or --no-browser): the browser row is left out.")
    server.shutdown()

    print(f"\nThe lab's default game (ring8, G and D {settings['g_depth']} x {settings['g_width']}, z in "
          f"{settings['z_dim']}-D, batch {settings['batch_size']}, {settings['loss']}), {args.threads} BLAS "
          f"thread(s), {args.seconds:g} s a row; one state answer is up to {payload / 1024:.0f} KiB of JSON.\n")
    print("| path | iterations | seconds | iterations/s |")
    print("|---|---|---|---|")
    for name, done, secs in rows:
        print(f"| {name} | {done} | {secs:.2f} | {done / secs:.1f} |")
    return 0


def _torch_iteration(s, threads: int):
    """One bare iteration of the session's GAN in PyTorch: a D step and a G step, BCE with logits."""
    import numpy as np
    import torch

    from benchmarks.bench_train import torch_twin
    from minigan.data import sample

    torch.set_num_threads(threads)
    G, D = torch_twin(s.gan.G.body), torch_twin(s.gan.D.body)
    cfg = s.config
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]))
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    rng = np.random.default_rng(0)
    n, zd = cfg["batch_size"], cfg["z_dim"]

    def iteration() -> int:
        real = torch.from_numpy(sample("ring8", n, rng))
        with torch.no_grad():
            fake = G(torch.from_numpy(rng.standard_normal((n, zd)).astype(np.float32)))
        r, f = D(real), D(fake)
        loss = bce(r, torch.ones_like(r)) + bce(f, torch.zeros_like(f))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        f = D(G(torch.from_numpy(rng.standard_normal((n, zd)).astype(np.float32))))
        loss = bce(f, torch.ones_like(f))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return 1

    return iteration


def _browser(chromium: str, server, seconds: float, speed: int) -> tuple[int, float]:
    """Chromium plays the page (``speed`` iterations a frame) for ``seconds`` of wall time; the server counts
    the iterations of its session."""
    before = set(server.sessions._sessions)
    proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1200",
                             "--remote-debugging-port=0", f"{server.url}?play=1&speed={speed}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        new = set()
        t_wait = time.perf_counter()
        while not new and time.perf_counter() - t_wait < 60:  # the page has made its session
            time.sleep(0.05)
            with server.sessions.lock:
                new = set(server.sessions._sessions) - before
        (sid,) = new
        with server.sessions.lock:
            first = server.sessions._sessions[sid].iterations
        t0 = time.perf_counter()
        time.sleep(seconds)
        with server.sessions.lock:
            done = server.sessions._sessions[sid].iterations - first
        return done, time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
