"""`make run` stops quietly: Ctrl-C, or the server being told to stop, is not an error."""

from __future__ import annotations

import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="needs make")

# Stands in for the flask command: every step before the server succeeds at once, and the
# server runs until it is stopped, as `flask run` does.
FAKE_FLASK = """\
import os, sys, time
if "run" in sys.argv[1:]:
    open(sys.argv[-1], "w").write(str(os.getpid()))
    try:
        while True:
            time.sleep(0.1)
    except KeyboardInterrupt:
        sys.exit(0)
"""


def _start(tmp_path: Path):
    script = tmp_path / "fake_flask.py"
    script.write_text(FAKE_FLASK)
    ready = tmp_path / "server.pid"
    # The port argument comes last on the run line, so the fake server writes its pid there.
    command = [
        MAKE,
        "--no-print-directory",
        "-C",
        str(ROOT),
        "-o",
        ".venv/.installed",
        "run",
        f"FLASK={sys.executable} {script}",
        f"PORT={ready}",
    ]
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes make
        os.execv(MAKE, command)  # noqa: S606 - a fixed command, no shell
    return pid, fd, ready


def _read(fd: int, until, seconds: float = 30) -> bytes:
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end and not until(out):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out


def _stop(tmp_path: Path, how: str) -> tuple[int, str]:
    pid, fd, ready = _start(tmp_path)
    out = _read(fd, lambda _: ready.exists() and ready.read_text())
    assert ready.exists(), out.decode(errors="replace")
    if how == "ctrl-c":
        os.write(fd, b"\x03")
    else:
        os.kill(int(ready.read_text()), signal.SIGTERM)
    out += _read(fd, lambda _: False, seconds=3)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


@pytest.mark.parametrize("how", ["ctrl-c", "server stopped"])
def test_stopping_make_run_is_not_an_error(tmp_path, how):
    code, out = _stop(tmp_path, how)
    assert "make: ***" not in out
    assert "Error 143" not in out and "Interrupt" not in out
    if how == "server stopped":
        assert code == 0


def test_a_server_that_fails_still_fails_make_run(tmp_path):
    script = tmp_path / "fake_flask.py"
    script.write_text('import sys\nif "run" in sys.argv[1:]:\n    sys.exit(1)\n')
    result = subprocess.run(  # noqa: S603 - a fixed command, no shell
        [
            MAKE,
            "--no-print-directory",
            "-C",
            str(ROOT),
            "-o",
            ".venv/.installed",
            "run",
            f"FLASK={sys.executable} {script}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Error 1" in result.stderr
