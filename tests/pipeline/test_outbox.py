"""Notifications go to the outbox in the transaction of what they announce."""

from __future__ import annotations

from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest


def _outbox(conn) -> list[tuple]:
    return conn.execute(
        "SELECT kind, recipient, source_code, load_id, status FROM datawarp.tbl_notifications"
        " ORDER BY notification_id"
    ).fetchall()


def _load(db_url, tmp_path, home, header, rows, period, **entry):
    path = write_csv(tmp_path / f"{period}.csv", header, rows)
    manifest = write_manifest(
        tmp_path, [{"source_code": "ae", "path": path.name, **entry}], period=period
    )
    report, _ = run(db_url, home, manifest)
    return report.outcomes[0]


def _with_new_columns(period: str, count: int):
    rows = provider_rows(period)
    extra = [f"New measure {n}" for n in range(count)]
    return HEADER + extra, [[*row, *range(count)] for row in rows]


def test_a_schema_review_is_in_the_outbox_once_the_load_commits(conn, db_url, tmp_path, home):
    register(conn, "ae")
    conn.commit()
    _load(db_url, tmp_path, home, HEADER, provider_rows("2025-08"), "2025-08")
    header, rows = _with_new_columns("2025-09", 6)

    outcome = _load(db_url, tmp_path, home, header, rows, "2025-09")

    assert outcome.status == "completed"
    assert _outbox(conn) == [("schema_review", "dba", "ae", outcome.load_id, "pending")]


def test_a_rolled_back_load_announces_only_its_failure(conn, db_url, tmp_path, home):
    """Held-back columns would ask for a review, but a failed gate rolls the load back."""
    register(conn, "ae", validation_required=True)
    conn.commit()
    _load(db_url, tmp_path, home, HEADER, provider_rows("2025-08"), "2025-08")
    header, rows = _with_new_columns("2025-09", 6)
    rows.append(rows[0])  # a duplicate key: the duplicate_keys gate fails

    outcome = _load(db_url, tmp_path, home, header, rows, "2025-09", primary_key=["org_code"])

    assert outcome.status == "rolled_back"
    assert _outbox(conn) == [
        ("validation_failed", "owner@nhs.net", "ae", outcome.load_id, "pending")
    ]


def test_a_file_that_cannot_be_read_notifies_its_owner(conn, db_url, tmp_path, home):
    register(conn, "ae")
    conn.commit()
    (tmp_path / "broken.xlsx").write_bytes(b"<html><body>Not found</body></html>")
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": "broken.xlsx"}])

    report, notifications = run(db_url, home, manifest)

    (outcome,) = report.outcomes
    assert outcome.status == "failed" and [n.kind for n in notifications] == ["load_failed"]
    assert _outbox(conn) == [("load_failed", "owner@nhs.net", "ae", outcome.load_id, "pending")]
