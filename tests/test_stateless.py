"""The app keeps no state on an app server's disk, so a second server sees everything.

A whole journey (importing an action plan, adding progress with an evidence file,
downloading it, then deleting the action) runs through the pages; afterwards nothing may
have appeared or changed on disk, in the instance folder or in the project, apart from
the SQLite database and the development mail outbox.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from portal.actions.models import Action, Objective
from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.helpers import csrf_token, tenant

ROOT = Path(__file__).resolve().parent.parent
PLAN = "/t/maidstone/plan"
# Caches written by Python and the tools, not by the portal.
NOT_THE_APPS = {".git", "__pycache__", ".pytest_cache", ".ruff_cache"}


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under a folder, with a file's size and modification time."""
    found = {}
    for path in folder.rglob("*"):
        if NOT_THE_APPS & set(path.relative_to(folder).parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            stat = path.stat()
            found[str(path)] = (stat.st_size, stat.st_mtime_ns)
        elif path.is_dir():
            found[f"{path}/"] = (0, 0)
    return found


def _allowed(path: str, database: Path | None, outbox: Path) -> bool:
    return bool(database and path.startswith(str(database))) or path.startswith(f"{outbox}/")


def test_a_whole_journey_writes_nothing_to_disk_but_the_database(login_as, client, app):
    instance = Path(app.instance_path)
    with app.app_context():
        url = db.engine.url
    # SQLite's file (and its -wal and -shm files); PostgreSQL has none.
    database = Path(url.database) if url.get_backend_name() == "sqlite" else None
    outbox = instance / "outbox"
    folders = [instance, ROOT]
    before = {folder: _files(folder) for folder in folders}

    def nothing_written(step: str) -> None:
        for folder in folders:
            after = _files(folder)
            allowed = {p for p in after if _allowed(p, database, outbox)}
            new = sorted(set(after) - set(before[folder]) - allowed)
            changed = sorted(
                p
                for p in set(after) & set(before[folder]) - allowed
                if after[p] != before[folder][p]
            )
            assert new == [], f"{step}: written under {folder}: {new}"
            assert changed == [], f"{step}: changed under {folder}: {changed}"

    login_as("officer", "maidstone")
    # Import: upload, columns, preview, import.
    plan = (
        b"Objective,Action,Lead officer,Target date,Status\n"
        b"Stateless servers,Keep files in the database,Data Officer,31 March 2027,On target\n"
        b",Check nothing is written to disk,Data Officer,2027,Not started\n"
    )
    upload = client.post(
        f"{PLAN}/import",
        data={
            "csrf_token": csrf_token(client, f"{PLAN}/import"),
            "spreadsheet": (io.BytesIO(plan), "plan.csv"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    nothing_written("after the upload")
    token = re.search(r"/import/([0-9a-f]{32})/columns$", upload.headers["Location"]).group(1)
    columns = f"{PLAN}/import/{token}/columns"
    html = client.get(columns).get_data(as_text=True)
    data = {
        name: value
        for name, value in re.findall(
            r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', html, re.S
        )
    }
    data.update({"new_objective": "Imported actions", "csrf_token": csrf_token(client, columns)})
    assert client.post(columns, data=data).status_code == 302
    preview = f"{PLAN}/import/{token}/preview"
    assert "2 rows: 2 new" in client.get(preview).get_data(as_text=True)
    nothing_written("after choosing the columns")
    assert client.post(preview, data={"csrf_token": csrf_token(client, preview)}).status_code == 302

    with app.app_context(), tenant_scope(tenant("maidstone")):
        action_number = db.session.scalar(
            select(Action.number)
            .join(Objective)
            .where(Objective.title == "Stateless servers", Action.task.like("Keep files%"))
        )
    assert action_number is not None

    # Progress with an evidence file (over the size Werkzeug keeps in memory while parsing
    # a form), then its download.
    evidence = b"%PDF-1.7\n" + b"evidence " * 100_000
    progress = f"{PLAN}/actions/{action_number}/progress"
    response = client.post(
        progress,
        data={
            "date": ["3", "2", "2026"],
            "narrative": "Files now live in the database.",
            "status": "on-target",
            "csrf_token": csrf_token(client, progress),
            "evidence": (io.BytesIO(evidence), "Evidence.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    nothing_written("after the evidence upload")
    page = client.get(f"{PLAN}/actions/{action_number}").get_data(as_text=True)
    update_id = re.search(rf"{PLAN}/evidence/(\d+)", page).group(1)
    download = client.get(f"{PLAN}/evidence/{update_id}")
    assert download.status_code == 200 and download.data == evidence
    nothing_written("after the download")

    # And the action goes, with its evidence.
    delete = f"{PLAN}/actions/{action_number}/delete"
    assert client.post(delete, data={"csrf_token": csrf_token(client, delete)}).status_code == 302

    nothing_written("at the end")


# --- evidence kept on disk before this version -------------------------------------------


def _owner_engine(app):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url = app.config.get("MIGRATION_DATABASE_URI") or app.config["SQLALCHEMY_DATABASE_URI"]
    return create_engine(url, poolclass=NullPool)


def _as_tenant(conn, tenant_id: int) -> None:
    """Row-level security binds the schema owner too: say which tenant's rows these are."""
    from sqlalchemy import func

    if conn.dialect.name == "postgresql":
        conn.execute(select(func.set_config("app.tenant_id", str(tenant_id), True)))


def test_the_upgrade_moves_evidence_from_disk_into_the_database_and_back(app):
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import MetaData, Table

    from portal.actions import services
    from portal.actions.models import ProgressUpdate

    big = b"%PDF-1.7\n" + bytes(range(256)) * 2500  # three pieces
    small = b"Notes from the meeting"
    with app.app_context():
        maidstone = tenant("maidstone").id
        with tenant_scope(maidstone):
            action_id = db.session.scalar(select(Action.id).order_by(Action.id))
        db.session.remove()
        db.engine.dispose()
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        before_files = script.get_revision("0014_files").down_revision
        downgrade(revision=before_files)

        folder = Path(app.instance_path) / "evidence" / str(maidstone)
        folder.mkdir(parents=True)
        (folder / "a1b2.pdf").write_bytes(big)
        (folder / "c3d4.txt").write_bytes(small)
        engine = _owner_engine(app)
        try:
            with engine.begin() as conn:
                _as_tenant(conn, maidstone)
                table = Table("progress_update", MetaData(), autoload_with=conn)
                common = {
                    "action_id": action_id,
                    "date": date(2026, 2, 3),
                    "status": "on-target",
                    "evidence_link": "",
                    "created_at": datetime(2026, 2, 3, 10),
                    "tenant_id": maidstone,
                }
                for narrative, disk_name, shown, size in (
                    ("big", "a1b2.pdf", "Report.pdf", len(big)),
                    ("small", "c3d4.txt", "Notes.txt", len(small)),
                    ("lost", "e5f6.pdf", "Lost.pdf", 10),
                ):
                    conn.execute(
                        table.insert().values(
                            narrative=narrative,
                            evidence_file=disk_name,
                            evidence_name=shown,
                            evidence_type="application/pdf",
                            evidence_size=size,
                            **common,
                        )
                    )
        finally:
            engine.dispose()

        upgrade()

        with tenant_scope(maidstone):
            updates = {
                u.narrative: u
                for u in db.session.scalars(
                    select(ProgressUpdate).where(
                        ProgressUpdate.narrative.in_(["big", "small", "lost"])
                    )
                )
            }
            assert services.evidence_content(updates["big"]) == big
            assert services.evidence_content(updates["small"]) == small
            assert updates["big"].evidence_name == "Report.pdf"
            assert updates["big"].has_evidence_file and updates["small"].has_evidence_file
            # A file already missing from disk is no longer offered as a broken link.
            assert not updates["lost"].has_evidence_file
            ids = {name: u.id for name, u in updates.items()}
        db.session.remove()
        db.engine.dispose()

        # Downgrading writes the files back to disk, under new names.
        downgrade(revision=before_files)
        engine = _owner_engine(app)
        try:
            with engine.begin() as conn:
                _as_tenant(conn, maidstone)
                table = Table("progress_update", MetaData(), autoload_with=conn)
                names = dict(
                    conn.execute(
                        select(table.c.id, table.c.evidence_file).where(
                            table.c.id.in_(list(ids.values()))
                        )
                    ).all()
                )
        finally:
            engine.dispose()
        assert (folder / names[ids["big"]]).read_bytes() == big
        assert (folder / names[ids["small"]]).read_bytes() == small
        assert names[ids["lost"]] == ""
        upgrade()
