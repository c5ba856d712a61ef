"""Signed-in pages under load: the portal under gunicorn against bare Flask, same run.

Both servers run with the same number of gunicorn workers on this machine; wrk drives each
with the same number of connections. Throughput is printed with its share of bare Flask's,
so figures from a busy or slow machine still compare. wrk comes from Debian
(``apt-get install wrk``); without it this part says so and is skipped.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

PASSWORD = "benchmark-password-1"  # noqa: S105 - a throwaway database
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
# Each page is driven this long first, unmeasured: every worker has then imported the app
# (which takes seconds) and answered the page once, so the figures are of a running server.
WARM_UP = os.environ.get("BENCH_WARM_UP", "3s")
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not start")


@contextmanager
def _gunicorn(app: str, env: dict[str, str], log):
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
        stderr=log,
    )
    try:
        _wait_for(port)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _session_cookie(port: int, email: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    opener.open(f"http://127.0.0.1:{port}/login", data=body.encode())
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _wrk(url: str, cookie: str | None = None) -> dict[str, float]:
    warm = _read_wrk(_run_wrk(url, cookie, WARM_UP))
    figures = _read_wrk(_run_wrk(url, cookie, DURATION))
    # Answers wrk received, warm-up included (it stops waiting for those still in flight).
    figures["served"] = warm["requests"] + figures["requests"]
    return figures


def _run_wrk(url: str, cookie: str | None, duration: str) -> str:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603


def _read_wrk(out: str) -> dict[str, float]:
    figures = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }
    for name in ("50", "99"):
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", out).groups()
        figures[f"p{name}"] = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    figures["errors"] = int(non_2xx.group(1)) if non_2xx else 0
    return figures


def main(scale_url: str | None = None) -> None:
    """``scale_url``: a database filled by ``flask demo scale`` (benchmarks/dashboards.py),
    with ``officer@scale.bench``: its member's home page is measured under load too."""
    if shutil.which("wrk") is None:
        print("pages under load: skipped (wrk is not installed: apt-get install wrk)")
        return
    workdir = Path(tempfile.mkdtemp(prefix="portal-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / 'load.sqlite3'}",
        "PORTAL_INSTANCE_PATH": str(workdir),
        "SECRET_KEY": "load-benchmark",
        "PORTAL_DEMO_PASSWORD": PASSWORD,
        "PORTAL_INSECURE_COOKIES": "1",
        # As `make run`: the demonstration accounts may sign in.
        "PORTAL_DEVELOPMENT": "1",
        "PORTAL_BASE_URL": "http://127.0.0.1",
        "FLASK_APP": "wsgi.py",
    }
    for command in (["db", "upgrade"], ["tenants", "sync"], ["demo", "load"]):
        subprocess.run(  # noqa: S603
            [str(BIN / "flask"), *command], cwd=ROOT, env=env, check=True, capture_output=True
        )

    rows = []
    log = (workdir / "gunicorn.log").open("w")
    with _gunicorn("benchmarks.bare:app", env, log) as port:
        bare = _wrk(f"http://127.0.0.1:{port}/")
        rows.append(("bare Flask", bare))
    with _gunicorn("wsgi:app", env, log) as port:
        cookie = _session_cookie(port, "officer@sevenoaks.demo")
        base = f"http://127.0.0.1:{port}"
        rows.append(("Sevenoaks officer's home", _wrk(f"{base}/t/sevenoaks/", cookie)))
        # Every answer is a 404 here, which wrk counts as an error: not one to report.
        not_found = {**_wrk(f"{base}/t/sevenoaks/nowhere", cookie), "errors": None}
        rows.append(("a 404 for a signed-in user", not_found))
        rows.append(("GET /healthz", _wrk(f"http://127.0.0.1:{port}/healthz")))
    if scale_url:
        with _gunicorn("wsgi:app", {**env, "DATABASE_URL": scale_url}, log) as port:
            cookie = _session_cookie(port, "officer@scale.bench")
            url = f"http://127.0.0.1:{port}/t/scale-0001/"
            rows.append(("a member's home at scale", _wrk(url, cookie)))

    print(
        f"\npages under load: gunicorn with {WORKERS} workers, {CONNECTIONS} connections, "
        f"{DURATION} each (after {WARM_UP} unmeasured), SQLite"
    )
    width = max(len(label) for label, _ in rows)
    print(f"{'page'.ljust(width)}  req/s     p50 ms  p99 ms  share of bare Flask  errors")
    for label, f in rows:
        share = f["rps"] / bare["rps"] * 100
        print(
            f"{label.ljust(width)}  {f['rps']:8.0f}  {f['p50']:6.1f}  {f['p99']:6.1f}  "
            f"{share:17.1f} %  {'n/a' if f['errors'] is None else f['errors']:>6}"
        )
    home = dict(rows)["Sevenoaks officer's home"]
    print(
        f"Sevenoaks officer's home: {home['rps'] / bare['rps'] * 100:.1f} % of bare Flask "
        f"(goal: 15 % or more), p99 {home['p99']:.1f} ms (goal: 50 ms or less)"
    )
    # Its views are written behind the requests: all of them, once the servers stopped.
    recorded = _views_recorded(workdir / "load.sqlite3")
    missing = home["served"] - recorded
    print(
        f"its views in the audit trail: {recorded} for {home['served']} pages answered "
        + (f"({missing} missing)" if missing > 0 else "(every one recorded)")
    )


def _views_recorded(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'incident.statistics_viewed'"
        ).fetchone()
    return count


if __name__ == "__main__":
    main()
