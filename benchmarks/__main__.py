"""Measure sign-in and page times on a fresh SQLite database with demonstration data.

Prints medians over repeated runs, and ratios against a baseline on the same run, so
figures from a busy machine still compare: ``make bench``.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

PASSWORD = "benchmark-password-1"  # noqa: S105 - a throwaway database


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> str:
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    os.environ.setdefault("PORTAL_INSTANCE_PATH", str(workdir))
    from flask_migrate import upgrade

    from portal import create_app, demo
    from portal.auth.services import hash_password, password_hasher

    app = create_app(
        {
            "SECRET_KEY": "bench",
            "PORTAL_DEVELOPMENT": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "SESSION_COOKIE_SECURE": False,
            "LOGIN_ADDRESS_LIMIT": "100000 per minute",
            "LOGIN_FAILURE_LIMIT": "100000 per minute",
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        list(demo.load(PASSWORD))
        hasher = password_hasher()
        encoded = hash_password(PASSWORD)
        hash_ms = _median_ms(lambda: hasher.verify(encoded, PASSWORD), 10)
    print(
        f"argon2id parameters: m={hasher.memory_cost} KiB, t={hasher.time_cost}, "
        f"p={hasher.parallelism}"
    )

    token_re = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def signed_in(email: str):
        client = app.test_client()
        token = token_re.search(client.get("/login").get_data(as_text=True)).group(1)
        response = client.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302, response.status_code
        return client

    rows = [("password check (argon2id verify)", hash_ms)]
    rows.append(
        (
            "sign in (page, form, check, session)",
            _median_ms(lambda: signed_in("officer@sevenoaks.demo"), 10),
        )
    )
    client = signed_in("admin@west-kent-housing.demo")
    health_ms = _median_ms(lambda: client.get("/healthz"), 50)
    rows.append(("GET /healthz (baseline)", health_ms))
    for label, path in [
        ("GET organisation home", "/t/west-kent-housing/"),
        ("GET commitments (11 rows)", "/t/west-kent-housing/plan/commitments"),
        ("GET people (5 rows)", "/t/west-kent-housing/admin/people"),
        ("GET audit trail", "/t/west-kent-housing/admin/audit"),
    ]:
        assert client.get(path).status_code == 200, path
        rows.append((label, _median_ms(lambda p=path: client.get(p), 50)))

    width = max(len(label) for label, _ in rows)
    print(f"{'measure'.ljust(width)}  median ms  × /healthz")
    for label, ms in rows:
        print(f"{label.ljust(width)}  {ms:9.2f}  {ms / health_ms:9.1f}")

    from benchmarks import reports

    reports.report(app)

    from benchmarks import dashboards

    print("\nFilling a database of its own with synthetic scale data …")
    return dashboards.run(workdir)


if __name__ == "__main__":
    scale_url = main()
    from benchmarks import throughput

    throughput.main(scale_url=scale_url)
