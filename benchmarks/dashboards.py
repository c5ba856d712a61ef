"""The dashboards at national scale: ``make bench`` (after the sign-in timings).

Fills a database of its own with ``flask demo scale`` data, then prints:

* the partnership dashboard's time against the raw SQL aggregates it needs (goal: 2× or
  less), at ``BENCH_TENANTS`` members (default 400, the national size: about 2 million
  figures, filled in some 7 minutes on two busy cores; ``BENCH_TENANTS=40`` for a quick
  run) and ``BENCH_YEARS`` years (default 10);
* the organisation's home page throughput against a bare Flask page (in process; the
  load test in benchmarks/throughput.py then measures it under gunicorn too).

``BENCH_DATABASE_URL`` names an empty database to fill instead of a temporary SQLite file.
For PostgreSQL it is the schema owner's address (``postgresql://postgres@127.0.0.1/bench``,
say): the portal refuses to serve through a role that row-level security does not bind, so
the bench makes the application's own role (:data:`APP_ROLE`: no superuser, no BYPASSRLS)
and serves through it, as in production, and runs the migrations and the raw SQL as the
owner, which reads every member's rows.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, make_url, text

PASSWORD = "benchmark-password-1"  # noqa: S105 - a throwaway database
APP_ROLE = "portal_bench_app"

# What the dashboard needs, as plain SQL: every member's releases of the partnership's
# measures, actions by joint aim and status, and the members' community profiles.
RAW_AGGREGATES = {
    "releases": """
        SELECT r.tenant_id, r.definition_id, r.period, r.version, r.threshold, r.rounding,
               r.tables
        FROM figure_release r JOIN partnership_member m ON m.tenant_id = r.tenant_id
        WHERE m.partnership_id = :p AND r.definition_id IN (
            SELECT id FROM measure_definition
            WHERE unit = 'count' AND (partnership_id IS NULL OR partnership_id = :p))
        ORDER BY r.version""",
    "actions by aim and status": """
        SELECT l.joint_aim_id, a.status, count(*)
        FROM action_joint_aim l JOIN action a ON a.id = l.action_id
        JOIN partnership_member m ON m.tenant_id = l.tenant_id
        WHERE m.partnership_id = :p GROUP BY l.joint_aim_id, a.status""",
    "community profiles": """
        SELECT f.tenant_id, f.profile_id, f.characteristic, f.category, sum(f.value)
        FROM population_figure f JOIN partnership_member m ON m.tenant_id = f.tenant_id
        WHERE m.partnership_id = :p
        GROUP BY f.tenant_id, f.profile_id, f.characteristic, f.category""",
}


def _median_ms(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _per_second(fn, seconds: float = 2.0, at_least: int = 5) -> float:
    fn()
    done, start = 0, time.perf_counter()
    while done < at_least or time.perf_counter() - start < seconds:
        fn()
        done += 1
    return done / (time.perf_counter() - start)


def _database(url: str) -> tuple[str, dict]:
    """The address the portal serves through, and its settings for the roles: for
    PostgreSQL the application's own role, made (or reused) here, with ``url`` as the
    owner's for the migrations."""
    owner = make_url(url)
    if not owner.drivername.startswith("postgres"):
        return url, {}
    owner = owner.set(drivername="postgresql+psycopg")
    with create_engine(owner, isolation_level="AUTOCOMMIT").connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}
        ).first()
        if not exists:
            connection.execute(
                text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB")
            )
    app = owner.set(username=APP_ROLE, password=None)
    return app.render_as_string(hide_password=False), {
        "MIGRATION_DATABASE_URI": owner.render_as_string(hide_password=False),
        "DATABASE_APP_ROLE": APP_ROLE,
    }


def run(workdir: Path) -> str:
    """Fill the scale database, print the figures, and return the database's address (the
    load test then measures a member's home page on it)."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.models import PartnershipGrant, TenantGrant, User
    from portal.auth.services import hash_password
    from portal.dashboards import scale
    from portal.extensions import db
    from portal.partners.models import Partnership, Tenant

    tenants = int(os.environ.get("BENCH_TENANTS", "400"))
    years = int(os.environ.get("BENCH_YEARS", "10"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'scale.sqlite3'}"
    url, roles = _database(url)
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "PORTAL_DEVELOPMENT": True,
            "SQLALCHEMY_DATABASE_URI": url,
            **roles,
            "SESSION_COOKIE_SECURE": False,
            "LOGIN_ADDRESS_LIMIT": "100000 per minute",
            "LOGIN_FAILURE_LIMIT": "100000 per minute",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        scale.check_database(allow_existing=False)
        started = time.perf_counter()
        for line in scale.fill(tenants, years):
            print(f"  {line}")
        print(f"  filled in {time.perf_counter() - started:.0f} s")
        partnership = db.session.scalar(
            db.select(Partnership).where(Partnership.slug == scale.PARTNERSHIP_SLUG)
        )
        member = db.session.scalar(db.select(Tenant).where(Tenant.slug == "scale-0001"))
        password_hash = hash_password(PASSWORD)
        lead = User(email="lead@scale.bench", name="Bench lead", password_hash=password_hash)
        lead.partnership_grants.append(PartnershipGrant(partnership=partnership, role="lead"))
        officer = User(
            email="officer@scale.bench", name="Bench officer", password_hash=password_hash
        )
        officer.tenant_grants.append(TenantGrant(tenant=member, role="officer"))
        db.session.add_all([lead, officer])
        db.session.commit()
        partnership_id = partnership.id
        engine = create_engine(roles.get("MIGRATION_DATABASE_URI") or url)

    def signed_in(email: str):
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        return client

    lead_client = signed_in("lead@scale.bench")
    path = f"/p/{scale.PARTNERSHIP_SLUG}/"
    started = time.perf_counter()
    assert lead_client.get(path).status_code == 200
    # The first view in a process reads every release in force; later ones only which.
    first_ms = (time.perf_counter() - started) * 1000
    dashboard_ms = _median_ms(lambda: lead_client.get(path), 5)

    def raw() -> None:
        with engine.connect() as connection:
            for name, sql in RAW_AGGREGATES.items():
                rows = connection.execute(text(sql), {"p": partnership_id}).all()
                if name == "releases":
                    # The released tables are JSON: reading their figures means decoding
                    # them, whoever reads them (PostgreSQL's driver has decoded them already).
                    for row in rows:
                        if isinstance(row.tables, str):
                            json.loads(row.tables)

    raw_ms = _median_ms(raw, 5)

    officer_client = signed_in("officer@scale.bench")
    home = "/t/scale-0001/"
    assert officer_client.get(home).status_code == 200
    home_rps = _per_second(lambda: officer_client.get(home))

    bare = Flask("bare")
    bare.add_url_rule("/", "bare", lambda: "<!doctype html><title>bare</title><p>bare</p>")
    bare_client = bare.test_client()
    bare_rps = _per_second(lambda: bare_client.get("/"))

    print(f"\nDashboards at {tenants} members and {years} years ({engine.dialect.name})")
    print(f"partnership dashboard, first view in a process   {first_ms:9.1f} ms")
    print(f"partnership dashboard (the lead's home), median  {dashboard_ms:9.1f} ms")
    print(f"the raw SQL aggregates it needs, median          {raw_ms:9.1f} ms")
    print(
        f"partnership dashboard ÷ raw SQL                  {dashboard_ms / raw_ms:9.1f} ×"
        "  (goal: 2× or less)"
    )
    print(f"a member's home (scale-0001), in process         {home_rps:9.0f} requests/s")
    print(f"bare Flask page, in process                      {bare_rps:9.0f} requests/s")
    print(
        f"member's home ÷ bare Flask                       {home_rps / bare_rps * 100:9.1f} %"
        "  (under gunicorn below)"
    )
    return url
